def rule(event):
    return (
        event.deep_get("issue", "status") == "OPEN" and event.deep_get("issue", "severity") != "INFORMATIONAL"
    )


def title(event):
    return f"[Wiz Alert]: {event.deep_get('control', 'name', default='ALERT_NAME_NOT_FOUND')}"


def severity(event):
    return event.deep_get("issue", "severity")


def dedup(event):
    # Low-severity issues group per Wiz control; others get one alert per issue and severity.
    if event.deep_get("issue", "severity") in ("INFO", "LOW"):
        control = event.deep_get("control", "id", default="<NO_ID_FOUND>")
        if control:
            return control
    issue_id = event.deep_get("issue", "id", default="<ISSUE_ID_NOT_FOUND>")
    return issue_id + "_" + event.deep_get("issue", "severity", default="<SEVERITY_NOT_FOUND>")


def description(event):
    return event.deep_get("control", "description", default="<DESCRIPTION_NOT_FOUND>")


def reference(event):
    return issue_url(event) or "DEFAULT"


def alert_context(event):
    return {
        "id": event.deep_get("resource", "id") or "<ID_NOT_FOUND>",
        "type": event.deep_get("resource", "type") or "<TYPE_NOT_FOUND>",
        "name": event.deep_get("resource", "name") or "<NAME_NOT_FOUND>",
    }


def issue_url(event):
    issue_id = event.deep_get("issue", "id")
    return f"https://app.wiz.io/issues#~(issue~'{issue_id})" if issue_id else None
