"""Faults between and inside the dedup writes: crashes, partial success, contention, throttling.

memaws's table (strict conditions, AWS's error shapes) behind a client that injects the fault.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from wizwatch.alerts import clock
from wizwatch.dedup import store as store_module
from wizwatch.dedup.model import RULE, AlertFacts, Group, GroupKey, Hit
from wizwatch.dedup.store import MAX_ROUNDS, PENDING_GRACE_S, DedupContention, DedupStore
from wizwatch_tools.lake.memaws import MemoryDynamoDB

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TABLE = "dedup"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    monkeypatch.setattr(store_module.time, "sleep", lambda s: None)  # back-offs: not timed here
    return current


def group(ids: list[str], dedup: str = "d", threshold: int = 1) -> Group:
    def render(f: AlertFacts) -> dict[str, Any]:
        return {"alert_id": f.alert_id, "event_count": f.event_count, "created_at": f.created_at}

    hits = [Hit(i, "2026-11-22T09:00:00.000Z") for i in ids]
    return Group(GroupKey(RULE, "R", dedup), 60, threshold, False, hits, render)


def alerts(out: dict[GroupKey, Any]) -> list[dict[str, Any]]:
    return [a for o in out.values() for a in o.alerts]


class Faulty:
    """Forwards to memaws; ``fault(operation, kwargs)`` may raise before the call goes through."""

    def __init__(self, inner: MemoryDynamoDB) -> None:
        self.inner = inner
        self.fault: Callable[[str, dict[str, Any]], None] = lambda op, kw: None

    def put_item(self, **kw: Any) -> Any:
        self.fault("PutItem", kw)
        return self.inner.put_item(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _error(code: str, op: str, **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": code}, **extra}
    return ClientError(response, op)


def test_crash_after_the_window_write_before_the_outbox_and_the_queue(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)

    def die_on_outbox(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith("o#"):
            raise RuntimeError("Lambda timed out")

    ddb.fault = die_on_outbox
    with pytest.raises(RuntimeError):
        store.record([group(["e1"])], source="raw/1")
    ddb.fault = lambda op, kw: None
    # Another object, after the grace period, finds the alert pending without an outbox: it cannot
    # render another object's alert, so it leaves it to that object's retry (and counts its event).
    now["t"] = T0 + timedelta(seconds=PENDING_GRACE_S)
    other = store.record([group(["e2"])], source="raw/2")
    assert alerts(other) == [] and other[group([]).key].event_count == 2
    retry = store.record([group(["e1"])], source="raw/1")  # SQS delivers raw/1 again
    [alert] = alerts(retry)
    assert (
        alert["event_count"] == 1 and alert["created_at"] == "2026-11-22T10:00:00.000Z"
    )  # as first rendered
    store.mark_sent(retry.receipt)
    assert alerts(store.record([group(["e1"])], source="raw/1")) == []


def test_redelivery_after_partial_success_counts_and_alerts_each_group_once(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    puts = {"n": 0}

    def die_on_second_window(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith("w#"):
            puts["n"] += 1
            if puts["n"] == 2:
                raise RuntimeError("Lambda timed out")

    ddb.fault = die_on_second_window
    page = [group(["a1", "a2"], dedup="a"), group(["b1"], dedup="b")]
    with pytest.raises(RuntimeError):
        store.record(page, source="raw/1")  # window "a" committed, "b" not, nothing queued
    ddb.fault = lambda op, kw: None
    retry = store.record([group(["a1", "a2"], dedup="a"), group(["b1"], dedup="b")], source="raw/1")
    by_dedup = {k.dedup: o for k, o in retry.items()}
    assert by_dedup["a"].counted == [] and set(by_dedup["a"].duplicates) == {"a1", "a2"}
    assert by_dedup["b"].counted == ["b1"]
    assert sorted((a["event_count"]) for a in alerts(retry)) == [1, 2]  # a's re-rendered, b's new
    assert len({a["alert_id"] for a in alerts(retry)}) == 2


def test_a_lost_race_is_planned_again_from_the_winners_item(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store, rival = DedupStore(ddb, TABLE), DedupStore(ddb.inner, TABLE)
    store.record([group(["e1"], threshold=3)], source="raw/1")
    raced = {"done": False}

    def rival_writes_first(op: str, kw: dict[str, Any]) -> None:
        if not raced["done"] and kw["Item"]["pk"]["S"].startswith("w#"):
            raced["done"] = True
            rival.record([group(["e2"], threshold=3)], source="raw/2")  # between our read and write

    ddb.fault = rival_writes_first
    out = store.record([group(["e3"], threshold=3)], source="raw/3")
    assert [a["event_count"] for a in alerts(out)] == [3]  # the crossing, decided on the real count


def test_endless_contention_ends_in_dedup_contention(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    store.record([group(["e0"], threshold=1000)], source="raw/0")
    n = {"i": 0}

    def always_beaten(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith("w#"):
            n["i"] += 1  # another detector moves the window on between our read and our write
            ddb.inner.update_item(
                TableName=TABLE,
                Key={"pk": kw["Item"]["pk"], "sk": kw["Item"]["sk"]},
                UpdateExpression="SET ver = ver + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )

    ddb.fault = always_beaten
    with pytest.raises(DedupContention):
        store.record([group(["e1"], threshold=1000)], source="raw/1")
    assert n["i"] == MAX_ROUNDS


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "ThrottlingException"])
def test_throttled_writes_are_retried_then_given_up(now: Any, code: str) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    left = {"n": 2}

    def throttle(op: str, kw: dict[str, Any]) -> None:
        if left["n"] > 0 and kw["Item"]["pk"]["S"].startswith("w#"):
            left["n"] -= 1
            raise _error(code, op)

    ddb.fault = throttle
    out = store.record([group(["e1"])], source="raw/1")
    assert [a["event_count"] for a in alerts(out)] == [1]
    left["n"] = 10**6
    with pytest.raises(DedupContention):
        store.record([group(["e2"], dedup="other")], source="raw/2")
    left["n"] = 0
    later = store.record([group(["e2"], dedup="other")], source="raw/2")  # SQS retries the object
    assert [a["event_count"] for a in alerts(later)] == [1]


def test_other_errors_are_not_swallowed(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)

    def denied(op: str, kw: dict[str, Any]) -> None:
        raise _error("AccessDeniedException", op)

    ddb.fault = denied
    with pytest.raises(ClientError, match="AccessDenied"):
        store.record([group(["e1"])], source="raw/1")


def test_a_pending_alert_older_than_the_idempotency_period_is_left_alone(now: Any) -> None:
    """Its receipt may be gone by TTL while its outbox is not: that must not re-queue it."""
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE, idempotency_ttl_s=3600)
    slow = Group(GroupKey(RULE, "R", "d"), 240, 1, False, [Hit("e1", None)], group([]).render)
    assert len(alerts(store.record([slow], source="raw/1"))) == 1  # never confirmed
    now["t"] = T0 + timedelta(hours=2)  # window still open, the pending alert 2 h old
    assert alerts(store.record([slow], source="raw/1")) == []


# ------------------------------------------------ markers claimed ahead of their window (Detections)


def marked(ids: list[str], dedup: str = "d", threshold: int = 1) -> Group:
    """A group of a CONTENT_MAY_CHANGE log type: one (rule, event) marker per counted event."""
    g = group(ids, dedup, threshold)
    g.markers = True
    return g


def _puts_to(ddb: Faulty, prefix: str) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    previous = ddb.fault

    def spy(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith(prefix):
            seen.append(kw)
        previous(op, kw)

    ddb.fault = spy
    return seen


def test_a_crash_between_a_claimed_marker_and_its_window_is_counted_by_the_objects_retry(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)

    def die_on_window(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith("w#"):
            raise RuntimeError("Lambda timed out")

    ddb.fault = die_on_window
    with pytest.raises(RuntimeError):
        store.record([marked(["det-1"], dedup="v1")], source="raw/pushed")  # marker claimed, no window
    ddb.fault = lambda op, kw: None
    # Another object reads the detection again, in a version whose dedup string differs: the claim
    # is honoured (its object's retry counts it), so neither counts nor alerts here.
    polled = store.record([marked(["det-1"], dedup="v2")], source="raw/polled")
    [outcome] = polled.values()
    assert alerts(polled) == [] and outcome.counted == [] and list(outcome.duplicates) == ["det-1"]
    assert outcome.duplicates["det-1"][1] == "raw/pushed"
    retry = store.record([marked(["det-1"], dedup="v1")], source="raw/pushed")  # SQS retries it
    [outcome] = retry.values()
    assert outcome.counted == ["det-1"] and [a["event_count"] for a in alerts(retry)] == [1]
    store.mark_sent(retry.receipt)
    again = store.record([marked(["det-1"], dedup="v1")], source="raw/pushed")  # redelivered
    assert alerts(again) == [] and list(next(iter(again.values())).duplicates) == ["det-1"]
    assert alerts(store.record([marked(["det-1"], dedup="v2")], source="raw/polled")) == []


def test_a_claimed_marker_is_not_claimed_again_when_its_window_write_loses_a_race(now: Any) -> None:
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store, rival = DedupStore(ddb, TABLE), DedupStore(ddb.inner, TABLE)
    store.record([marked(["e1"], threshold=3)], source="raw/1")
    raced = {"done": False}

    def rival_writes_first(op: str, kw: dict[str, Any]) -> None:
        if not raced["done"] and kw["Item"]["pk"]["S"].startswith("w#"):
            raced["done"] = True
            rival.record([marked(["e2"], threshold=3)], source="raw/2")  # between claim and window

    ddb.fault = rival_writes_first
    markers = _puts_to(ddb, "e#")
    out = store.record([marked(["e3"], threshold=3)], source="raw/3")
    assert [a["event_count"] for a in alerts(out)] == [3]  # planned again from the rival's window
    assert len(markers) == 1  # e3's marker, once


def test_the_same_object_twice_at_once_counts_a_claimed_event_once(now: Any) -> None:
    """SQS may hand one notification to two invocations: both claim (same object version), the
    window's version condition lets one count it and the other finds it remembered."""
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store, twin = DedupStore(ddb, TABLE), DedupStore(ddb.inner, TABLE)
    raced = {"done": False}
    twin_out: list[Any] = []

    def twin_runs_between(op: str, kw: dict[str, Any]) -> None:
        if not raced["done"] and kw["Item"]["pk"]["S"].startswith("w#"):
            raced["done"] = True
            twin_out.append(twin.record([marked(["det-1"])], source="raw/1"))

    ddb.fault = twin_runs_between
    out = store.record([marked(["det-1"])], source="raw/1")
    [twin_outcome], [outcome] = twin_out[0].values(), out.values()
    assert twin_outcome.counted == ["det-1"] and outcome.counted == []
    assert list(outcome.duplicates) == ["det-1"] and outcome.counted_from("det-1", "raw/1")
    assert len(alerts(twin_out[0])) == 1  # and ours re-renders the same pending alert, same id
    assert {a["alert_id"] for a in alerts(out)} <= {a["alert_id"] for a in alerts(twin_out[0])}


def test_a_claim_left_by_a_crash_is_honoured_by_the_retry_once_the_key_has_spilled(now: Any) -> None:
    """The object's retry finds the key past its inline budget: the marker is then written in the
    window's transaction, over this object's own claim."""
    ddb = Faulty(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)

    def die_on_window(op: str, kw: dict[str, Any]) -> None:
        if kw["Item"]["pk"]["S"].startswith("w#"):
            raise RuntimeError("Lambda timed out")

    ddb.fault = die_on_window
    with pytest.raises(RuntimeError):
        store.record([marked(["late"], threshold=1000)], source="raw/1")
    ddb.fault = lambda op, kw: None
    busy = store.record([marked([f"x{i}" for i in range(60)], threshold=1000)], source="raw/2")
    assert next(iter(busy.values())).event_count == 60
    retry = store.record([marked(["late"], threshold=1000)], source="raw/1")
    [outcome] = retry.values()
    assert outcome.counted == ["late"] and outcome.event_count == 61
    again = store.record([marked(["late", "x1"], threshold=1000)], source="raw/3")
    assert next(iter(again.values())).counted == [] and next(iter(again.values())).event_count == 61
