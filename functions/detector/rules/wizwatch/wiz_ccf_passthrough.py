from wizwatch_ccf_helpers import finding_context, is_live_failure, remediation, resource_label, rule_name

#: Wiz severities that are not worth an alert of their own (Wiz's NONE / INFORMATIONAL).
QUIET = ("NONE", "INFORMATIONAL", "INFO")


def rule(event):
    return is_live_failure(event) and event.get("severity") not in QUIET


def title(event):
    return f"[Wiz Misconfiguration]: {rule_name(event)} on {resource_label(event)}"


def severity(event):
    return event.get("severity") or "DEFAULT"


def dedup(event):
    # Low-severity findings group per Wiz rule (one alert per rule and period, like Panther's
    # Wiz.Alert.Passthrough groups low issues per control); the rest one alert per finding.
    if event.get("severity") == "LOW":
        return f"rule:{(event.get('rule') or {}).get('id') or rule_name(event)}"
    return f"finding:{event.get('id')}"


def runbook(event):
    return remediation(event)


def alert_context(event):
    return finding_context(event)
