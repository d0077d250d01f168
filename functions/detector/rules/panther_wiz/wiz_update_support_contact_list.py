from panther_wiz_helpers import wiz_alert_context, wiz_audit_title, wiz_success

SUSPICIOUS_ACTIONS = [
    "UpdateSupportContactList",
]


def rule(event):
    if not wiz_success(event):
        return False
    return event.get("action", "ACTION_NOT_FOUND") in SUSPICIOUS_ACTIONS


def title(event):
    return wiz_audit_title(event)


def dedup(event):
    return event.get("id")


def alert_context(event):
    return wiz_alert_context(event)
