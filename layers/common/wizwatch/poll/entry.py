"""The poller's entry point: a schedule's event goes to the incremental poll or to a snapshot.

``{"log_type": T}`` (or no log type) polls incremental windows (``wizwatch.poll.runner``);
``{"log_type": T, "snapshot": true}`` takes or continues T's daily full-posture snapshot
(``wizwatch.poll.snapshot``). Kept apart so neither module imports the other's caller.
"""

from __future__ import annotations

from typing import Any

from wizwatch.poll import runner, snapshot

logger = runner.logger


def handle(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and event.get("snapshot"):
        return snapshot.handle(event, context)
    return runner.handle(event, context)
