"""The detector's end-to-end helpers: the stack with test rules and a controllable clock.

Shared by tests/e2e modules (tests/support is on pytest's pythonpath); import the ``det``
fixture (``det_fixture``) into a test module to use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import T0, page_body, write_rules

from wizwatch.alerts import clock


@pytest.fixture(name="det")
def det_fixture(stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The stack with the detector reading the test rules and a controllable clock."""
    monkeypatch.setitem(stack.spec("detector").environment, "RULES_DIR", str(write_rules(tmp_path / "rules")))
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    stack.clock = current
    return stack


def put(stack: Any, key: str, records: list[Any] | None = None, body: bytes | None = None) -> str:
    """Archive a page (as the administrator; S3 notifies the detector's queue)."""
    stack.s3.put_object(
        Bucket=stack.resources["bucket"], Key=key, Body=body if body is not None else page_body(records or [])
    )
    return key


def alerts_out(stack: Any) -> list[dict[str, Any]]:
    """Run detector then notifier; the alerts SNS delivered since the last call."""
    before = len(stack.received_alerts())
    stack.run_detector()
    stack.run_notifier()
    return stack.received_alerts()[before:]
