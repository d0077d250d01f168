"""The notifier: SNS message shape, e-mail text, attributes, size limit, partial failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_fixtures import in_process_aws, sqs_record, subscribed_topic

from wizwatch.alerts.message import SNS_MAX_BYTES, AlertSpec, build_alert
from wizwatch.notify import email
from wizwatch.notify.handler import handle
from wizwatch.notify.publish import build_publish


def alert(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        alert_type="RULE",
        rule_id="Wiz.User.Created.Or.Deleted",
        rule_name="Wiz User Created Or Deleted",
        title="[Wiz]: [DeleteUser] action performed by user [alice@example.com]",
        severity="HIGH",
        dedup_string="e1",
        dedup_period_minutes=60,
        threshold=1,
        log_types=["Wiz.Audit"],
        description="Detects users created or deleted.",
        runbook="Check the change was planned.",
        reference="https://example.com/ref",
        reports={"MITRE ATT&CK": ["TA0003:T1136"]},
        alert_context={
            "action": "DeleteUser",
            "actor": {"name": "alice@example.com"},
            "source_ip": "1.2.3.4",
        },
        events=[{"id": "e1", "p_log_type": "Wiz.Audit"}],
        source={
            "raw_object": "s3://b/raw/Wiz.Audit/x.json.gz",
            "log_type": "Wiz.Audit",
            "matches_prefix": "s3://b/matches/Wiz.User.Created.Or.Deleted/",
            "matches_object": "s3://b/matches/Wiz.User.Created.Or.Deleted/dt=2026-11-22/x.json.gz",
        },
    )
    base.update(kw)
    return build_alert(
        AlertSpec(**base),
        alert_id="a" * 32,
        event_count=3,
        first_event_time="2026-11-22T09:00:00.000Z",
        last_event_time="2026-11-22T09:10:00.000Z",
        created_at="2026-11-22T10:00:00.000Z",
    )


def test_subject_is_short_ascii_one_line() -> None:
    s = email.subject(alert(title="Ünïcode\nnew line " + "x" * 300))
    assert len(s) <= 100 and s.isascii() and "\n" not in s and s.startswith("[HIGH] ")


def test_email_body_reads_well() -> None:
    text = email.body(alert())
    for needle in (
        "Severity:     HIGH",
        "Wiz User Created Or Deleted (Wiz.User.Created.Or.Deleted)",
        "Events:       3 (threshold 1, dedup period 60 min)",
        "2026-11-22T09:00:00.000Z .. 2026-11-22T09:10:00.000Z",
        "Runbook:",
        "  action: DeleteUser",
        "s3://b/matches/Wiz.User.Created.Or.Deleted/",
        "p_alert_id = " + "a" * 32,
    ):
        assert needle in text


def test_publish_arguments_follow_the_contract() -> None:
    args = build_publish("arn:aws:sns:us-east-1:123456789012:alerts", alert())
    assert args["MessageStructure"] == "json"
    doc = json.loads(args["Message"])
    assert json.loads(doc["default"])["alert_id"] == "a" * 32
    assert doc["email"].startswith("[Wiz]: [DeleteUser]")
    assert {k: v["StringValue"] for k, v in args["MessageAttributes"].items()} == {
        "severity": "HIGH",
        "rule_id": "Wiz.User.Created.Or.Deleted",
        "alert_type": "RULE",
        "log_type": "Wiz.Audit",
    }


def test_the_largest_possible_alert_fits_in_one_sns_message() -> None:
    worst = alert(
        alert_context={"k": '"\\' * 102_400},
        events=[{"e": '"' * 100_000}] * 10,
        title='"' * 1000,
        description='"' * 1000,
        runbook='"' * 1000,
        dedup_string='"' * 1000,
    )
    args = build_publish("arn:aws:sns:us-east-1:123456789012:alerts", worst)
    size = (
        len(args["Message"].encode())
        + len(args["Subject"])
        + sum(
            len(k) + len(v["StringValue"]) + len(v["DataType"]) for k, v in args["MessageAttributes"].items()
        )
    )
    assert size <= SNS_MAX_BYTES
    assert json.loads(json.loads(args["Message"])["default"])["alert_id"] == "a" * 32


@pytest.fixture
def sns_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    with in_process_aws(monkeypatch):
        sns, sqs = boto3.client("sns"), boto3.client("sqs")
        topic, q = subscribed_topic(sns, sqs)
        monkeypatch.setenv("ALERT_TOPIC_ARN", topic)
        yield sqs, q


def _record(i: int, body: str) -> dict[str, Any]:
    return sqs_record(body, f"m{i}")


def test_handler_publishes_and_reports_bad_messages(sns_env: tuple[Any, str]) -> None:
    sqs, q = sns_env
    good = json.dumps(alert())
    result = handle({"Records": [_record(0, good), _record(1, "not json"), _record(2, "{}")]}, None)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m1", "m2"]
    msgs = sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10)["Messages"]
    assert len(msgs) == 1
    envelope = json.loads(msgs[0]["Body"])
    assert json.loads(envelope["Message"])["alert_id"] == "a" * 32  # SQS subscribers get the default
    assert envelope["MessageAttributes"]["severity"]["Value"] == "HIGH"


def test_handler_refuses_a_bad_topic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALERT_TOPIC_ARN", "alerts")
    with pytest.raises(Exception, match="ALERT_TOPIC_ARN"):
        handle({"Records": []}, None)
