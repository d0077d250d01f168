"""The shared limiter spaces request starts; back-off grows, jitters, honours Retry-After."""

from __future__ import annotations

import itertools
import random
import threading

from poll_unit_support import ManualClock

from wizwatch.poll.limiter import RateLimiter
from wizwatch.poll.retry import Backoff, TimeBudget, parse_retry_after


def test_limiter_spaces_starts_by_interval() -> None:
    clock = ManualClock(start=100.0)
    lim = RateLimiter(2.0, clock=clock.now, sleep=clock.sleep)
    starts = []
    for _ in range(5):
        assert lim.acquire()
        starts.append(clock.t)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(abs(g - 0.5) < 1e-9 for g in gaps), gaps


def test_limiter_refuses_a_slot_past_the_deadline_without_taking_it() -> None:
    clock = ManualClock(start=100.0)
    lim = RateLimiter(1.0, clock=clock.now, sleep=clock.sleep)
    assert lim.acquire()
    assert not lim.acquire(deadline=clock.t + 0.5)
    assert lim.delay() == 1.0  # the refused call did not push the schedule
    assert lim.acquire(deadline=clock.t + 1.0)


def test_limiter_shared_by_threads_hands_out_distinct_spaced_slots() -> None:
    waits: list[float] = []
    lock = threading.Lock()

    def record(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    lim = RateLimiter(200.0, clock=lambda: 100.0, sleep=record)  # a frozen clock: waits = slot offsets

    def worker() -> None:
        for _ in range(5):
            lim.acquire()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # 15 requests: the first starts at once, the others at 5 ms steps, no two in the same slot.
    assert sorted(round(w, 6) for w in waits) == [round(0.005 * i, 6) for i in range(1, 15)]


def test_backoff_grows_and_caps_with_jitter() -> None:
    b = Backoff(base=1.0, cap=8.0, rng=random.Random(1))
    for attempt, ceiling in ((1, 1), (2, 2), (3, 4), (4, 8), (7, 8)):
        for _ in range(20):
            d = b.delay(attempt)
            assert ceiling / 2 <= d <= ceiling
    delays = {round(b.delay(3), 6) for _ in range(10)}
    assert len(delays) > 1  # jittered


def test_backoff_honours_retry_after() -> None:
    b = Backoff(base=0.1, cap=30.0, rng=random.Random(1))
    assert 5.0 <= b.delay(1, retry_after=5.0) <= 5.1
    assert 120.0 <= b.delay(1, retry_after=120.0) <= 120.1  # the server's word beats our own cap
    assert b.delay(1, retry_after=10_000.0) <= 300.1  # but not without limit


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past


def test_time_budget_sub_never_exceeds_parent() -> None:
    clock = ManualClock(start=100.0)
    parent = TimeBudget(clock.t + 10, clock.now)
    assert parent.sub(100).deadline == parent.deadline
    assert parent.sub(3).remaining() == 3
