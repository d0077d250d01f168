"""Cursor cycles: a window whose page cursors loop fails clearly instead of re-archiving the loop."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from poll_fakewiz import FakeWiz
from poll_unit_support import TABLE, ManualClock, emf, ids, invoke

from wizwatch.poll import cycles
from wizwatch.poll.cycles import CursorTrail
from wizwatch.poll.state import CursorStore

NOW = datetime.now(UTC)
AUDIT = {"log_type": "Wiz.Audit"}


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Records are placed relative to NOW: take it as each test starts, not at import (a loaded
    run can reach a test many minutes after collecting it, and old records fall out of the look-back)."""
    global NOW
    NOW = datetime.now(UTC)


def first_repeat(sequence: list[str]) -> tuple[int, int] | None:
    """(page, earlier page) where the trail first reports a repeat, feeding pages 1, 2, ... in order."""
    trail = CursorTrail()
    for page, cursor in enumerate(sequence, start=1):
        seen = trail.first_page_of(cursor)
        if seen is not None:
            return page, seen
        trail = trail.add(cursor, page)
    return None


def test_distinct_cursors_never_look_like_a_cycle() -> None:
    assert first_repeat([f"cursor-{i}" for i in range(5000)]) is None


def test_a_loop_is_caught_at_its_first_repeat_naming_the_earlier_page() -> None:
    assert first_repeat(["A", "B", "A"]) == (3, 1)
    assert first_repeat(["A", "A"]) == (2, 1)  # the consecutive case the old check knew
    assert first_repeat(["x", "y", "A", "B", "C", "D", "A"]) == (7, 3)


def test_a_loop_longer_than_the_trail_is_still_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    # The trail keeps only TRAIL_MAX digests; the checkpoint re-taken at pages 1, 2, 4, 8... (Brent)
    # catches any longer loop within about twice its start plus its length.
    monkeypatch.setattr(cycles, "TRAIL_MAX", 3)
    for start, length in ((1, 5), (6, 9), (40, 7), (3, 100)):
        sequence = [f"p{i}" for i in range(1, start)] + [
            f"loop{i % length}" for i in range(start * 4 + length * 4)
        ]
        found = first_repeat(sequence)
        assert found is not None, (start, length)
        page, seen = found
        assert sequence[page - 1] == sequence[seen - 1] and seen < page
        assert page <= 2 * max(start, length) + length + 1, (start, length, page)


def test_the_trail_stays_bounded() -> None:
    trail = CursorTrail()
    for page in range(1, 5000):
        trail = trail.add(f"c{page}", page)
    assert len(trail.recent) == cycles.TRAIL_MAX * cycles.DIGEST_BYTES
    assert trail.first_page_of("c4999") == 4999 and trail.first_page_of("c4096") == 4096  # the checkpoint
    assert trail.first_page_of("c3000") is None  # slid out of the bounded trail


def test_the_trail_survives_the_cursor_item(aws_env: Any) -> None:
    store = CursorStore(TABLE)
    state = store.acquire("Wiz.Audit", "me", 60)
    state = state.open_window(NOW - timedelta(hours=1), NOW)
    state = store.save(state.next_page("A").next_page("B"), 60)
    again = store.read("Wiz.Audit")
    assert again.trail == state.trail and again.trail.first_page_of("A") == 1
    assert again.trail.first_page_of("B") == 2 and again.page == 3 and again.after == "B"
    closed = store.save(again.close_window(), 60)
    assert store.read("Wiz.Audit").trail == CursorTrail() == closed.trail


def seed_window(wiz: FakeWiz, n: int = 20) -> set[str]:
    return {
        wiz.add("auditLogEntries", NOW - timedelta(minutes=20) + timedelta(seconds=30 * i))["id"]
        for i in range(n)
    }


def audit_requests(wiz: FakeWiz) -> list[dict[str, Any]]:
    return [r for r in wiz.requests if r["connection"] == "auditLogEntries"]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIZ_PAGE_SIZE", "2")
    monkeypatch.setenv("WIZ_INITIAL_LOOKBACK_HOURS", "0.5")  # one window


def test_a_cycle_fails_the_window_with_no_heartbeat_and_a_log_line_that_names_it(
    wiz: FakeWiz, small_pages: None, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    want = seed_window(wiz)
    wiz.cursor_loop = {"c:6": "c:2"}  # page 3 answers page 1's cursor: A -> B -> A
    res = invoke(wiz, AUDIT)
    audit = res["log_types"]["Wiz.Audit"]
    assert not res["ok"] and audit["status"] == "error" and "CursorCycleError" in audit["error"]
    assert "page 3" in audit["error"] and "page 1 already returned" in audit["error"]
    assert len(audit_requests(wiz)) == 3  # the old code kept looping until the budget ran out
    blob = next(b for b in emf(capsys) if b.get("LogType") == "Wiz.Audit")
    assert "PollHeartbeat" not in blob and blob["ApiErrors"] == [1.0]  # the heartbeat alarm fires
    (line,) = [vars(r) for r in caplog.records if r.levelno >= logging.ERROR]
    assert line["log_type"] == "Wiz.Audit" and line["cursor"] == "c:2" and line["first_seen_page"] == 1
    assert line["page"] == 3 and line["window_start"] and line["window_end"]
    state = CursorStore(TABLE).read("Wiz.Audit")
    assert state.in_window and state.page == 3 and state.after == "c:4" and state.lease_owner is None

    # Still looping: the next run asks for that one page again and fails again (no hammering).
    before = len(audit_requests(wiz))
    assert invoke(wiz, AUDIT)["log_types"]["Wiz.Audit"]["status"] == "error"
    assert len(audit_requests(wiz)) == before + 1

    # Wiz fixed it: the window completes, nothing lost.
    wiz.cursor_loop = {}
    assert invoke(wiz, AUDIT)["log_types"]["Wiz.Audit"]["status"] == "ok"
    assert ids("Wiz.Audit", "auditLogEntries") == want


def test_a_cycle_spanning_invocations_is_caught(wiz: FakeWiz, small_pages: None) -> None:
    # Each run has the budget for two requests, and the loop is three pages long (A -> B -> C -> A):
    # no single run sees a repeat, so only the trail kept in the cursor item can catch it.
    seed_window(wiz)
    wiz.cursor_loop = {"c:8": "c:2"}
    clock = ManualClock(cost=1.0)
    wiz.on_request = clock.charge
    first = invoke(wiz, AUDIT, remaining_ms=3_000, clock=clock)["log_types"]["Wiz.Audit"]
    assert first["status"] == "budget" and len(audit_requests(wiz)) == 2
    second = invoke(wiz, AUDIT, remaining_ms=3_000, clock=clock)["log_types"]["Wiz.Audit"]
    assert second["status"] == "error" and "page 4" in second["error"] and "page 1 already" in second["error"]
    assert len(audit_requests(wiz)) == 4
