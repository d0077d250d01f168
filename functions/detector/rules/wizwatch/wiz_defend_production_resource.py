from wizwatch_defend_helpers import (
    detection_context,
    detection_severity,
    detection_title,
    primary_resource,
    production_evidence,
    raise_severity,
    resource_label,
    threat_or_detection_id,
)


def rule(event):
    sev = detection_severity(event)
    if sev is None or sev == "INFO":
        return False
    return bool(production_evidence(event))


def title(event):
    return f"Wiz Defend: {detection_title(event)} on production resource {resource_label(event)}"


def severity(event):
    # A threat on production is one step more urgent than Wiz rates the detection in general.
    return raise_severity(detection_severity(event))


def dedup(event):
    resource = primary_resource(event)
    return f"{threat_or_detection_id(event)}:{resource.get('id') or resource.get('externalId')}"


def alert_context(event):
    return {**detection_context(event), "production_evidence": production_evidence(event)}
