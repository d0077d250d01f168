from datetime import timedelta

from wizwatch_vuln_helpers import asset_label, finding_context, finding_time, is_internet_exposed

#: A finding counts as new while it was first detected at most this long before its update.
NEW_WITHIN = timedelta(days=3)


def rule(event):
    if event.get("status") != "OPEN" or event.get("hasCisaKevExploit") is not True:
        return False
    if not is_internet_exposed(event):
        return False
    first = finding_time(event, "firstDetectedAt")
    seen = finding_time(event, "updatedAt") or finding_time(event, "lastDetectedAt")
    if first is None or seen is None:
        return True  # cannot tell its age: a KEV on an exposed asset is worth the alert anyway
    return seen - first <= NEW_WITHIN


def title(event):
    return f"Wiz: new {event.get('name')} (CISA KEV, exploited in the wild) on internet-exposed {asset_label(event)}"


def dedup(event):
    return f"{event.get('name')}:{(event.get('vulnerableAsset') or {}).get('id')}"


def severity(event):
    asset = event.get("vulnerableAsset") or {}
    return "CRITICAL" if asset.get("hasWideInternetExposure") else "HIGH"


def reference(event):
    return event.get("portalUrl") or "DEFAULT"


def alert_context(event):
    return finding_context(event)
