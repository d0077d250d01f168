"""The alert message (the contract's JSON) and keeping it under SNS's 256 KB.

One builder for both alert types so the queue, the notifier and SNS subscribers all see the same
shape. ``alert_id`` is a hash of what identifies the alert (type, rule, dedup string, window
start), so a retry that rebuilds the same alert produces the same id.

Rendering never fails because of one event (see :mod:`wizwatch.render`): when the alert cannot be
rendered as it is, each event that cannot is replaced by its stand-in (``p_render_error`` says
why), an alert context that cannot by Panther's ``_error`` form, and anything else left (a rule's
title with a lone surrogate...) is cleaned; when it is too large, events larger than their share
of the budget are shrunk before any good event is dropped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizwatch import render
from wizwatch.render import RenderError, dumps

__all__ = ["AlertSpec", "RenderError", "build_alert", "dumps", "fit", "make_alert_id"]

VERSION = 1
#: SNS (and SQS) refuse messages above 256 KiB.
SNS_MAX_BYTES = 262_144
#: Budget for the alert JSON on the alert queue; the rest of SNS's limit is left for the
#: notifier's e-mail text and JSON escaping (it re-fits the alert to the exact limit).
QUEUE_BUDGET_BYTES = 240_000
#: How many matched events an alert carries (the rest are under matches/).
MAX_EVENTS = 10
#: An event bigger than this as JSON is shrunk (long strings cut) before good events are dropped.
EVENT_SHARE_BYTES = QUEUE_BUDGET_BYTES // 4
#: Deepest nesting kept in an alert's copy of an event (the alert and its ``events`` list add 2).
ALERT_EVENT_DEPTH = render.MAX_EVENT_DEPTH
SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")


def make_alert_id(alert_type: str, rule_id: str, dedup: str, window_start_ms: int) -> str:
    """Deterministic: the same window of the same (rule, dedup) always has the same id."""
    h = hashlib.sha256(f"{alert_type}\x00{rule_id}\x00{dedup}\x00{window_start_ms}".encode())
    return h.hexdigest()[:32]


@dataclass
class AlertSpec:
    """What the detector knows about an alert before the dedup window decides its id and counts."""

    alert_type: str  # RULE | RULE_ERROR
    rule_id: str
    rule_name: str
    title: str
    severity: str
    dedup_string: str
    dedup_period_minutes: int
    threshold: int
    log_types: list[str]
    description: str = ""
    runbook: str = ""
    reference: str = ""
    reports: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    alert_context: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, str] | None = None
    source: dict[str, Any] = field(default_factory=dict)
    #: Rule ``destinations() == []``: counted and kept, never sent (Panther).
    suppressed: bool = False
    #: Destination names routing chose (wizwatch.alerts.routing); None: the notifier decides.
    destinations: list[str] | None = None


def build_alert(
    spec: AlertSpec,
    *,
    alert_id: str,
    event_count: int,
    first_event_time: str | None,
    last_event_time: str | None,
    created_at: str,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The contract's alert object, trimmed to :data:`QUEUE_BUDGET_BYTES`."""
    alert = {
        "version": VERSION,
        "alert_id": alert_id,
        "alert_type": spec.alert_type,
        "rule_id": spec.rule_id,
        "rule_name": spec.rule_name,
        "title": spec.title,
        "severity": spec.severity if spec.severity in SEVERITIES else "INFO",
        "dedup_string": spec.dedup_string,
        "dedup_period_minutes": spec.dedup_period_minutes,
        "threshold": spec.threshold,
        "log_types": list(spec.log_types),
        "event_count": event_count,
        "first_event_time": first_event_time,
        "last_event_time": last_event_time,
        "created_at": created_at,
        "description": spec.description,
        "runbook": spec.runbook,
        "reference": spec.reference,
        "reports": spec.reports,
        "tags": list(spec.tags),
        "alert_context": spec.alert_context,
        "events": list(spec.events[:MAX_EVENTS]),
        "error": spec.error,
        "source": dict(source if source is not None else spec.source),
    }
    if spec.destinations is not None:
        alert["destinations"] = list(spec.destinations)
    try:
        size = len(dumps(alert))
    except RenderError:
        alert = renderable_alert(alert)
        size = len(dumps(alert))
    return fit(alert, QUEUE_BUDGET_BYTES, size=size)


def renderable_alert(alert: dict[str, Any]) -> dict[str, Any]:
    """``alert`` with whatever cannot be rendered replaced (events one by one; see the docstring)."""
    alert = dict(alert)
    alert["events"] = [render.renderable_event(e, max_depth=ALERT_EVENT_DEPTH) for e in alert["events"]]
    context = alert.get("alert_context")
    if context:
        _, notes = render.clean(context, max_depth=ALERT_EVENT_DEPTH)
        if notes:
            alert["alert_context"] = {
                "_error": f"alert_context could not be rendered as JSON: {'; '.join(sorted(notes))}"
            }
    try:
        dumps(alert)
    except RenderError:
        cleaned, _ = render.clean(alert, max_depth=ALERT_EVENT_DEPTH + 2)
        return dict(cleaned)
    return alert


def _json_size(alert: dict[str, Any]) -> int:
    return len(dumps(alert))


def _cap(text: Any, limit: int) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[: limit - 15] + "... (truncated)"
    return text


def fit(
    alert: dict[str, Any],
    budget: int,
    size_of: Callable[[dict[str, Any]], int] = _json_size,
    *,
    size: int | None = None,
) -> dict[str, Any]:
    """Shrink ``alert`` until ``size_of(alert) <= budget``, dropping the least useful parts first.

    Order: events larger than :data:`EVENT_SHARE_BYTES` are shrunk (long strings cut, so one huge
    event cannot push the others out), then events are dropped from the end (they are all kept
    under matches/), then the alert context (replaced by an ``_error`` note, as Panther does for
    an oversized context), then long texts. ``events_omitted`` says how many events were dropped
    so readers know to look at matches/. ``size``: ``size_of(alert)`` when the caller knows it.
    """
    if (size if size is not None else size_of(alert)) <= budget:
        return alert
    alert = dict(alert)
    events = list(alert.get("events") or [])
    for i, event in enumerate(events):
        event_size = len(dumps(event))
        if event_size > EVENT_SHARE_BYTES:
            events[i] = render.shrink_event(event, event_size, EVENT_SHARE_BYTES)
    if events:
        alert["events"] = events
    omitted = int(alert.get("events_omitted") or 0)
    while events and size_of(alert) > budget:
        events.pop()
        omitted += 1
        alert["events"] = events
        alert["events_omitted"] = omitted
    if size_of(alert) > budget and alert.get("alert_context"):
        size = len(dumps(alert["alert_context"]))
        alert["alert_context"] = {
            "_error": f"alert_context of {size} bytes does not fit in the alert message; "
            "see the matched events"
        }
    for name, limit in (("description", 4000), ("runbook", 4000), ("reference", 2000), ("title", 1000)):
        if size_of(alert) <= budget:
            break
        alert[name] = _cap(alert.get(name), limit)
    if size_of(alert) > budget and alert.get("error"):
        err = dict(alert["error"])
        err["message"] = _cap(err.get("message", ""), 2000)
        alert["error"] = err
    if size_of(alert) > budget:
        alert["dedup_string"] = _cap(alert.get("dedup_string"), 1000)
        alert["reports"] = {}
        alert["tags"] = alert.get("tags", [])[:20]
    return alert
