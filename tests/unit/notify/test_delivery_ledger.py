"""The delivery ledger: an alert SQS delivers twice reaches each destination once, never lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import pytest
from aws_fixtures import create_dedup_table, in_process_aws, sqs_batch, subscribed_topic
from botocore.exceptions import ClientError

from wizwatch import aws
from wizwatch.notify.handler import handle
from wizwatch.notify.ledger import STALE_SECONDS, DeliveryInProgress, DeliveryLedger

TABLE = "dedup"
ALERT = {
    "version": 1,
    "alert_id": "b" * 32,
    "alert_type": "RULE",
    "rule_id": "Wiz.Revoke.User.Sessions",
    "rule_name": "Wiz Revoke User Sessions",
    "title": "[Wiz]: [RevokeUserSessions] action performed by user [alice@example.com]",
    "severity": "HIGH",
    "dedup_string": "alice@example.com",
    "dedup_period_minutes": 60,
    "threshold": 1,
    "log_types": ["Wiz.Audit"],
    "event_count": 1,
    "first_event_time": "2026-11-22T09:00:00.000Z",
    "last_event_time": "2026-11-22T09:00:00.000Z",
    "created_at": "2026-11-22T09:01:00.000Z",
    "description": "",
    "runbook": "",
    "reference": "",
    "reports": {},
    "tags": [],
    "alert_context": {},
    "events": [],
    "error": None,
    "source": {"log_type": "Wiz.Audit"},
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with in_process_aws(monkeypatch):
        ddb, sns, sqs = boto3.client("dynamodb"), boto3.client("sns"), boto3.client("sqs")
        create_dedup_table(ddb, TABLE)
        topic, queue = subscribed_topic(sns, sqs)
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
        monkeypatch.setenv("DEDUP_TABLE", TABLE)
        monkeypatch.setenv("DELIVERY_INLINE_WAIT_SECONDS", "0")  # no real sleeping in unit tests
        yield {"ddb": ddb, "sqs": sqs, "queue": queue}


def _published(env: dict[str, Any]) -> list[str]:
    ids = []
    while True:
        msgs = env["sqs"].receive_message(QueueUrl=env["queue"], MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return ids
        for m in msgs:
            ids.append(json.loads(json.loads(m["Body"])["Message"])["alert_id"])
            env["sqs"].delete_message(QueueUrl=env["queue"], ReceiptHandle=m["ReceiptHandle"])


def test_the_same_alert_delivered_three_times_is_published_once(env: dict[str, Any]) -> None:
    body = json.dumps(ALERT)
    assert handle(sqs_batch(body), None) == {"batchItemFailures": []}
    assert handle(sqs_batch(body, body), None) == {"batchItemFailures": []}
    assert _published(env) == [ALERT["alert_id"]]


def test_a_failed_publish_releases_its_claim_so_the_retry_publishes(env: dict[str, Any]) -> None:
    body = json.dumps(ALERT)
    sns = aws.client("sns")
    with mock.patch.object(sns, "publish", side_effect=RuntimeError("SNS is down")):
        assert handle(sqs_batch(body), None) == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert _published(env) == []
    assert handle(sqs_batch(body), None) == {"batchItemFailures": []}
    assert _published(env) == [ALERT["alert_id"]]


def test_a_fresh_claim_held_elsewhere_makes_the_copy_wait(env: dict[str, Any]) -> None:
    ledger = DeliveryLedger(env["ddb"], TABLE)
    held = ledger.claim("c" * 32, "sns", now=1_000_000)
    assert held is not None
    with pytest.raises(DeliveryInProgress):
        ledger.claim("c" * 32, "sns", now=1_000_000 + STALE_SECONDS - 1)
    # another destination of the same alert is its own delivery
    assert ledger.claim("c" * 32, "slack", now=1_000_000) is not None


def test_an_abandoned_claim_is_taken_over_and_a_published_one_never_is(env: dict[str, Any]) -> None:
    ledger = DeliveryLedger(env["ddb"], TABLE)
    dead = ledger.claim("d" * 32, "sns", now=1_000_000)
    assert dead is not None
    # The first notifier died after claiming: a redelivery after STALE_SECONDS delivers.
    taken = ledger.claim("d" * 32, "sns", now=1_000_000 + STALE_SECONDS + 1)
    assert taken is not None and taken.token != dead.token
    ledger.delivered(taken, now=1_000_000 + STALE_SECONDS + 2, external_id="m-1")
    # The dead notifier's late mark or release cannot undo the new owner's record.
    ledger.release(dead)
    ledger.delivered(dead, now=1_000_000 + STALE_SECONDS + 3)
    assert ledger.claim("d" * 32, "sns", now=9_999_999_999) is None
    item = env["ddb"].get_item(TableName=TABLE, Key={"pk": {"S": "d#" + "d" * 32}, "sk": {"S": "sns"}})[
        "Item"
    ]
    assert item["token"]["S"] == taken.token and item["external_id"]["S"] == "m-1"


def test_without_a_ledger_table_the_notifier_still_publishes(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DEDUP_TABLE")
    assert handle(sqs_batch(json.dumps(ALERT)), None) == {"batchItemFailures": []}
    assert _published(env) == [ALERT["alert_id"]]


def test_a_publish_sns_accepted_is_not_retried_when_marking_it_fails(env: dict[str, Any]) -> None:
    # Failing the message after SNS took it would make SQS redeliver it, and once the claim is
    # stale the redelivery publishes the alert a second time.
    body = json.dumps(ALERT)
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "UpdateItem")
    with mock.patch.object(DeliveryLedger, "delivered", side_effect=throttled):
        assert handle(sqs_batch(body), None) == {"batchItemFailures": []}
    assert _published(env) == [ALERT["alert_id"]]
