"""Checking an alert-queue message before anything is delivered: the contract's alert, typed.

``severity``, ``rule_id``, ``alert_type`` and the log type become SNS message attributes (and
destinations' routing keys), ``alert_id`` a ledger key, and the rest is rendered into e-mails and
chat messages; a message that is not the detector's alert must fail here with one clear reason
(then SQS retries it and moves it to the alert DLQ after ``maxReceiveCount``), not half-way
through a publish with an AttributeError. Unknown extra fields are allowed (the contract may be
extended); every contract field must be present with its type.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from wizwatch.detect.rule_id import RULE_ID_PATTERN  # the rule loader refuses any other id
from wizwatch.errors import InvalidAlert

#: ``alert_id`` is a hex digest (``alerts.message.make_alert_id``); it keys the delivery ledger.
ALERT_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
_MAX_REASON = 400

Severity = Literal["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")


class AlertError(_Strict):
    type: str
    message: str


class AlertSource(_Strict):
    """Where the alert came from; every key optional, but strings when present."""

    raw_object: str | None = None
    log_type: str | None = None
    matches_prefix: str | None = None
    matches_object: str | None = None


class AlertBody(_Strict):
    """The contract's alert message (``alerts.message.build_alert``)."""

    version: Annotated[int, Field(ge=1)]
    alert_id: Annotated[str, Field(pattern=ALERT_ID_PATTERN)]
    alert_type: Literal["RULE", "RULE_ERROR"]
    rule_id: Annotated[str, Field(pattern=RULE_ID_PATTERN)]
    rule_name: str
    title: str
    severity: Severity
    dedup_string: str
    dedup_period_minutes: int
    threshold: int
    log_types: Annotated[list[str], Field(min_length=1)]
    event_count: Annotated[int, Field(ge=0)]
    first_event_time: str | None
    last_event_time: str | None
    created_at: str
    description: str
    runbook: str
    reference: str
    reports: dict[str, list[str]]
    tags: list[str]
    alert_context: dict[str, Any]
    events: list[dict[str, Any]]
    error: AlertError | None
    source: AlertSource
    events_omitted: Annotated[int, Field(ge=0)] = 0


def _reason(exc: ValidationError) -> str:
    """The first problems, as ``field.path: message`` (values are not echoed: they may be huge)."""
    parts = []
    for err in exc.errors(include_input=False, include_url=False)[:3]:
        where = ".".join(str(x) for x in err["loc"]) or "(message)"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - len(parts)
    text = "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")
    return text[:_MAX_REASON]


def validate_alert(body: str) -> dict[str, Any]:
    """The alert object of a queue message body; InvalidAlert with the reason if it is not one."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise InvalidAlert(f"alert message is not JSON: {exc}") from None
    return validate_alert_doc(doc)


def validate_alert_doc(doc: Any) -> dict[str, Any]:
    """The same check for an alert already decoded (e.g. inside a delivery message)."""
    if not isinstance(doc, dict):
        raise InvalidAlert(f"alert message is a JSON {type(doc).__name__}, not an object")
    try:
        AlertBody.model_validate(doc)
    except ValidationError as exc:
        raise InvalidAlert(f"not a valid alert: {_reason(exc)}") from None
    return doc
