from datetime import timedelta

from wizwatch_ccf_helpers import (
    finding_context,
    finding_time,
    is_live_failure,
    remediation,
    resource_label,
    rule_name,
)

#: A finding that turns OPEN at least this long after it was first seen has been through
#: another state in between (Wiz's finding id is stable per rule and resource).
MIN_AGE = timedelta(hours=24)


def rule(event):
    if not is_live_failure(event):
        return False
    first = finding_time(event, "firstSeenAt")
    changed = finding_time(event, "updatedAt")
    return first is not None and changed is not None and changed - first >= MIN_AGE


def title(event):
    return f"Wiz: misconfiguration came back on {resource_label(event)}: {rule_name(event)}"


def dedup(event):
    return f"{event.get('id')}:{event.get('updatedAt')}"


def severity(event):
    return "HIGH" if event.get("severity") in ("HIGH", "CRITICAL") else "DEFAULT"


def runbook(event):
    return remediation(event)


def alert_context(event):
    context = finding_context(event)
    first = finding_time(event, "firstSeenAt")
    changed = finding_time(event, "updatedAt")
    context["days_since_first_seen"] = round((changed - first).total_seconds() / 86400, 1)
    return context
