from wizwatch_vuln_helpers import asset_label, finding_context, finding_time

ACTIVE = ("OPEN", "IN_PROGRESS")


def rule(event):
    if event.get("status") not in ACTIVE:
        return False
    resolved = finding_time(event, "resolvedAt")
    detected = finding_time(event, "lastDetectedAt")
    return resolved is not None and detected is not None and detected > resolved


def title(event):
    return f"Wiz: {event.get('name')} re-opened on {asset_label(event)} after being resolved"


def dedup(event):
    return f"{event.get('name')}:{(event.get('vulnerableAsset') or {}).get('id')}"


def severity(event):
    if event.get("hasCisaKevExploit") or event.get("hasExploit"):
        return "HIGH"
    return "DEFAULT"


def alert_context(event):
    context = finding_context(event)
    context["resolved_at"] = event.get("resolvedAt")
    context["last_detected_at"] = event.get("lastDetectedAt")
    context["resolution_reason"] = event.get("resolutionReason")
    return context
