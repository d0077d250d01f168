"""Publishing one alert to SNS: JSON for machines, plain text for e-mail, attributes for filters."""

from __future__ import annotations

import json
from typing import Any

from wizwatch.alerts.message import SNS_MAX_BYTES, fit
from wizwatch.notify import email
from wizwatch.notify.validate import validate_alert


def parse_alert(body: str) -> dict[str, Any]:
    """The alert of a queue message, checked against the contract (:mod:`wizwatch.notify.validate`)."""
    return validate_alert(body)


def attributes(alert: dict[str, Any]) -> dict[str, dict[str, str]]:
    """SNS message attributes for subscription filter policies (values are never empty)."""
    source = alert.get("source") or {}
    log_type = source.get("log_type") or next(iter(alert.get("log_types") or []), "") or "unknown"
    values = {
        "severity": alert["severity"],
        "rule_id": alert["rule_id"],
        "alert_type": alert["alert_type"],
        "log_type": log_type,
    }
    return {k: {"DataType": "String", "StringValue": str(v)} for k, v in values.items()}


def _attributes_size(attrs: dict[str, dict[str, str]]) -> int:
    return sum(len(k) + len(v["DataType"]) + len(v["StringValue"].encode()) for k, v in attrs.items())


def message(alert: dict[str, Any], text: str) -> str:
    """The ``MessageStructure=json`` document: the alert JSON as default, text for e-mail."""
    default = json.dumps(alert, separators=(",", ":"), ensure_ascii=False, default=str)
    return json.dumps({"default": default, "email": text}, ensure_ascii=False)


def build_publish(topic_arn: str, alert: dict[str, Any]) -> dict[str, Any]:
    """``sns.publish`` arguments, the alert trimmed so the whole request fits SNS's 256 KB."""
    attrs = attributes(alert)
    subject = email.subject(alert)
    text = email.body(alert)
    budget = SNS_MAX_BYTES - _attributes_size(attrs) - len(subject) - 512
    fitted = fit(alert, budget, size_of=lambda a: len(message(a, text).encode()))
    body = message(fitted, text)
    if len(body.encode()) > budget:  # only the e-mail text left to shorten
        text = text[: max(0, budget - len(message(fitted, "").encode())) // 6]
        body = message(fitted, text)
    return {
        "TopicArn": topic_arn,
        "Message": body,
        "MessageStructure": "json",
        "Subject": subject,
        "MessageAttributes": attrs,
    }
