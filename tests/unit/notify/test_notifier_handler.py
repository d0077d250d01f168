"""The notifier's entry: alerts fanned out to one delivery message per destination, deliveries
made and retried through SQS visibility, bad messages reported back; in-process moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import sqs_record, subscribed_topic

from wizwatch.notify import handler as notifier
from wizwatch_tools.destinations_cli import sample_alert
from wizwatch_tools.localstack.receivers import LocalDestinations


class Context:
    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def env(
    secret_arn: str, local: LocalDestinations, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    sqs, sns = boto3.client("sqs"), boto3.client("sns")
    topic, _ = subscribed_topic(sns, sqs)
    queue = sqs.create_queue(QueueName="deliveries", Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
    for k, v in {
        "ALERT_TOPIC_ARN": topic,
        "DESTINATIONS_FILE": str(local.write_document(tmp_path / "d.yml")),
        "DESTINATIONS_SECRET": secret_arn,
        "DELIVERY_QUEUE_URL": queue,
        "DESTINATIONS_ALLOW_LOOPBACK_HTTP": "true",
        "DELIVERY_INLINE_WAIT_SECONDS": "0",
    }.items():
        monkeypatch.setenv(k, v)
    notifier.destinations_from.cache_clear()
    return {"sqs": sqs, "queue": queue}


def record(body: Any, source: str = "alerts", message_id: str = "m1", handle: str = "h") -> dict[str, Any]:
    return sqs_record(
        body if isinstance(body, str) else json.dumps(body), message_id, source=source, receipt=handle
    )


def queued(env: dict[str, Any]) -> list[dict[str, Any]]:
    msgs = env["sqs"].receive_message(QueueUrl=env["queue"], MaxNumberOfMessages=10, AttributeNames=["All"])
    return msgs.get("Messages", [])


def test_an_alert_becomes_one_delivery_message_per_destination(env: dict[str, Any]) -> None:
    routed = sample_alert("HIGH", destinations=["slack", "pagerduty", "slack"])
    unrouted = sample_alert("INFO", alert_id="b" * 32)  # no 'destinations': the document's defaults
    result = notifier.handle({"Records": [record(routed), record(unrouted, message_id="m2")]}, Context())
    assert result == {"batchItemFailures": []}
    got = sorted(
        (json.loads(m["Body"])["alert"]["alert_id"], json.loads(m["Body"])["destination"])
        for m in queued(env)
    )
    every = sorted(("b" * 32, n) for n in ("sns", "slack", "teams", "pagerduty", "jira", "webhook"))
    assert got == sorted([(routed["alert_id"], "slack"), (routed["alert_id"], "pagerduty"), *every])


def test_bad_messages_are_reported_back(env: dict[str, Any]) -> None:
    bad_id = sample_alert(alert_id="../../etc")
    not_delivery = {"kind": "wizwatch.delivery", "version": 1, "destination": "slack"}
    result = notifier.handle(
        {
            "Records": [
                record(bad_id),
                record("not json", message_id="m2"),
                record(not_delivery, message_id="m3"),
            ]
        },
        Context(),
    )
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m1", "m2", "m3"]
    assert queued(env) == []


def test_a_deferred_delivery_goes_back_to_the_queue_with_its_delay(
    env: dict[str, Any], local: LocalDestinations
) -> None:
    alert = sample_alert()
    env["sqs"].send_message(
        QueueUrl=env["queue"],
        MessageBody=json.dumps(
            {"kind": "wizwatch.delivery", "version": 1, "destination": "slack", "alert": alert}
        ),
    )
    [_] = queued(env)
    [msg] = queued(env)  # visible again at once: the queue sets no delay of its own
    local.receivers.fail("slack", 429, retry_after=600)
    rec = record(msg["Body"], source="deliveries", handle=msg["ReceiptHandle"])
    assert notifier.handle({"Records": [rec]}, Context()) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    # the queue's own visibility timeout is 0: only the handler's delay keeps it hidden now
    assert queued(env) == []
    assert [r.status for r in local.receivers.received("slack")] == [429]
