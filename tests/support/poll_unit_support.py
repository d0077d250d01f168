"""Shared pieces of the poller's unit tests: names of the moto resources, a Lambda-like
context, and a handler call that mounts the FakeWiz double (fixtures stay in conftest.py)."""

from __future__ import annotations

from typing import Any

from poll_fakewiz import FakeWiz

from wizwatch.poll import auth, runner

TABLE = "state"
BUCKET = "raw"
SECRET = "wiz-creds"


class Ctx:
    """A Lambda-like context with a fixed remaining time."""

    aws_request_id = "req-unit"
    function_name = "poller"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def invoke(
    fake: FakeWiz, event: dict[str, Any] | None = None, remaining_ms: int = 60_000, cold: bool = False
) -> dict[str, Any]:
    """Run the handler logic as Lambda would; ``cold`` forgets everything a container caches."""
    if cold:
        runner._poller = None
        auth.reset_caches()
    runner.get_poller(runner.load_settings()).client._session.mount("https://", fake)
    return runner.handle(event or {}, Ctx(remaining_ms))
