SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def rule(event):
    return event.get("severity") != "INFORMATIONAL"


def title(event):
    return f"[Wiz Alert]: {event.get('tdrId')}"


def severity(event):
    sev = (event.get("severity", "") or "").upper()
    if sev == "INFORMATIONAL":
        return "INFO"
    return sev if sev in SEVERITIES else "DEFAULT"


def dedup(event):
    # Low-severity detections group per Wiz detection rule; others per threat and severity.
    if event.get("severity") in ("INFO", "INFORMATIONAL", "LOW"):
        detection_rule = str(event.get("tdrId"))
        if detection_rule:
            return detection_rule
    return event.get("threatId") + "_" + event.get("severity", "<SEVERITY_NOT_FOUND>")


def description(event):
    return event.get("description")


def reference(event):
    return issue_url(event) or "DEFAULT"


def alert_context(event):
    return {
        "machine_id": event.deep_get("primaryResource", "externalId", default="<ID_NOT_FOUND>"),
        "machine_type": event.deep_get("primaryResource", "type", default="<TYPE_NOT_FOUND>"),
        "native_type": event.deep_get("primaryResource", "nativeType", default="<TYPE_NOT_FOUND>"),
        "machine_name": event.deep_get("primaryResource", "name", default="<NAME_NOT_FOUND>"),
        "mitre_attack_techniques": event.get("mitreTechniques"),
    }


def issue_url(event):
    issue_id = event.get("id")
    return f"https://app.wiz.io/issues#~(issue~'{issue_id})" if issue_id else None
