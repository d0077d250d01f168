"""What every destination shows of an alert: facts, context lines, links, severity colours.

One place decides the wording and the caps, so Slack, Teams, PagerDuty and Jira tell the same
story; each destination module only lays it out in its service's format.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

SEVERITY_ORDER = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")
#: Hex colours (Slack attachment bar, Jira/Webhook receivers may reuse them).
SEVERITY_COLOUR = {
    "CRITICAL": "#8B0000",
    "HIGH": "#E01E5A",
    "MEDIUM": "#ECB22E",
    "LOW": "#36C5F0",
    "INFO": "#9E9E9E",
}
TRUNCATED = "… (truncated)"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clip(text: Any, limit: int) -> str:
    """``text`` as a string of at most ``limit`` characters, control characters removed."""
    s = _CONTROL.sub(" ", text if isinstance(text, str) else "" if text is None else str(text))
    return s if len(s) <= limit else s[: max(0, limit - len(TRUNCATED))] + TRUNCATED


def value_text(value: Any, limit: int = 300) -> str:
    """A context value on one line: strings as they are, anything else as compact JSON."""
    s = (
        value
        if isinstance(value, str)
        else json.dumps(value, default=str, sort_keys=True, ensure_ascii=False)
    )
    return clip(" ".join(s.split()), limit)


def is_web_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://")) and " " not in value


def console_url(s3_uri: Any, region: str) -> str | None:
    """The S3 console page of an ``s3://bucket/key`` object (or of a prefix ending in ``/``)."""
    if not isinstance(s3_uri, str) or not s3_uri.startswith("s3://"):
        return None
    bucket, _, key = s3_uri[5:].partition("/")
    if not bucket:
        return None
    region = region or "us-east-1"
    if not key or key.endswith("/"):
        return (
            f"https://s3.console.aws.amazon.com/s3/buckets/{quote(bucket)}"
            f"?region={quote(region)}&prefix={quote(key)}"
        )
    return f"https://s3.console.aws.amazon.com/s3/object/{quote(bucket)}?region={quote(region)}&prefix={quote(key)}"


def matches_link(alert: dict[str, Any], region: str) -> str | None:
    """Where the alert's matched events are: its first matches/ object, else the rule's prefix."""
    source = alert.get("source") or {}
    return console_url(source.get("matches_object"), region) or console_url(
        source.get("matches_prefix"), region
    )


def log_type(alert: dict[str, Any]) -> str:
    source = alert.get("source") or {}
    return str(source.get("log_type") or next(iter(alert.get("log_types") or []), "") or "unknown")


def facts(alert: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs every destination shows, in this order."""
    rule = alert.get("rule_name") or alert.get("rule_id")
    first, last = alert.get("first_event_time"), alert.get("last_event_time")
    out = [
        ("Severity", str(alert.get("severity", ""))),
        ("Rule", clip(f"{rule} ({alert.get('rule_id')})" if rule != alert.get("rule_id") else rule, 300)),
        ("Events", f"{alert.get('event_count', 1)} (threshold {alert.get('threshold', 1)})"),
        ("Log type", log_type(alert)),
        ("First / last event", f"{first or '-'} / {last or '-'}"),
        ("Alert ID", str(alert.get("alert_id", ""))),
    ]
    if alert.get("alert_type") == "RULE_ERROR":
        err = alert.get("error") or {}
        out.insert(1, ("Rule error", clip(f"{err.get('type')}: {err.get('message')}", 500)))
    return out


def context_items(alert: dict[str, Any], limit: int = 15, value_limit: int = 300) -> list[tuple[str, str]]:
    """The first ``limit`` alert_context entries as (key, one-line value)."""
    context = alert.get("alert_context") or {}
    if not isinstance(context, dict):
        return []
    items = [(clip(k, 100), value_text(v, value_limit)) for k, v in list(context.items())[:limit]]
    if len(context) > limit:
        items.append(("…", f"{len(context) - limit} more in the alert JSON"))
    return items


def reports_text(alert: dict[str, Any]) -> str:
    reports = alert.get("reports") or {}
    if not isinstance(reports, dict):
        return ""
    return clip("; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in reports.items()), 500)
