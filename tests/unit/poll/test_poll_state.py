"""Cursor items: versioned conditional writes and a lease that lapses by itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from poll_unit_support import TABLE

from wizwatch.errors import LeaseHeldError, StaleStateError
from wizwatch.poll.state import CursorStore

LT = "Wiz.Audit"
T = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


def test_first_acquire_creates_the_item_and_state_round_trips(aws_env: Any) -> None:
    store = CursorStore(TABLE)
    s = store.acquire(LT, "me", 60)
    assert s.version == 1 and s.lease_owner == "me"
    s = store.save(s.open_window(T, T.replace(hour=11)), 60)
    s = store.save(s.next_page("CUR1"), 60)
    read = store.read(LT)
    assert (read.window_start, read.window_end, read.page, read.after, read.version) == (
        T,
        T.replace(hour=11),
        2,
        "CUR1",
        3,
    )
    closed = store.save(read.close_window(), 60)
    assert store.read(LT).committed_end == T.replace(hour=11) and not closed.in_window


def test_a_held_lease_keeps_others_out_until_it_lapses(aws_env: Any) -> None:
    clock = Clock()
    store = CursorStore(TABLE, clock=clock)
    mine = store.acquire(LT, "run-a", 30)
    with pytest.raises(LeaseHeldError):
        store.acquire(LT, "run-b", 30)
    clock.t += 31  # run-a crashed: no release, the lease lapses on its own
    theirs = store.acquire(LT, "run-b", 30)
    assert theirs.lease_owner == "run-b"
    with pytest.raises(StaleStateError):  # run-a comes back to life: it may not write any more
        store.save(mine.next_page("X"), 30)
    assert store.read(LT).lease_owner == "run-b"


def test_release_frees_the_lease(aws_env: Any) -> None:
    store = CursorStore(TABLE)
    s = store.acquire(LT, "a", 300)
    store.release(s)
    assert store.acquire(LT, "b", 300).lease_owner == "b"


def test_save_renews_the_lease(aws_env: Any) -> None:
    clock = Clock()
    store = CursorStore(TABLE, clock=clock)
    s = store.acquire(LT, "a", 30)
    clock.t += 25
    s = store.save(s, 30)
    clock.t += 25  # 50 s after acquiring, but only 25 s after the renewal
    with pytest.raises(LeaseHeldError):
        store.acquire(LT, "b", 30)


def test_of_two_runs_that_read_the_same_version_only_one_takes_the_lease(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: both read version v with the lease free; A writes first."""
    store = CursorStore(TABLE)
    store.release(store.acquire(LT, "seed", 60))
    seen_by_both = store.read(LT)
    winner = store.acquire(LT, "run-a", 60)
    monkeypatch.setattr(store, "read", lambda log_type: seen_by_both)  # B still sees version v
    with pytest.raises(LeaseHeldError, match="lost the race"):
        store.acquire(LT, "run-b", 60)
    monkeypatch.undo()
    assert store.read(LT).lease_owner == "run-a" and store.read(LT).version == winner.version


def test_first_ever_acquire_race_is_decided_by_item_creation(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CursorStore(TABLE)
    empty = store.read(LT)
    store.acquire(LT, "run-a", 60)
    monkeypatch.setattr(store, "read", lambda log_type: empty)
    with pytest.raises(LeaseHeldError):
        store.acquire(LT, "run-b", 60)
