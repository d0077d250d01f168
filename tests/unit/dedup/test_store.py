"""DedupStore against moto's DynamoDB: windows, thresholds, idempotency, races, the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_fixtures import create_dedup_table
from moto import mock_aws

from wizwatch.alerts import clock
from wizwatch.dedup.model import RULE, AlertFacts, Group, GroupKey, Hit
from wizwatch.dedup.store import PENDING_GRACE_S, DedupStore

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TABLE = "dedup"


@pytest.fixture
def ddb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_dedup_table(client, TABLE)
        yield client


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    return current


def group(
    ids: list[str],
    *,
    rule: str = "Rule.A",
    dedup: str = "d1",
    threshold: int = 1,
    period: int = 60,
    uniques: list[str] | None = None,
    suppressed: bool = False,
) -> Group:
    def render(f: AlertFacts) -> dict[str, Any]:
        return {"alert_id": f.alert_id, "event_count": f.event_count, "first": f.first_event_time}

    hits = [
        Hit(
            identity=i,
            event_time=f"2026-11-22T09:00:{n % 60:02d}.000Z",
            unique=uniques[n] if uniques else None,
        )
        for n, i in enumerate(ids)
    ]
    return Group(
        key=GroupKey(RULE, rule, dedup),
        period_minutes=period,
        threshold=threshold,
        counts_unique=uniques is not None,
        hits=hits,
        render=render,
        suppressed=suppressed,
    )


def alerts(outcomes: dict[GroupKey, Any]) -> list[dict[str, Any]]:
    return [a for o in outcomes.values() for a in o.alerts]


def window(ddb: Any, key: GroupKey) -> dict[str, Any]:
    return ddb.get_item(TableName=TABLE, Key={"pk": {"S": key.pk}, "sk": {"S": "w"}})["Item"]


def test_first_match_opens_a_window_and_alerts_once(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    out = store.record([group(["e1"])], source="raw/a")
    sent = alerts(out)
    assert len(sent) == 1 and sent[0]["event_count"] == 1
    later = store.record([group(["e2", "e3"])], source="raw/b")
    assert alerts(later) == []
    outcome = next(iter(later.values()))
    assert outcome.event_count == 3 and outcome.alert_id == sent[0]["alert_id"]
    assert window(ddb, group([]).key)["event_count"] == {"N": "3"}


def test_the_same_events_again_are_not_counted_twice(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    first = store.record([group(["e1", "e2"], threshold=3)], source="raw/a")
    again = store.record([group(["e1", "e2"], threshold=3)], source="raw/b")  # an overlapping poll
    assert alerts(first) == alerts(again) == []
    outcome = next(iter(again.values()))
    assert outcome.counted == [] and set(outcome.duplicates) == {"e1", "e2"}
    assert outcome.duplicates["e1"][0] == next(iter(first.values())).alert_id
    assert outcome.counted_from("e1", "raw/a") and not outcome.counted_from("e1", "raw/b")
    assert window(ddb, group([]).key)["event_count"] == {"N": "2"}


def test_an_event_listed_twice_in_one_page_counts_once(ddb: Any, now: Any) -> None:
    out = DedupStore(ddb, TABLE).record([group(["e1", "e1", "e2"], threshold=3)], source="raw/a")
    assert alerts(out) == [] and next(iter(out.values())).event_count == 2


def test_threshold_alerts_exactly_once_when_crossed(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    assert alerts(store.record([group([f"e{i}" for i in range(4)], threshold=5)], source="raw/1")) == []
    crossed = alerts(store.record([group(["e4"], threshold=5)], source="raw/2"))
    assert [a["event_count"] for a in crossed] == [5]
    assert alerts(store.record([group(["e5", "e6"], threshold=5)], source="raw/3")) == []


def test_threshold_crossed_inside_one_batch(ddb: Any, now: Any) -> None:
    out = DedupStore(ddb, TABLE).record([group([f"e{i}" for i in range(7)], threshold=5)], source="raw/1")
    assert [a["event_count"] for a in alerts(out)] == [7]


def test_a_new_window_after_expiry_even_if_ttl_has_not_deleted_the_item(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    out = store.record([group(["e1"], period=15)], source="raw/1")
    first = alerts(out)
    store.mark_sent(out.receipt)
    now["t"] = T0 + timedelta(minutes=14, seconds=59)
    assert alerts(store.record([group(["e2"], period=15)], source="raw/2")) == []
    now["t"] = T0 + timedelta(minutes=15)
    second = alerts(store.record([group(["e3"], period=15)], source="raw/3"))
    assert len(second) == 1 and second[0]["event_count"] == 1
    assert second[0]["alert_id"] != first[0]["alert_id"]


def test_unique_counts_distinct_values(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    g = group(["e1", "e2", "e3", "e4"], threshold=3, uniques=["a", "b", "a", "b"])
    assert alerts(store.record([g], source="raw/1")) == []
    crossed = alerts(store.record([group(["e5"], threshold=3, uniques=["c"])], source="raw/2"))
    assert [a["event_count"] for a in crossed] == [5]


def test_suppressed_rules_count_but_never_alert(ddb: Any, now: Any) -> None:
    out = DedupStore(ddb, TABLE).record([group(["e1"], suppressed=True)], source="raw/1")
    assert alerts(out) == []
    assert window(ddb, group([]).key)["alert_state"] == {"S": "suppressed"}


def test_a_racing_detector_that_read_stale_state_joins_instead_of_alerting_again(
    ddb: Any, now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = DedupStore(ddb, TABLE), DedupStore(ddb, TABLE)
    stale = slow._read_windows([group([]).key])  # read before the other detector writes
    assert len(alerts(fast.record([group(["e1"], threshold=2)], source="raw/1"))) == 0
    monkeypatch.setattr(slow, "_read_windows", lambda keys: dict(stale))
    out = slow.record([group(["e2"], threshold=2)], source="raw/2")
    assert [a["event_count"] for a in alerts(out)] == [2]  # its cancelled write learned count 1
    assert alerts(fast.record([group(["e3"], threshold=2)], source="raw/3")) == []


def test_two_stale_detectors_opening_the_same_window_alert_once(
    ddb: Any, now: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = DedupStore(ddb, TABLE), DedupStore(ddb, TABLE)
    empty = a._read_windows([group([]).key])
    first = alerts(a.record([group(["e1"])], source="raw/1"))
    monkeypatch.setattr(b, "_read_windows", lambda keys: dict(empty))
    second = alerts(b.record([group(["e2"])], source="raw/2"))
    assert len(first) == 1 and second == []
    assert window(ddb, group([]).key)["event_count"] == {"N": "2"}


def test_a_pending_alert_is_requeued_by_the_retry_of_its_object(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    sent = alerts(store.record([group(["e1"])], source="raw/1"))
    # Crash before mark_sent: the same object comes back, and renders the very same alert again.
    retry = store.record([group(["e1"])], source="raw/1")
    assert alerts(retry) == sent
    store.mark_sent(retry.receipt)
    assert alerts(store.record([group(["e1"])], source="raw/1")) == []
    assert "alert_body" not in window(ddb, group([]).key)  # the window item stays small


def test_another_objects_pending_alert_waits_for_the_grace_period(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    sent = alerts(store.record([group(["e1"])], source="raw/1"))
    assert alerts(store.record([group(["e2"])], source="raw/2")) == []
    now["t"] = T0 + timedelta(seconds=PENDING_GRACE_S)
    assert [a["alert_id"] for a in alerts(store.record([group(["e3"])], source="raw/3"))] == [
        sent[0]["alert_id"]
    ]


def test_mark_sent_leaves_a_newer_window_alone(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    first = store.record([group(["e1"], period=1)], source="raw/1")
    now["t"] = T0 + timedelta(minutes=2)
    second = store.record([group(["e2"], period=1)], source="raw/2")  # takes raw/1's alert over
    new_id = second[group([]).key].alerts[0]["alert_id"]
    store.mark_sent(first.receipt)  # raw/1's receipt says nothing about raw/2's window
    now["t"] = T0 + timedelta(minutes=2) + timedelta(seconds=PENDING_GRACE_S)
    stale = {a["alert_id"] for a in alerts(store.record([group(["e3"], period=1)], source="raw/3"))}
    assert new_id in stale  # still pending (its window ended): the next writer queues it
    assert first[group([]).key].alerts[0]["alert_id"] not in stale
    store.mark_sent(second.receipt)
    assert alerts(store.record([group(["e2"], period=1)], source="raw/2")) == []


def test_requests_scale_with_groups_and_need_no_transaction(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    groups = [group([f"e{i}"], dedup=f"d{i}") for i in range(30)]
    out = store.record(groups, source="raw/1")
    assert len(alerts(out)) == 30
    assert store.requests == 1 + 30 + 1  # one batch read, one PutItem a window, the page's outbox
    store.mark_sent(out.receipt)
    assert store.requests == 33  # one receipt for the page, not one update per alert
    big = DedupStore(ddb, TABLE)
    out = big.record([group([f"x{i}" for i in range(250)], dedup="big", threshold=100)], source="raw/2")
    [crossed] = alerts(out)
    assert 100 <= crossed["event_count"] < 250  # counted in a few writes; crossed in exactly one
    assert next(iter(out.values())).event_count == 250
    # read + 3 transactions (the window with the 30 events that fit inline and up to 99 markers)
    # + the outbox
    assert big.requests == 1 + 3 + 1
    again = big.record([group([f"x{i}" for i in range(250)], dedup="big", threshold=100)], source="raw/3")
    assert next(iter(again.values())).counted == [] and len(next(iter(again.values())).duplicates) == 250


def test_windows_markers_and_outboxes_expire_by_ttl_attribute(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE, idempotency_ttl_s=3600)
    out = store.record([group(["e1"], period=10)], source="raw/1")
    store.mark_sent(out.receipt)
    store.record([group([f"m{i}" for i in range(40)], dedup="many", period=10)], source="raw/2")
    items = ddb.scan(TableName=TABLE)["Items"]
    expiries = {(i["pk"]["S"][0], i["sk"]["S"][0]): int(i["expires_at"]["N"]) for i in items}
    t0 = int(T0.timestamp())
    # The window item remembers its events for the idempotency period (after the window's end).
    assert expiries[("w", "w")] >= t0 + 3600 and expiries[("w", "w")] > t0 + 600
    assert expiries[("e", "e")] == t0 + 3600  # events past what fits inline: marker items
    assert expiries[("o", "a")] == expiries[("o", "s")] == t0 + 3600  # outbox and receipt


def test_a_window_that_expires_with_another_objects_alert_pending_never_loses_it(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    old = alerts(store.record([group(["e1"], period=1)], source="raw/1"))
    # raw/1's detector dies before queueing. The window ends, and within the grace period a
    # match from another object starts the next window over the item holding the outbox.
    now["t"] = T0 + timedelta(minutes=2)
    taken_over = alerts(store.record([group(["e2"], period=1)], source="raw/2"))
    retried = alerts(store.record([group(["e1"], period=1)], source="raw/1"))  # raw/1's retry
    queued = {a["alert_id"] for a in taken_over + retried}
    assert old[0]["alert_id"] in queued
    assert len(queued) == 2  # the old window's alert and the new window's own


def test_mark_sent_clears_every_window_even_if_one_was_superseded(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    a, b = group(["a1"], dedup="da"), group(["b1"], dedup="db")
    first = store.record([a, b], source="raw/1")
    assert len(alerts(first)) == 2
    now["t"] = T0 + timedelta(seconds=30)
    store.record([group(["a2"], dedup="da")], source="raw/2")
    store.mark_sent(first.receipt)
    # Neither window's alert is queued again, by the object's retry or by anyone else later.
    assert alerts(store.record([a, b], source="raw/1")) == []
    now["t"] = T0 + timedelta(seconds=PENDING_GRACE_S + 10)
    later = store.record([group(["b2"], dedup="db")], source="raw/3")  # stale, but its receipt exists
    assert alerts(later) == [] and later[b.key].event_count == 2
    assert window(ddb, b.key)["alert_state"] == {"S": "sent"}  # learned, and recorded for free


def test_an_old_and_a_new_alert_of_one_window_item_are_both_marked_sent(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    old = alerts(store.record([group(["e1"], period=1)], source="raw/1"))
    now["t"] = T0 + timedelta(minutes=2)
    # The retry of raw/1 finds its own pending alert in the expired window and a new match opens
    # the next window: two alerts for one item, which one transaction cannot both update.
    both = alerts(store.record([group(["e1", "e2"], period=1)], source="raw/1"))
    assert old[0]["alert_id"] in {a["alert_id"] for a in both} and len(both) == 2
    retry = store.record([group(["e1", "e2"], period=1)], source="raw/1")
    assert {a["alert_id"] for a in alerts(retry)} <= {a["alert_id"] for a in both}  # not yet confirmed
    store.mark_sent(retry.receipt)
    assert alerts(store.record([group(["e1", "e2"], period=1)], source="raw/1")) == []


def test_many_long_unique_values_fit_in_the_window_item(ddb: Any, now: Any) -> None:
    store = DedupStore(ddb, TABLE)
    values = [f"{i:04d}" + "u" * 500 for i in range(1000)]  # e.g. long user agents, threshold 1000
    ids = [f"e{i}" for i in range(1000)]
    for start in range(0, 1000, 250):
        out = store.record(
            [group(ids[start : start + 250], threshold=1000, uniques=values[start : start + 250])],
            source=f"raw/{start}",
        )
    assert [a["event_count"] for a in alerts(out)] == [1000]


def test_an_event_whose_dedup_changes_between_reads_counts_once_when_markers_are_asked_for(
    ddb: Any, now: Any
) -> None:
    """A detection pushed, then polled in a newer version: same identity, another dedup string."""
    store = DedupStore(ddb, TABLE)
    pushed, polled = group(["det-1"], dedup="v1"), group(["det-1"], dedup="v2 (linked to a threat)")
    pushed.markers = polled.markers = True
    assert len(alerts(store.record([pushed], source="raw/pushed"))) == 1
    again = store.record([polled], source="raw/polled")
    assert alerts(again) == [] and list(next(iter(again.values())).duplicates) == ["det-1"]
