"""Helpers of Wizwatch's Wiz.CloudConfigurationFinding rules.

Field meanings follow peers' records (SEKOIA intake-formats, Elastic's pipeline tests): ``status``
is the workflow state (OPEN, IN_PROGRESS, RESOLVED, REJECTED), ``result`` the assessment (FAIL,
PASS, ERROR, NOT_ASSESSED); a misconfiguration that is live now is OPEN and FAIL.
"""

import re
from collections.abc import Mapping

from panther_base_helpers import resolve_timestamp_string

#: Signals, in a finding's own names and categories, that the check is about exposure to the
#: internet (Wiz's configuration findings carry no exposure flag of the resource).
EXPOSURE = re.compile(
    r"public(ly)?[ -]?(access|accessible|read|write|exposed|exposure|ip)|internet|0\.0\.0\.0/0|::/0"
    r"|anonymous|all principals|unrestricted (ingress|inbound|access)|external exposure"
    r"|network exposure|exposed to the world",
    re.IGNORECASE,
)
#: Tag keys and values that mark a production resource (case-insensitive).
ENVIRONMENT_KEYS = ("environment", "env", "stage", "tier", "environment-type", "app-env")
PRODUCTION_VALUES = ("production", "prod", "prd", "live")


def finding_time(event, field):
    """A finding timestamp as an aware datetime (None when absent or unparseable)."""
    return resolve_timestamp_string(event.get(field))


def is_live_failure(event):
    """OPEN and FAIL: the misconfiguration exists now and nobody has taken it on or accepted it."""
    return event.get("status") == "OPEN" and event.get("result") == "FAIL"


def resource_label(event):
    res = event.get("resource") or {}
    return res.get("name") or res.get("providerId") or res.get("id") or "<unknown resource>"


def rule_name(event):
    return (event.get("rule") or {}).get("name") or event.get("name") or "<unknown rule>"


def exposure_signal(event):
    """The text that says this finding is about internet exposure, or None."""
    texts = [event.get("name"), (event.get("rule") or {}).get("name")]
    for sub in event.get("securitySubCategories") or []:
        if isinstance(sub, Mapping):
            texts.append(sub.get("title"))
            texts.append((sub.get("category") or {}).get("name"))
    texts.append((event.get("evidence") or {}).get("currentValue"))
    for text in texts:
        if isinstance(text, str) and EXPOSURE.search(text):
            return text
    return None


def tags(event):
    """The resource's tags as (key, value) pairs: the API's [{key, value}] list or a mapping."""
    raw = (event.get("resource") or {}).get("tags")
    if isinstance(raw, Mapping):
        return [(str(k), v) for k, v in raw.items()]
    pairs = []
    for tag in raw or []:
        if isinstance(tag, Mapping) and tag.get("key") is not None:
            pairs.append((str(tag.get("key")), tag.get("value")))
    return pairs


def production_tag(event):
    """``key=value`` of the tag that marks the resource as production, or None."""
    for key, value in tags(event):
        if key.lower() in ENVIRONMENT_KEYS and str(value or "").strip().lower() in PRODUCTION_VALUES:
            return f"{key}={value}"
    return None


def finding_context(event):
    res = event.get("resource") or {}
    sub = res.get("subscription") or {}
    rule = event.get("rule") or {}
    evidence = event.get("evidence") or {}
    return {
        "finding_id": event.get("id"),
        "rule_id": rule.get("id"),
        "rule_short_id": rule.get("shortId"),
        "rule_name": rule.get("name"),
        "severity": event.get("severity"),
        "result": event.get("result"),
        "status": event.get("status"),
        "resource_id": res.get("id"),
        "resource_name": res.get("name"),
        "resource_type": res.get("type"),
        "resource_provider_id": res.get("providerId"),
        "region": res.get("region"),
        "cloud_provider": sub.get("cloudProvider"),
        "cloud_account": sub.get("externalId"),
        "cloud_account_name": sub.get("name"),
        "projects": [p.get("name") for p in res.get("projects") or [] if isinstance(p, Mapping)],
        "current_value": evidence.get("currentValue"),
        "expected_value": evidence.get("expectedValue"),
        "first_seen_at": event.get("firstSeenAt"),
        "analyzed_at": event.get("analyzedAt"),
        "updated_at": event.get("updatedAt"),
    }


#: The runbook when the finding carries no remediation of its own.
GENERIC_RUNBOOK = (
    "Open the finding in Wiz (Findings > Cloud Configuration), fix the resource as the rule's "
    "remediation says, and check with the resource's owner (tags, project) how it got there."
)


def remediation(event):
    """The finding's own remediation text (Wiz's rule instructions), else the generic runbook."""
    return (
        (event.get("rule") or {}).get("remediationInstructions")
        or event.get("remediation")
        or GENERIC_RUNBOOK
    )
