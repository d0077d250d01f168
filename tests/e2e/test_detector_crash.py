"""A detector killed mid-object (a real crash, in its own process) loses no alert and sends no new one.

The dedup store writes the alert into its window (the outbox) in the same transaction that counts
the events; the retry of the object finds it there and queues it with the same ``alert_id``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import audit, key_for, page_body, write_rules

from wizwatch_tools.localstack import CrashResult


@pytest.fixture
def det(stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(stack.spec("detector").environment, "RULES_DIR", str(write_rules(tmp_path / "rules")))
    return stack


def _crash_on_first_delivery(stack: Any, crash_at: str) -> None:
    queue = stack.resources["raw_queue_url"]
    messages = stack.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    [message] = [m for m in messages if "ObjectCreated" in m["Body"]]  # not S3's s3:TestEvent
    event = {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:raw",
                "awsRegion": "us-east-1",
            }
        ]
    }
    result = stack.invoke("detector", event, fresh_process=True, crash_at=crash_at)
    assert isinstance(result, CrashResult)
    # The message was never deleted: SQS makes it visible again after the visibility timeout.
    stack.sqs.change_message_visibility(
        QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


def _put(stack: Any) -> None:
    stack.s3.put_object(
        Bucket=stack.resources["bucket"],
        Key=key_for(1),
        Body=page_body([audit("a1"), audit("n1", action="Login")]),
    )


def test_crash_after_counting_before_queueing_still_alerts_once(det: Any) -> None:
    _put(det)
    _crash_on_first_delivery(det, "after:wizwatch.dedup.store.DedupStore.record")
    det.run_detector()
    det.run_notifier()
    alerts = det.received_alerts()
    assert [(a["rule_id"], a["dedup_string"], a["event_count"]) for a in alerts] == [
        ("Test.DeleteUser", "a1", 1)
    ]


def test_crash_after_queueing_resends_the_same_alert_id(det: Any) -> None:
    _put(det)
    _crash_on_first_delivery(det, "after:wizwatch.alerts.queue.send_alerts")
    det.run_detector()
    det.run_notifier()
    alerts = det.received_alerts()
    # At least once, never a different alert: a consumer can drop the copy by alert_id.
    assert 1 <= len(alerts) <= 2 and len({a["alert_id"] for a in alerts}) == 1
    assert alerts[0]["event_count"] == 1
