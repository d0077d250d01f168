from wizwatch_ccf_helpers import (
    exposure_signal,
    finding_context,
    is_live_failure,
    remediation,
    resource_label,
    rule_name,
)


def rule(event):
    return (
        is_live_failure(event) and event.get("severity") == "CRITICAL" and exposure_signal(event) is not None
    )


def title(event):
    return (
        f"Wiz: critical misconfiguration exposes {resource_label(event)} to the internet: {rule_name(event)}"
    )


def dedup(event):
    return f"{event.get('id')}"


def runbook(event):
    return remediation(event)


def alert_context(event):
    context = finding_context(event)
    context["exposure_signal"] = exposure_signal(event)
    return context
