"""Shared helpers of the Wiz audit rules (same names and behaviour as Panther's
``panther_wiz_helpers``, so rules written for Panther import them unchanged)."""


def wiz_success(event):
    """True only for entries whose status is exactly SUCCESS (FAILED/ACCESS_DENIED are not changes)."""
    return event.get("status", "") == "SUCCESS"


def wiz_actor(event):
    """Who did it: the user if present, else the service account, else unknown."""
    who = event.get("user")
    if who is not None:
        return {"type": "user", "id": who.get("id"), "name": who.get("name")}
    who = event.get("serviceAccount")
    if who is not None:
        return {"type": "serviceaccount", "id": who.get("id"), "name": who.get("name")}
    return {"type": "unknown", "id": "<Unknown ID>", "name": "<Unknown Name>"}


def wiz_alert_context(event):
    """The context every Wiz audit alert carries."""
    return {
        "action": event.get("action", ""),
        "actor": wiz_actor(event),
        "source_ip": event.get("sourceip", ""),
        "event_id": event.get("id", ""),
        "action_parameters": event.get("actionparameters", ""),
    }


def wiz_audit_title(event):
    """``[Wiz]: [<action>] action performed by <actor type> [<actor name>]``."""
    actor = wiz_actor(event)
    return (
        f"[Wiz]: [{event.get('action', 'ACTION_NOT_FOUND')}] action "
        f"performed by {actor.get('type')} [{actor.get('name')}]"
    )
