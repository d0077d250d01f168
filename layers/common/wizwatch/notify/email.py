"""The plain-text rendering of an alert for e-mail subscribers, and the SNS subject line."""

from __future__ import annotations

import json
import re
from typing import Any

SUBJECT_MAX = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_TEXT_MAX = 30_000
_CONTEXT_KEYS = 20
_VALUE_MAX = 300


def subject(alert: dict[str, Any]) -> str:
    """``[HIGH] <title>``: ASCII, one line, at most 100 characters (SNS's rules for Subject)."""
    text = f"[{alert.get('severity', 'INFO')}] {alert.get('title') or alert.get('rule_id', 'Wizwatch alert')}"
    text = _CONTROL.sub(" ", text).encode("ascii", "replace").decode()
    text = " ".join(text.split())
    if len(text) > SUBJECT_MAX:
        text = text[: SUBJECT_MAX - 3].rstrip() + "..."
    return text


def _value(v: Any) -> str:
    s = v if isinstance(v, str) else json.dumps(v, default=str, sort_keys=True)
    s = _CONTROL.sub(" ", s)
    return s if len(s) <= _VALUE_MAX else s[: _VALUE_MAX - 3] + "..."


def _block(label: str, text: Any) -> list[str]:
    if not text:
        return []
    lines = str(text).strip().splitlines() or [""]
    return [f"{label}:", *(f"  {line}" for line in lines[:40]), ""]


def body(alert: dict[str, Any]) -> str:
    """What a person reads in the e-mail: what fired, how bad, when, how often, what to do."""
    src = alert.get("source") or {}
    rule = alert.get("rule_name") or alert.get("rule_id")
    lines = [
        str(alert.get("title", "")),
        "",
        f"Severity:     {alert.get('severity')}",
        f"Rule:         {rule} ({alert.get('rule_id')})",
        f"Alert type:   {alert.get('alert_type')}",
        f"Events:       {alert.get('event_count')} "
        f"(threshold {alert.get('threshold')}, dedup period {alert.get('dedup_period_minutes')} min)",
        f"Time range:   {alert.get('first_event_time')} .. {alert.get('last_event_time')}",
        f"Alert time:   {alert.get('created_at')}",
        f"Log types:    {', '.join(alert.get('log_types') or [])}",
        f"Dedup:        {_value(alert.get('dedup_string', ''))}",
        "",
    ]
    error = alert.get("error")
    if error:
        lines += _block("Rule error", f"{error.get('type')}: {error.get('message')}")
    lines += _block("Description", alert.get("description"))
    lines += _block("Runbook", alert.get("runbook"))
    if alert.get("reference"):
        lines += [f"Reference:    {alert['reference']}", ""]
    context = alert.get("alert_context") or {}
    if context:
        lines.append("Context:")
        for key in list(context)[:_CONTEXT_KEYS]:
            lines.append(f"  {key}: {_value(context[key])}")
        if len(context) > _CONTEXT_KEYS:
            lines.append(f"  ... {len(context) - _CONTEXT_KEYS} more in the JSON alert")
        lines.append("")
    reports = alert.get("reports") or {}
    if reports:
        lines.append(
            "Reports:      " + "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in reports.items())
        )
        lines.append("")
    lines += [
        "Matched events:",
        f"  {src.get('matches_prefix', '(not kept)')}",
        f"  (gzip JSON lines; this alert's have p_alert_id = {alert.get('alert_id')})",
        f"  this alert's first page: {src.get('matches_object', '-')}",
        f"  raw page: {src.get('raw_object', '-')}",
        "",
        f"Alert ID: {alert.get('alert_id')}",
    ]
    text = "\n".join(lines)
    return text if len(text) <= _TEXT_MAX else text[: _TEXT_MAX - 20] + "\n... (truncated)"
