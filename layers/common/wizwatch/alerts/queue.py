"""Putting alert messages on the alert queue, ten (and under 256 KB) per request."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from wizwatch.alerts.message import SNS_MAX_BYTES, dumps
from wizwatch.errors import WizwatchError


class AlertQueueError(WizwatchError):
    """Some alerts could not be queued; the object is retried (alert ids keep it idempotent)."""


def _batches(bodies: list[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    current: list[str] = []
    size = 0
    for body in bodies:
        n = len(body.encode())
        if current and (len(current) == 10 or size + n > SNS_MAX_BYTES):
            batches.append(current)
            current, size = [], 0
        current.append(body)
        size += n
    if current:
        batches.append(current)
    return batches


def _body(alert: dict[str, Any], rendered: Mapping[str, tuple[dict[str, Any], bytes]]) -> str:
    """The alert's JSON: as already rendered for this very object (same ``dumps``), else now."""
    known = rendered.get(alert.get("alert_id", ""))
    return (known[1] if known is not None and known[0] is alert else dumps(alert)).decode()


def send_alerts(
    sqs: Any,
    queue_url: str,
    alerts: list[dict[str, Any]],
    rendered: Mapping[str, tuple[dict[str, Any], bytes]] | None = None,
) -> int:
    """Queue every alert; returns the number of SQS requests made. Raises if any cannot be sent.
    ``rendered``: alert_id -> (alert, ``dumps(alert)``) already made (the dedup outbox's), used
    only for that same alert object."""
    requests = 0
    for batch in _batches([_body(a, rendered or {}) for a in alerts]):
        todo = {str(i): body for i, body in enumerate(batch)}
        for attempt in range(4):
            requests += 1
            resp = sqs.send_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": i, "MessageBody": body} for i, body in todo.items()],
            )
            failed = resp.get("Failed") or []
            todo = {f["Id"]: todo[f["Id"]] for f in failed}
            if not failed:
                break
            if any(f.get("SenderFault") for f in failed):
                raise AlertQueueError(f"alert queue refused alerts: {failed}")
            time.sleep(0.1 * 2**attempt)
        else:
            raise AlertQueueError(f"{len(todo)} alerts could not be queued")
    return requests
