from wizwatch_defend_helpers import (
    TACTIC_NAMES,
    detection_context,
    detection_severity,
    detection_title,
    primary_resource,
    resource_label,
    tactics,
)

#: The tactics this rule watches: stolen credentials spread an intrusion; impact is the damage.
WATCHED = ("TA0006", "TA0040")


def _hits(event):
    return [ta for ta in tactics(event) if ta in WATCHED]


def rule(event):
    return detection_severity(event) not in (None, "INFO") and bool(_hits(event))


def title(event):
    names = " and ".join(TACTIC_NAMES[ta] for ta in _hits(event))
    return f"Wiz Defend {names}: {detection_title(event)} on {resource_label(event)}"


def severity(event):
    sev = detection_severity(event)
    if "TA0040" in _hits(event) and sev in ("HIGH", "CRITICAL"):
        return "CRITICAL"  # damage under way (destruction, encryption, resource hijacking)
    return "CRITICAL" if sev == "CRITICAL" else "HIGH"


def dedup(event):
    resource = primary_resource(event)
    return f"{'+'.join(_hits(event))}:{resource.get('id') or resource.get('externalId') or event.get('id')}"


def alert_context(event):
    return {
        **detection_context(event),
        "watched_tactics": [f"{ta} {TACTIC_NAMES[ta]}" for ta in _hits(event)],
    }
