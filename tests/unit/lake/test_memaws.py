"""The in-memory clients behave as moto's DynamoDB does for everything the dedup store asks.

The same store scenario (windows, thresholds, unique counts, redeliveries, expiry, suppressed
alerts, the outbox) runs against moto and against MemoryDynamoDB: same outcomes, same items.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_fixtures import create_dedup_table
from botocore.exceptions import ClientError
from moto import mock_aws

from wizwatch.alerts import clock
from wizwatch.dedup.model import RULE, RULE_ERROR, AlertFacts, Group, GroupKey, Hit
from wizwatch.dedup.store import DedupStore
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TABLE = "dedup"


def _group(
    ids: list[str],
    *,
    rule: str = "R",
    dedup: str = "d",
    threshold: int = 1,
    period: int = 60,
    uniques: list[str] | None = None,
    suppressed: bool = False,
    kind: str = RULE,
) -> Group:
    def render(f: AlertFacts) -> dict[str, Any]:
        return {"alert_id": f.alert_id, "event_count": f.event_count, "first": f.first_event_time}

    hits = [
        Hit(i, f"2026-11-22T09:00:{n:02d}.000Z", uniques[n] if uniques else None) for n, i in enumerate(ids)
    ]
    return Group(
        GroupKey(kind, rule, dedup), period, threshold, uniques is not None, hits, render, suppressed
    )


#: (minutes after T0, groups, source) steps of one scenario.
STEPS: list[tuple[int, Callable[[], list[Group]], str]] = [
    (0, lambda: [_group(["e1", "e2"]), _group(["f1"], rule="T", threshold=3)], "raw/1"),
    (1, lambda: [_group(["e1"]), _group(["f1", "f2"], rule="T", threshold=3)], "raw/1"),  # redelivery
    (2, lambda: [_group(["f3"], rule="T", threshold=3)], "raw/2"),  # crosses T's threshold
    (5, lambda: [_group(["u1", "u2", "u3"], rule="U", threshold=2, uniques=["a", "a", "a"])], "raw/3"),
    (6, lambda: [_group(["u4"], rule="U", threshold=2, uniques=["b"])], "raw/4"),
    (
        7,
        lambda: [_group(["s1"], rule="S", suppressed=True), _group(["x1"], rule="X", kind=RULE_ERROR)],
        "raw/5",
    ),
    (61, lambda: [_group(["e9"]), _group(["f9"], rule="T", threshold=3)], "raw/6"),  # windows ended
    (
        62,
        lambda: [_group([f"m{i}" for i in range(150)], rule="M", threshold=120)],
        "raw/7",
    ),  # > 1 transaction
]


def _run(
    client: Any, monkeypatch: pytest.MonkeyPatch, *, crash_before_mark: bool
) -> tuple[list[Any], list[Any]]:
    store = DedupStore(client, TABLE, idempotency_ttl_s=3600)
    seen = []
    for minutes, groups, source in STEPS:
        monkeypatch.setattr(clock, "now", lambda m=minutes: T0 + timedelta(minutes=m))
        out = store.record(groups(), source=source)
        sent = [(k.rule_id, a["alert_id"], a["event_count"]) for k, o in out.items() for a in o.alerts]
        seen.append(
            (sorted(sent), {k.rule_id: (sorted(o.counted), sorted(o.duplicates)) for k, o in out.items()})
        )
        if not crash_before_mark:
            store.mark_sent(out.receipt)
    items = []
    for pk in sorted({g.key.pk for _, groups, _ in STEPS for g in groups()}):
        got = client.batch_get_item(RequestItems={TABLE: {"Keys": [{"pk": {"S": pk}, "sk": {"S": "w"}}]}})
        items += [
            # p_gen: a run's generation, random by design (see DedupStore.record)
            {k: v for k, v in item.items() if k not in ("p_gen",)}
            for item in got["Responses"][TABLE]
        ]
    return seen, items


@pytest.mark.parametrize("crash_before_mark", [False, True])
def test_the_store_gets_the_same_answers_from_moto_and_from_memory(
    monkeypatch: pytest.MonkeyPatch, crash_before_mark: bool
) -> None:
    with mock_aws():
        moto_client = boto3.client("dynamodb", region_name="us-east-1")
        create_dedup_table(moto_client, TABLE)
        expected = _run(moto_client, monkeypatch, crash_before_mark=crash_before_mark)
    got = _run(MemoryDynamoDB({TABLE: ("pk", "sk")}), monkeypatch, crash_before_mark=crash_before_mark)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    assert any(sent for sent, _ in got[0]) and len(got[1]) >= 6


def test_conditions_updates_and_limits() -> None:
    ddb = MemoryDynamoDB({"t": ("pk", "sk")})
    key = {"pk": {"S": "a"}, "sk": {"S": "w"}}
    ddb.put_item(TableName="t", Item={**key, "n": {"N": "5"}, "s": {"S": "abc"}})
    ddb.update_item(TableName="t", Key=key, UpdateExpression="SET n = n + :one, #x = :x REMOVE s",
                    ConditionExpression="n BETWEEN :lo AND :hi AND begins_with(s, :p) "
                    "AND NOT attribute_exists(x)",
                    ExpressionAttributeNames={"#x": "x"},
                    ExpressionAttributeValues={":one": {"N": "1"}, ":lo": {"N": "1"}, ":hi": {"N": "9"},
                                               ":p": {"S": "ab"}, ":x": {"S": "y"}})  # fmt: skip
    assert ddb.get_item(TableName="t", Key=key)["Item"] == {**key, "n": {"N": "6"}, "x": {"S": "y"}}
    with pytest.raises(ClientError) as exc:
        ddb.put_item(TableName="t", Item=key, ConditionExpression="attribute_not_exists(pk)",
                     ReturnValuesOnConditionCheckFailure="ALL_OLD")  # fmt: skip
    assert exc.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert exc.value.response["Item"]["n"] == {"N": "6"}
    put = {"Put": {"TableName": "t", "Item": key}}
    with pytest.raises(ClientError, match="multiple operations on one item"):
        ddb.transact_write_items(TransactItems=[put, put])
    with pytest.raises(ClientError, match="maximum allowed size"):
        ddb.put_item(TableName="t", Item={**key, "big": {"S": "x" * 410_000}})  # over 400 KB
    with pytest.raises(ClientError, match="duplicates"):
        ddb.batch_get_item(RequestItems={"t": {"Keys": [key, key]}})
    with pytest.raises(NotImplementedError, match="scan"):
        ddb.scan(TableName="t")
    ddb.put_item(TableName="t", Item={"pk": {"S": "old"}, "sk": {"S": "e"}, "expires_at": {"N": "100"}})
    assert ddb.expire(101) == 1 and len(ddb) == 1


def test_s3_serves_what_it_was_given_and_sqs_checks_batches() -> None:
    puts: list[str] = []
    s3 = MemoryS3(on_put=lambda b, k, body, m: puts.append(k))
    s3.serve("b", "raw/x", b"body", {"m": "1"})
    assert s3.get_object(Bucket="b", Key="raw/x")["Body"].read() == b"body"
    s3.put_object(Bucket="b", Key="matches/y", Body=b"z")
    assert puts == ["matches/y"]
    s3.forget("b", "raw/x")
    with pytest.raises(ClientError, match="NoSuchKey"):
        s3.get_object(Bucket="b", Key="raw/x")
    bodies: list[str] = []
    sqs = MemorySQS(on_message=lambda q, body: bodies.append(body))
    sqs.send_message_batch(QueueUrl="q", Entries=[{"Id": "1", "MessageBody": "a"}])
    assert bodies == ["a"]
    with pytest.raises(ClientError, match="TooManyEntries"):
        sqs.send_message_batch(QueueUrl="q", Entries=[{"Id": str(i), "MessageBody": "a"} for i in range(11)])


def _signals(client: Any) -> list[Any]:
    from wizwatch.dedup.signals import SignalStore, partition
    from wizwatch.detect.correlation import Signal

    store = SignalStore(client, TABLE)
    pk, other = partition("Corr", "res-1"), partition("Corr", "res-2")
    base = T0.timestamp()
    items = [
        (pk, Signal("A", base + i * 60, (("resource", "res-1"),), f"e{i}", {"n": i}), 3600) for i in range(30)
    ]
    items += [(other, Signal("B", base, (("resource", "res-2"),), "x", None), 3600)]
    store.put(items, int(base))
    store.put(items[:3], int(base))  # written again: the same items
    got = store.read(pk, since=base + 10 * 60, now_s=int(base) + 60)
    return [(s.member, s.time, s.identity, s.values, s.info) for s in got]


def test_the_signal_store_reads_the_same_from_moto_and_from_memory() -> None:
    with mock_aws():
        moto_client = boto3.client("dynamodb", region_name="us-east-1")
        create_dedup_table(moto_client, TABLE)
        expected = _signals(moto_client)
    got = _signals(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    assert got == expected and len(got) == 20
