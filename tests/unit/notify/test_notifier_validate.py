"""The notifier checks each alert message: a malformed one fails alone, with one logged reason."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from alert_samples import contract_alert
from aws_fixtures import in_process_aws, sqs_batch, subscribed_topic

from wizwatch.alerts.message import fit
from wizwatch.errors import InvalidAlert
from wizwatch.notify.handler import handle
from wizwatch.notify.validate import validate_alert


def valid(alert_type: str = "RULE", **kw: Any) -> dict[str, Any]:
    return contract_alert(alert_type, **kw)


def broken(**changes: Any) -> str:
    alert = valid()
    for key, value in changes.items():
        if value is ...:
            del alert[key]
        else:
            alert[key] = value
    return json.dumps(alert)


MALFORMED = {
    "source is a list": (broken(source=[1]), "source"),  # used to crash with AttributeError
    "unknown severity": (broken(severity="URGENT"), "severity"),
    "lower-case severity": (broken(severity="high"), "severity"),
    "rule id with markup": (broken(rule_id="<img src=x>"), "rule_id"),
    "rule id with a newline": (broken(rule_id="Wiz.A\nInjected: yes"), "rule_id"),
    "empty rule id": (broken(rule_id=""), "rule_id"),
    "alert id with a slash": (broken(alert_id="../../x"), "alert_id"),
    "unknown alert type": (broken(alert_type="CORRELATION?"), "alert_type"),
    "count as a string": (broken(event_count="3"), "event_count"),
    "severity as a number": (broken(severity=3), "severity"),
    "no title": (broken(title=...), "title"),
    "no log types": (broken(log_types=[]), "log_types"),
    "tags not a list": (broken(tags="a,b"), "tags"),
    "error not an object": (broken(alert_type="RULE_ERROR", error="boom"), "error"),
    "not JSON": ("{'alert_id': 1}", "not JSON"),
    "a JSON list": ("[1, 2]", "JSON list"),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_alerts_are_refused_with_the_field_named(name: str) -> None:
    body, field = MALFORMED[name]
    with pytest.raises(InvalidAlert, match=field):
        validate_alert(body)


def test_every_alert_the_detector_builds_is_valid() -> None:
    for alert in (
        valid(),
        valid("RULE_ERROR"),
        valid(description="d" * 10_000, events=[{"big": "x" * 200_000}] * 3),  # trimmed by fit
        fit(valid(alert_context={"k": "v" * 300_000}), 100_000),  # context replaced by an _error note
        valid(rule_id="Custom Rule (v2) - prod_1", reports={}, tags=[], alert_context={}, events=[]),
    ):
        assert validate_alert(json.dumps(alert)) == alert


@pytest.fixture
def topic(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with in_process_aws(monkeypatch):
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        arn, queue = subscribed_topic(sns, sqs)
        monkeypatch.setenv("ALERT_TOPIC_ARN", arn)
        yield sqs, queue


def test_a_malformed_message_fails_alone_with_one_reason_and_the_valid_one_is_published(
    topic: tuple[Any, str], caplog: pytest.LogCaptureFixture
) -> None:
    sqs, queue = topic
    bad_body, _ = MALFORMED["source is a list"]
    result = handle(sqs_batch(json.dumps(valid()), bad_body, receive_count=2), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}  # SQS redrives it to the DLQ
    published = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(json.loads(m["Body"])["Message"])["alert_id"] for m in published] == ["c" * 32]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # one line, no traceback
    line = vars(errors[0])
    assert line["message_id"] == "m1" and line["receive_count"] == "2" and "source" in line["reason"]
