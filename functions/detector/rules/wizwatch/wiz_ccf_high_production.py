from wizwatch_ccf_helpers import (
    finding_context,
    is_live_failure,
    production_tag,
    remediation,
    resource_label,
    rule_name,
)

SEVERE = ("HIGH", "CRITICAL")


def rule(event):
    return is_live_failure(event) and event.get("severity") in SEVERE and production_tag(event) is not None


def title(event):
    return f"Wiz: {event.get('severity')} misconfiguration on production resource {resource_label(event)}: {rule_name(event)}"


def dedup(event):
    return f"{event.get('id')}"


def severity(event):
    return "HIGH" if event.get("severity") == "CRITICAL" else "DEFAULT"


def runbook(event):
    return remediation(event)


def alert_context(event):
    context = finding_context(event)
    context["production_tag"] = production_tag(event)
    return context
