from wizwatch_audit_helpers import audit_principal


def rule(event):
    return event.get("action") == "Login" and event.get("status") == "FAILED"


def title(event):
    kind, _, name = audit_principal(event)
    return f"Wiz: repeated failed logins for {kind} [{name}]"


def dedup(event):
    kind, principal_id, _ = audit_principal(event)
    return f"{kind}:{principal_id}"


def unique(event):
    # Count failed attempts (entries), not principals: the entry id is unique per attempt.
    return event.get("id")


def alert_context(event):
    kind, principal_id, name = audit_principal(event)
    params = event.get("actionParameters") or {}
    return {
        "principal_type": kind,
        "principal_id": principal_id,
        "principal_name": name,
        "source_ip": event.get("sourceIP"),
        "error": params.get("error") if hasattr(params, "get") else None,
        "user_agent": event.get("userAgent"),
    }
