"""Queueing alerts: SQS's character rules and batch limits."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
from moto import mock_aws

from wizwatch.alerts.message import dumps
from wizwatch.alerts.queue import send_alerts

#: What SQS accepts in a message body (anything else is refused with InvalidMessageContents).
SQS_ALLOWED = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")


def test_characters_sqs_refuses_are_escaped_and_the_alert_survives() -> None:
    alert: dict[str, Any] = {
        "alert_id": "a1",
        "severity": "HIGH",
        "alert_context": {"user_agent": "evil\uffff\ufffe", "ctl": "bell\x07"},
        "events": [{"name": "x\ufffey"}],
    }
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        assert send_alerts(sqs, url, [alert]) == 1
        body = sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"]
    assert SQS_ALLOWED.match(body)
    assert json.loads(body) == alert


class _Capture:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.bodies += [e["MessageBody"] for e in Entries]
        return {}


def test_json_already_rendered_for_an_alert_is_sent_for_that_very_alert_only() -> None:
    """The detector hands over what the dedup outbox rendered; another object with the same id
    (say, re-rendered or changed since) is rendered again, never sent as the stale bytes."""
    first, second = {"alert_id": "a1", "n": 1}, {"alert_id": "a2", "n": 2}
    rendered = {"a1": (first, b'{"from":"outbox"}'), "a2": (dict(second, n=3), b'{"stale":true}')}
    sqs = _Capture()
    assert send_alerts(sqs, "url", [first, second], rendered) == 1
    assert sqs.bodies == ['{"from":"outbox"}', dumps(second).decode()]
