"""Poller Lambda: pulls Wiz logs into the raw archive (all logic in wizwatch.poll.runner)."""

from __future__ import annotations

from typing import Any

from wizwatch.poll.runner import handle, logger


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
