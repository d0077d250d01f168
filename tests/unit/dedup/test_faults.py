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
