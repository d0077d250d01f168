"""Helpers of Wizwatch's own audit rules (not part of Panther's helper set)."""

_last = [None, None]  # (event, principal): the rule functions of one alert ask several times


def audit_principal(event):
    """(kind, id, name) of whoever the entry is about.

    Failed logins often carry neither ``user`` nor ``serviceAccount``; the attempted identity is
    then only in ``actionParameters`` (``userEmail`` / ``userID``, as in Wiz's failed-login
    entries), so fall back to those rather than lumping every unknown principal together.
    """
    if _last[0] is event:
        return _last[1]
    found = _principal(event)
    _last[0], _last[1] = event, found
    return found


def _principal(event):
    # wiz_actor's choice (user, else service account), without building its dict.
    who = event.get("user")
    kind = "user"
    if who is None:
        who = event.get("serviceAccount")
        kind = "serviceaccount"
    if who is not None:
        name = who.get("name")
        return kind, who.get("id") or name, name
    params = event.get("actionParameters") or {}
    if hasattr(params, "get"):
        email = params.get("userEmail")
        user_id = params.get("userID")
        if email or user_id:
            return "attempted", email or user_id, email or user_id
    return "unknown", "<unknown principal>", "<unknown principal>"


def principal_label(event):
    kind, _, name = audit_principal(event)
    return f"{kind} [{name}]"
