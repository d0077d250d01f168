"""Queueing alerts: SQS's character rules and batch limits."""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
from moto import mock_aws

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
