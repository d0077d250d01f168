from panther_wiz_helpers import wiz_alert_context, wiz_audit_title

OPEN_RANGES = {"0.0.0.0/0", "::/0"}
LISTS = ("userAccessAllowedIPs", "serviceAccountAccessAllowedIPs")


def opened_lists(event):
    """The allow-lists of the update that now admit any address."""
    new = event.deep_get("actionParameters", "input", default={}) or {}
    opened = []
    for name in LISTS:
        values = new.get(name) if hasattr(new, "get") else None
        if values and any(str(v).strip() in OPEN_RANGES for v in values):
            opened.append(name)
    return opened


def rule(event):
    if event.get("action") != "UpdateIPRestrictions" or event.get("status") != "SUCCESS":
        return False
    return bool(opened_lists(event))


def title(event):
    return wiz_audit_title(event) + f": {', '.join(opened_lists(event))} now allow any IP"


def dedup(event):
    return event.get("id")


def alert_context(event):
    context = wiz_alert_context(event)
    context["opened_lists"] = opened_lists(event)
    return context
