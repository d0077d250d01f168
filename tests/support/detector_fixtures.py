"""A small Panther-format rule set and audit records for the detector's tests (unit and e2e)."""

from __future__ import annotations

import gzip
import json
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import create_dedup_table, in_process_aws

from wizwatch.alerts import clock
from wizwatch.archive.keys import raw_key

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

RULES = {
    "test_delete_user": (
        """
        AnalysisType: rule
        RuleID: Test.DeleteUser
        DisplayName: Test user deleted
        Enabled: true
        Filename: test_delete_user.py
        Severity: High
        LogTypes: [Wiz.Audit]
        Runbook: Check who deleted the user.
        Reference: https://example.com/runbook
        Reports: {MITRE ATT&CK: ["TA0040:T1531"]}
        Tags: [test]
        DedupPeriodMinutes: 60
        """,
        """
        def rule(event):
            return event.get("status") == "SUCCESS" and event.get("action") == "DeleteUser"

        def title(event):
            return f"User deleted by {event.deep_get('user', 'name', default='unknown')}"

        def dedup(event):
            return event.get("id")

        def alert_context(event):
            return {"action": event.get("action"), "actor": event.deep_get("user", "name"),
                    "source_ip": event.get("sourceIP")}
        """,
    ),
    "test_failed_logins": (
        """
        AnalysisType: rule
        RuleID: Test.FailedLogins
        DisplayName: Repeated failed logins
        Enabled: true
        Filename: test_failed_logins.py
        Severity: Medium
        LogTypes: [Wiz.Audit]
        DedupPeriodMinutes: 30
        Threshold: 5
        """,
        """
        def rule(event):
            return event.get("action") == "Login" and event.get("status") == "FAILED"

        def dedup(event):
            return event.get("sourceIP")
        """,
    ),
    "test_explodes": (
        """
        AnalysisType: rule
        RuleID: Test.Explodes
        Enabled: true
        Filename: test_explodes.py
        Severity: Low
        LogTypes: [Wiz.Audit]
        """,
        """
        def rule(event):
            if event.get("action") == "Explode":
                raise RuntimeError("boom")
            return False
        """,
    ),
    "test_by_ip": (
        """
        AnalysisType: rule
        RuleID: Test.UpdatesByIp
        Enabled: true
        Filename: test_by_ip.py
        Severity: Info
        LogTypes: [Wiz.Audit]
        """,
        """
        def rule(event):
            return event.get("action") == "UpdateUser"

        def title(event):
            return f"User updates from {event.get('sourceIP')}"

        def dedup(event):
            return event.get("sourceIP")
        """,
    ),
    "test_huge": (
        """
        AnalysisType: rule
        RuleID: Test.Huge
        Enabled: true
        Filename: test_huge.py
        Severity: Critical
        LogTypes: [Wiz.Audit]
        DedupPeriodMinutes: 60
        Threshold: 1
        Description: A rule whose alerts are as large as an alert can be.
        """,
        """
        def rule(event):
            return event.get("action") == "Huge"

        def title(event):
            return '"' * 2000

        def dedup(event):
            return "huge"

        def description(event):
            return '"' * 2000

        def runbook(event):
            return '\\\\' * 2000

        def alert_context(event):
            return {"blob": '"' * 204_700}
        """,
    ),
}


def write_rules(directory: Path, names: list[str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (spec, code) in RULES.items():
        if names is None or name in names:
            (directory / f"{name}.yml").write_text(textwrap.dedent(spec))
            (directory / f"{name}.py").write_text(textwrap.dedent(code))
    return directory


def audit(
    id_: str, action: str = "DeleteUser", status: str = "SUCCESS", ip: str = "1.2.3.4"
) -> dict[str, Any]:
    return {
        "id": id_,
        "action": action,
        "requestId": f"req-{id_}",
        "status": status,
        "timestamp": "2026-11-22T09:30:00.123Z",
        "actionParameters": {},
        "userAgent": "pytest",
        "sourceIP": ip,
        "serviceAccount": None,
        "user": {"id": "u1", "name": "alice@example.com"},
    }


def page_body(records: list[Any]) -> bytes:
    return gzip.compress(json.dumps({"data": {"auditLogEntries": {"nodes": records}}}).encode())


def key_for(page: int = 1, minute: int = 0) -> str:
    start = T0 - timedelta(hours=1) + timedelta(minutes=minute)
    return raw_key("Wiz.Audit", start, start + timedelta(minutes=15), page)


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


# Fixtures, imported by the test modules that use them (this module is on pytest's pythonpath,
# tests/support, so unit and e2e folders share it without conftest.py shadowing).


@pytest.fixture(name="now")
def now_fixture(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    return current


@pytest.fixture(name="env")
def env_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: Any) -> Iterator[Env]:
    with in_process_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sqs = boto3.client("sqs")
        queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        ddb = boto3.client("dynamodb")
        create_dedup_table(ddb, TABLE)
        rules = write_rules(tmp_path / "rules")
        monkeypatch.setenv("DEDUP_TABLE", TABLE)
        monkeypatch.setenv("ALERT_QUEUE_URL", queue_url)
        monkeypatch.setenv("RAW_BUCKET", BUCKET)
        monkeypatch.setenv("RULES_DIR", str(rules))
        yield Env(s3, sqs, ddb, queue_url, rules)


def delivered(stack: Any) -> list[dict[str, Any]]:
    """Run the detector then the notifier on the local stack; the alerts SNS delivered meanwhile."""
    before = len(stack.received_alerts())
    stack.run_detector()
    stack.run_notifier()
    return list(stack.received_alerts()[before:])
