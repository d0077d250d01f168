from wizwatch_audit_helpers import audit_principal


def rule(event):
    return event.get("status") == "ACCESS_DENIED"


def title(event):
    kind, _, name = audit_principal(event)
    return f"Wiz: burst of ACCESS_DENIED for {kind} [{name}]"


def dedup(event):
    kind, principal_id, _ = audit_principal(event)
    return f"{kind}:{principal_id}"


def unique(event):
    # Distinct denied actions: probing many APIs is the signal, one retried call is not.
    return event.get("action") or "<no action>"


def alert_context(event):
    kind, principal_id, name = audit_principal(event)
    return {
        "principal_type": kind,
        "principal_id": principal_id,
        "principal_name": name,
        "action": event.get("action"),
        "source_ip": event.get("sourceIP"),
        "user_agent": event.get("userAgent"),
    }
