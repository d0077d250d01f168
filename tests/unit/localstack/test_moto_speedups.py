"""moto_speedups: a cancelled transaction leaves every item as it was; expired SQS messages stay unseen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from wizwatch_tools.localstack import moto_speedups


@pytest.fixture
def ddb() -> Iterator[Any]:
    moto_speedups.install()
    moto_speedups.install()  # idempotent
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="h",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.create_table(
            TableName="hr",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        for i in range(3):
            client.put_item(TableName="h", Item={"pk": {"S": f"k{i}"}, "n": {"N": str(i)}})
        client.put_item(TableName="hr", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "old"}})
        yield client


def everything(client: Any) -> dict[str, list[dict[str, Any]]]:
    return {
        t: sorted(
            client.scan(TableName=t)["Items"], key=lambda i: (i["pk"]["S"], i.get("sk", {}).get("S", ""))
        )
        for t in ("h", "hr")
    }


def changes(fail: bool) -> list[dict[str, Any]]:
    return [
        {"Put": {"TableName": "h", "Item": {"pk": {"S": "new"}, "n": {"N": "9"}}}},
        {
            "Update": {
                "TableName": "h",
                "Key": {"pk": {"S": "k0"}},
                "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "100"}},
            }
        },
        {"Delete": {"TableName": "h", "Key": {"pk": {"S": "k1"}}}},
        {"Put": {"TableName": "hr", "Item": {"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "new"}}}},
        {"Put": {"TableName": "hr", "Item": {"pk": {"S": "b"}, "sk": {"S": "2"}, "v": {"S": "new"}}}},
        {
            "ConditionCheck": {
                "TableName": "h",
                "Key": {"pk": {"S": "k2"}},
                "ConditionExpression": "n = :x",
                "ExpressionAttributeValues": {":x": {"N": "-1" if fail else "2"}},
            }
        },
    ]


def test_a_cancelled_transaction_leaves_every_item_as_it_was(ddb: Any) -> None:
    before = everything(ddb)
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(TransactItems=changes(fail=True))
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in err.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert everything(ddb) == before  # the new items gone, the updated and deleted ones back


def test_a_transaction_naming_one_item_twice_is_refused_and_changes_nothing(ddb: Any) -> None:
    before = everything(ddb)
    twice = [changes(fail=False)[0], {"Delete": {"TableName": "h", "Key": {"pk": {"S": "new"}}}}]
    with pytest.raises(ClientError):
        ddb.transact_write_items(TransactItems=twice)
    assert everything(ddb) == before


def test_a_successful_transaction_applies_every_change(ddb: Any) -> None:
    ddb.transact_write_items(TransactItems=changes(fail=False))
    h = {i["pk"]["S"]: i for i in everything(ddb)["h"]}
    assert set(h) == {"new", "k0", "k2"} and h["k0"]["n"] == {"N": "100"}
    hr = {(i["pk"]["S"], i["sk"]["S"]): i["v"]["S"] for i in everything(ddb)["hr"]}
    assert hr == {("a", "1"): "new", ("b", "2"): "new"}


def test_messages_past_the_retention_period_are_never_received() -> None:
    moto_speedups.install()
    with mock_aws():
        from moto.sqs.models import sqs_backends

        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="q", Attributes={"MessageRetentionPeriod": "60"})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="new")
        sqs.send_message(QueueUrl=url, MessageBody="old")  # (moto ends a batch at an expired one)
        queue = sqs_backends["123456789012"]["us-east-1"].get_queue("q")
        old = next(m for m in queue._messages if m.body == "old")
        old.sent_timestamp -= 61_000  # sent 61 s before the 60 s retention ends
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == ["new"]
