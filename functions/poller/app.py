"""Poller Lambda: pulls Wiz logs into the raw archive, and daily posture snapshots (all logic in
wizwatch.poll: runner for incremental windows, snapshot for full-posture snapshots)."""

from __future__ import annotations

from typing import Any

from wizwatch.poll.entry import handle, logger


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
