"""Fixtures for the detector's unit tests: moto in-process resources and a small rule set."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from detector_fixtures import T0, page_body, write_rules
from moto import mock_aws

from wizwatch import aws
from wizwatch.alerts import clock

BUCKET = "raw-bucket"
TABLE = "dedup"


def s3_event(*keys: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": BUCKET}, "object": {"key": k.replace(" ", "+")}},
            }
            for k in keys
        ]
    }


def sqs_event(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"h{i}",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:raw",
                "body": b if isinstance(b, str) else json.dumps(b),
                "attributes": {},
                "messageAttributes": {},
            }
            for i, b in enumerate(bodies)
        ]
    }


class Env:
    def __init__(self, s3: Any, sqs: Any, ddb: Any, queue_url: str, rules: Path) -> None:
        self.s3, self.sqs, self.ddb, self.queue_url, self.rules = s3, sqs, ddb, queue_url, rules

    def put(self, key: str, records: list[Any] | None = None, body: bytes | None = None) -> str:
        self.s3.put_object(
            Bucket=BUCKET, Key=key, Body=body if body is not None else page_body(records or [])
        )
        return key

    def queued(self) -> list[dict[str, Any]]:
        out = []
        while True:
            msgs = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not msgs:
                return out
            for m in msgs:
                out.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])

    def lines(self, prefix: str) -> list[dict[str, Any]]:
        rows = []
        for obj in self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", []):
            body = self.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            rows += [json.loads(line) for line in gzip.decompress(body).splitlines()]
        return rows


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    return current


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: Any) -> Iterator[Env]:
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset_clients()
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName=TABLE,
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
        rules = write_rules(tmp_path / "rules")
        monkeypatch.setenv("DEDUP_TABLE", TABLE)
        monkeypatch.setenv("ALERT_QUEUE_URL", queue_url)
        monkeypatch.setenv("RAW_BUCKET", BUCKET)
        monkeypatch.setenv("RULES_DIR", str(rules))
        yield Env(s3, sqs, ddb, queue_url, rules)
        aws.reset_clients()
