"""The capacity meter against the examples AWS documents (DynamoDB developer guide: "DynamoDB
item sizes and formats", "DynamoDB read and write operations", "Capacity management for
transactions"), on the in-memory client and on moto through boto3."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from wizwatch_tools.bench.capacity import (
    CapacityMeter,
    item_bytes,
    number_bytes,
    read_units,
    value_bytes,
    write_units,
)
from wizwatch_tools.lake.memaws import MemoryDynamoDB

T = "t"


def _item(pk: str, size: int) -> dict[str, Any]:
    """An item of exactly ``size`` bytes: pk (2 + len) and a padding string attribute "p"."""
    base = 2 + len(pk) + 1  # "pk" + value, "p" name
    return {"pk": {"S": pk}, "p": {"S": "x" * (size - base)}}


def _meter() -> tuple[CapacityMeter, MemoryDynamoDB]:
    db = MemoryDynamoDB({T: ("pk",)})
    return CapacityMeter(db), db


# ---------------------------------------------------------------------------------- sizes


def test_item_size_rules() -> None:
    assert item_bytes({"name": {"S": "abc"}}) == 4 + 3
    assert item_bytes({"é": {"S": "é"}}) == 2 + 2  # UTF-8 bytes, names too
    assert item_bytes({"b": {"BOOL": True}, "n": {"NULL": True}}) == 2 + 2
    assert item_bytes({"bin": {"B": b"\x00\x01\x02"}}) == 3 + 3  # raw bytes, not base64
    # Numbers: 1 byte per two significant digits + 1; leading/trailing zeros trimmed.
    assert number_bytes("12345") == 3 + 1
    assert number_bytes("1234") == 2 + 1
    assert number_bytes("0001200") == 1 + 1
    assert number_bytes("-3.14159") == 3 + 1
    assert number_bytes("0") == 1 + 1
    # List / Map: 3 bytes + each element + 1 byte per element (a Map element also its name).
    assert value_bytes({"L": []}) == 3
    assert value_bytes({"L": [{"S": "ab"}, {"S": "c"}]}) == 3 + (1 + 2) + (1 + 1)
    assert value_bytes({"M": {"k": {"S": "v"}}}) == 3 + 1 + 1 + 1
    assert value_bytes({"SS": ["ab", "c"]}) == 3
    assert _item("a", 1500) and item_bytes(_item("a", 1500)) == 1500
    with pytest.raises(ValueError):
        value_bytes({"X": 1})


def test_rounding_examples_from_the_guide() -> None:
    # "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
    assert read_units(3500, consistent=True) == 1
    # "if your item size is 8 KB, you require 2 read units ... 1 eventually consistent"
    assert read_units(8 * 1024, consistent=True) == 2
    assert read_units(8 * 1024, consistent=False) == 1
    # GetItem: "If you read a 10 KB item, DynamoDB rounds the item size to 12 KB"
    assert read_units(10 * 1024, consistent=True) == 3
    # writes round up to 1 KB: 500 bytes -> 1, 1.5 KB -> 2
    assert write_units(500) == 1
    assert write_units(1536) == 2
    assert write_units(0) == 1


# ---------------------------------------------------------------------------------- writes


def test_put_update_delete_and_the_larger_image() -> None:
    m, _ = _meter()
    m.put_item(TableName=T, Item=_item("a", 1536))  # 1.5 KB -> 2
    assert m.wru == 2
    m.put_item(TableName=T, Item=_item("a", 500))  # replaces a 1.5 KB item: the larger, 2
    assert m.wru == 4
    m.put_item(TableName=T, Item=_item("b", 2600))  # 3
    # UpdateItem shrinking a 2.6 KB item to a few bytes: the larger (before) image, 3
    m.update_item(TableName=T, Key={"pk": {"S": "b"}}, UpdateExpression="REMOVE p")
    assert m.wru == 4 + 3 + 3
    # UpdateItem growing a small item: the after image (2 KB -> 2)
    m.update_item(
        TableName=T,
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET p = :p",
        ExpressionAttributeValues={":p": {"S": "y" * 2000}},
    )
    assert m.wru == 10 + 2
    m.delete_item(TableName=T, Key={"pk": {"S": "a"}})  # the deleted 500-byte item: 1
    assert m.wru == 13
    assert m.requests == {"PutItem": 3, "UpdateItem": 2, "DeleteItem": 1}
    assert m.rru == 0


def test_failed_condition_still_consumes() -> None:
    m, _ = _meter()
    m.put_item(TableName=T, Item=_item("a", 3000))  # 3
    with pytest.raises(ClientError):
        m.put_item(TableName=T, Item=_item("a", 100), ConditionExpression="attribute_not_exists(pk)")
    assert m.wru == 3 + 3  # the existing 3 KB item is the larger
    with pytest.raises(ClientError):
        m.delete_item(TableName=T, Key={"pk": {"S": "zz"}}, ConditionExpression="attribute_exists(pk)")
    assert m.wru == 6 + 1  # nothing there: the minimum
    assert m.condition_failures == 2


def test_batch_write_each_item_on_its_own() -> None:
    m, _ = _meter()
    # "a 500-byte item and a 3.5 KB item ... 5 KB (1 KB + 4 KB), not 4 KB"
    m.batch_write_item(
        RequestItems={
            T: [{"PutRequest": {"Item": _item("a", 500)}}, {"PutRequest": {"Item": _item("b", 3584)}}]
        }
    )
    assert m.wru == 5


def test_transactions_cost_double_and_cancellations_are_metered() -> None:
    m, _ = _meter()
    m.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": T, "Item": _item("a", 500)}},  # 2 x 1
            {"Put": {"TableName": T, "Item": _item("b", 1536)}},  # 2 x 2
        ]
    )
    assert m.wru == 6
    m.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": T,
                    "Key": {"pk": {"S": "b"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Update": {"TableName": T, "Key": {"pk": {"S": "a"}}, "UpdateExpression": "REMOVE p"}},
        ]
    )
    assert m.wru == 6 + 2 * 2 + 2 * 1
    with pytest.raises(ClientError):
        m.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": T, "Item": _item("c", 100)}},
                {
                    "Put": {
                        "TableName": T,
                        "Item": _item("b", 100),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert m.wru == 12 + 2 * 1 + 2 * 2
    assert m.condition_failures == 1
    assert m.requests == {"TransactWriteItems": 3}


# ---------------------------------------------------------------------------------- reads


def test_reads_strong_eventual_missing_batch_and_query() -> None:
    m, db = _meter()
    for pk, size in (("a", 1536), ("b", 6656), ("c", 10 * 1024)):
        db.put_item(TableName=T, Item=_item(pk, size))
    m.get_item(TableName=T, Key={"pk": {"S": "c"}}, ConsistentRead=True)  # 10 KB -> 12 KB: 3
    m.get_item(TableName=T, Key={"pk": {"S": "c"}})  # eventually consistent: 1.5
    m.get_item(TableName=T, Key={"pk": {"S": "nope"}}, ConsistentRead=True)  # missing: still 1
    assert m.rru == 3 + 1.5 + 1
    # "BatchGetItem reads a 1.5 KB item and a 6.5 KB item ... 12 KB (4 KB + 8 KB), not 8 KB"
    m.batch_get_item(
        RequestItems={T: {"Keys": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}], "ConsistentRead": True}}
    )
    assert m.rru == 5.5 + 3
    assert m.wru == 0


def test_query_bills_what_the_key_condition_read_before_the_filter() -> None:
    db = MemoryDynamoDB({T: ("pk", "sk")})
    m = CapacityMeter(db)
    for i in range(10):  # ten items of 4,178 bytes: 41,780 bytes read (40.8 KB) -> 44 KB -> 11
        db.put_item(TableName=T, Item={"pk": {"S": "p"}, "sk": {"S": f"{i}"}, "v": {"S": "x" * 4171}})
    got = m.query(
        TableName=T,
        KeyConditionExpression="pk = :p",
        FilterExpression="sk = :one",
        ExpressionAttributeValues={":p": {"S": "p"}, ":one": {"S": "1"}},
        ConsistentRead=True,
    )
    assert got["Count"] == 1
    assert m.rru == 11
    m.query(TableName=T, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "p"}})
    assert m.rru == 11 + 5.5


# ---------------------------------------------------------------------------------- boto3


def test_the_meter_wraps_a_boto3_client_too() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=T,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        m = CapacityMeter(client)
        m.put_item(TableName=T, Item=_item("a", 2600))  # 3
        m.update_item(
            TableName=T,
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET p = :p",
            ExpressionAttributeValues={":p": {"S": "y" * 4000}},
        )  # after image read back: 4 KB -> 4
        m.get_item(TableName=T, Key={"pk": {"S": "a"}}, ConsistentRead=True)
        assert m.wru == 3 + 4
        assert m.rru == 1
        assert m.requests == {"PutItem": 1, "UpdateItem": 1, "GetItem": 1}
