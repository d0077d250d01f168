"""The whole pipeline through the moto server and the Wiz simulator, with the real handlers:
schedule tick -> poller -> S3 raw/ -> SQS -> detector -> alert queue -> notifier -> SNS -> SQS."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch.archive.keys import parse_raw_key
from wizwatch.logtypes import API_LOG_TYPES
from wizwatch.parse.identity import event_identity

SEED_RULES = {"Wiz.Integration.Updated.Or.Deleted", "Wiz.Revoke.User.Sessions"}
ALERT_FIELDS = {
    "version", "alert_id", "alert_type", "rule_id", "rule_name", "title", "severity", "dedup_string",
    "dedup_period_minutes", "threshold", "log_types", "event_count", "first_event_time",
    "last_event_time", "created_at", "description", "runbook", "reference", "reports", "tags",
    "alert_context", "events", "source",
}  # fmt: skip


def _attr(note: dict[str, Any], name: str) -> str:
    return str(note["MessageAttributes"][name]["Value"])


def test_seed_rule_alerts_arrive_through_sns(stack: Any) -> None:
    summary = stack.run_pipeline()

    # every API log type was polled into raw/<LogType>/ as gzip pages of the GraphQL response
    assert set(summary["poller"]) == set(API_LOG_TYPES) | {"Wiz.CloudConfigurationFinding/snapshot"}
    keys = stack.archived_keys("raw/")
    assert {parse_raw_key(k).log_type for k in keys} == set(API_LOG_TYPES)
    assert any(k.endswith("/manifest.json") for k in stack.archived_keys("snapshots/"))
    body = stack.s3.get_object(Bucket=stack.resources["bucket"], Key=keys[0])["Body"].read()
    assert "data" in json.loads(gzip.decompress(body))

    # S3 notifications really went through SQS to the detector, and nothing failed
    assert summary["detector"].messages >= len(keys)
    assert summary["detector"].failed == 0 and stack.errors == []
    assert stack.queue_depth("raw_dlq_url") == 0 and stack.queue_depth("alert_dlq_url") == 0

    # alerts from both seed rules arrived through SNS, in the contract's format
    notes = stack.received_notifications()
    alerts = [json.loads(n["Message"]) for n in notes]
    by_rule = Counter(a["rule_id"] for a in alerts)
    assert set(by_rule) >= SEED_RULES, by_rule
    for note, alert in zip(notes, alerts, strict=True):
        assert set(alert) >= ALERT_FIELDS, ALERT_FIELDS - set(alert)
        assert alert["version"] == 1
        assert alert["severity"] in {"INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"}
        assert _attr(note, "severity") == alert["severity"]
        assert _attr(note, "rule_id") == alert["rule_id"]
        assert _attr(note, "alert_type") == alert["alert_type"]
    for rule_id in SEED_RULES:
        alert = next(a for a in alerts if a["rule_id"] == rule_id)
        assert alert["alert_type"] == "RULE"
        assert alert["log_types"] == ["Wiz.Audit"]
        assert alert["events"] and alert["events"][0]["status"] == "SUCCESS"
        assert alert["source"]["raw_object"].startswith(f"s3://{stack.resources['bucket']}/raw/Wiz.Audit/")
    # the same alerts as the notifier was given: nothing lost or doubled on the way (each alert
    # is one alert-queue message, then one delivery message per destination: SNS by default)
    assert all(a["destinations"] == ["sns"] for a in alerts)
    assert summary["notifier"].deleted == 2 * len(alerts)


def _alerted_events(alerts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["rule_id"], event_identity(a["log_types"][0], e)) for a in alerts for e in a["events"]]


def test_a_second_tick_alerts_no_event_twice(stack: Any, wiz_sim: Any) -> None:
    """The next window overlaps the last one: re-read records must not alert again."""
    # a seed-rule match inside the first window's end and the second window's overlap
    at = datetime.now(UTC) - timedelta(seconds=200)
    record = wiz_sim.store.add_audit(action="DeleteIntegration", status="SUCCESS", timestamp=at, delay=0)
    stack.run_pipeline()
    first = stack.received_alerts()
    assert first
    stack.run_pipeline()
    alerts = stack.received_alerts()
    assert alerts[: len(first)] == first
    ids = [a["alert_id"] for a in alerts]
    assert len(ids) == len(set(ids)), Counter(ids).most_common(3)
    seen = _alerted_events(alerts)
    assert len(seen) == len(set(seen)), Counter(seen).most_common(3)
    planted = [a for a in alerts if any(e.get("id") == record["id"] for e in a["events"])]
    assert [a["rule_id"] for a in planted] == ["Wiz.Integration.Updated.Or.Deleted"]
