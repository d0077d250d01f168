"""One alert -> one delivery message per destination, on the delivery queue.

Why a queue per (alert, destination) rather than delivering every destination in the alert's
own invocation: each delivery then succeeds, waits or fails on its own. A Slack outage keeps
Slack's messages waiting (with its own back-off) while PagerDuty's are long delivered; a retry
never repeats a destination that already has the alert; and one delivery's DLQ entry says
exactly what is missing. One queue serves every destination (a queue per destination would
need a template change for each new destination name).

A delivery message is ``{"kind": "wizwatch.delivery", "version": 1, "destination": <name>,
"alert": <the contract's alert>}``; it fits SQS's 256 KB because the alert is kept under 240 KB.
"""

from __future__ import annotations

from typing import Any

from wizwatch.alerts.queue import send_alerts
from wizwatch.alerts.routing import Router
from wizwatch.errors import InvalidAlert, WizwatchError
from wizwatch.notify.validate import validate_alert_doc

KIND = "wizwatch.delivery"
VERSION = 1


class InvalidDelivery(WizwatchError):
    """A delivery-queue message that is not a delivery; retried, then in DeliveryDLQ."""


def destinations_for(alert: dict[str, Any], router: Router) -> list[str]:
    """The names the detector chose (``destinations``), else the document's defaults."""
    chosen = alert.get("destinations")
    if isinstance(chosen, list):
        return list(dict.fromkeys(n for n in chosen if isinstance(n, str) and n))
    log_types = alert.get("log_types") or []
    return router.resolve(
        alert_type=str(alert.get("alert_type")), severity=str(alert.get("severity")), log_types=log_types
    )


def delivery_message(alert: dict[str, Any], destination: str) -> dict[str, Any]:
    return {"kind": KIND, "version": VERSION, "destination": destination, "alert": alert}


def is_delivery(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("kind") == KIND


def parse_delivery(doc: Any) -> tuple[str, dict[str, Any]]:
    """(destination, alert) of a decoded delivery message."""
    if not is_delivery(doc) or not isinstance(doc.get("destination"), str):
        raise InvalidDelivery("not a wizwatch delivery message (kind, destination, alert)")
    try:
        alert = validate_alert_doc(doc.get("alert"))
    except InvalidAlert as exc:
        raise InvalidDelivery(f"delivery message without a valid alert: {exc}") from None
    return doc["destination"], alert


def enqueue(sqs: Any, queue_url: str, alert: dict[str, Any], names: list[str]) -> int:
    """Queue one delivery per name; returns SQS requests made (raises if any is refused)."""
    return send_alerts(sqs, queue_url, [delivery_message(alert, n) for n in names]) if names else 0
