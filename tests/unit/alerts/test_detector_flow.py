"""The detector end to end against moto in-process, with the real parser and rule engine."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import (  # noqa: F401  (env_fixture, now_fixture: pytest fixtures)
    BUCKET,
    T0,
    Env,
    audit,
    env_fixture,
    key_for,
    now_fixture,
    s3_event,
    sqs_event,
)

from wizwatch.alerts import handler as detector_handler
from wizwatch.alerts.handler import handle

RULES_DEFAULT = Path("/nonexistent")


def run(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, None, default_rules_dir=RULES_DEFAULT)


@pytest.fixture(autouse=True)
def _fresh_detector() -> None:
    detector_handler._build.cache_clear()


def test_a_matching_page_queues_one_alert_and_keeps_the_matches(env: Env) -> None:
    key = env.put(key_for(), [audit("a1"), audit("a2", action="Login"), audit("a3")])
    assert run(sqs_event(s3_event(key))) == {"batchItemFailures": []}
    alerts = env.queued()
    assert sorted(a["dedup_string"] for a in alerts) == ["a1", "a3"]
    alert = alerts[0]
    assert alert["version"] == 1 and alert["alert_type"] == "RULE"
    assert alert["rule_id"] == "Test.DeleteUser" and alert["severity"] == "HIGH"
    assert alert["title"] == "User deleted by alice@example.com"
    assert alert["event_count"] == 1 and alert["threshold"] == 1
    assert alert["first_event_time"] == "2026-11-22T09:30:00.123Z"
    assert alert["alert_context"]["source_ip"] == "1.2.3.4"
    assert alert["reports"] == {"MITRE ATT&CK": ["TA0040:T1531"]}
    assert alert["source"]["raw_object"] == f"s3://{BUCKET}/{key}"
    assert alert["events"][0]["p_log_type"] == "Wiz.Audit"
    assert alert["destinations"] == ["sns"]  # no destinations document: everything to SNS
    rows = env.lines("matches/Test.DeleteUser/")
    assert {r["id"]: r["p_alert_id"] for r in rows} == {a["dedup_string"]: a["alert_id"] for a in alerts}


def test_redelivery_and_overlapping_pages_do_not_alert_again(env: Env) -> None:
    records = [audit("a1")] + [audit(f"f{i}", action="Login", status="FAILED") for i in range(3)]
    first = env.put(key_for(1), records)
    run(s3_event(first))
    run(sqs_event(s3_event(first), s3_event(first)))  # redelivered twice
    overlap = env.put(key_for(1, minute=10), records)  # a retried poll wrote another key
    run(sqs_event(s3_event(overlap)))
    assert len(env.queued()) == 1
    # Two more failed logins (new ids) bring the brute-force group to 5: one alert, count 5.
    run(s3_event(env.put(key_for(2), [audit(f"f{i}", action="Login", status="FAILED") for i in range(5)])))
    alerts = env.queued()
    assert [(a["rule_id"], a["event_count"]) for a in alerts] == [("Test.FailedLogins", 5)]
    # The overlapping page kept nothing twice.
    assert len(env.lines("matches/Test.DeleteUser/")) == 1


def test_window_expiry_opens_a_new_alert(env: Env, now: dict[str, Any]) -> None:
    run(s3_event(env.put(key_for(1), [audit(f"f{i}", action="Login", status="FAILED") for i in range(5)])))
    assert len(env.queued()) == 1
    now["t"] = T0 + timedelta(minutes=31)
    run(s3_event(env.put(key_for(2), [audit(f"g{i}", action="Login", status="FAILED") for i in range(5)])))
    assert [a["event_count"] for a in env.queued()] == [5]


def test_a_rule_that_raises_becomes_a_rule_error_alert(env: Env) -> None:
    run(
        s3_event(
            env.put(key_for(), [audit("x1", action="Explode"), audit("x2", action="Explode"), audit("d1")])
        )
    )
    alerts = {a["alert_type"]: a for a in env.queued()}
    assert set(alerts) == {"RULE", "RULE_ERROR"}
    err = alerts["RULE_ERROR"]
    assert err["rule_id"] == "Test.Explodes" and err["error"]["type"] == "RuntimeError"
    assert "boom" in err["error"]["message"] and err["severity"] == "LOW" and err["threshold"] == 1
    assert err["event_count"] == 2


def test_bad_records_are_quarantined_and_bad_pages_kept_whole(env: Env) -> None:
    key = env.put(key_for(1), [audit("ok1"), {"action": "DeleteUser"}, "not a record"])
    run(s3_event(key))
    rows = env.lines("quarantine/Wiz.Audit/")
    assert [r["index"] for r in rows] == [1, 2] and "id" in rows[0]["reason"]
    assert len(env.queued()) == 1
    broken = env.put(key_for(2), body=b"\x1f\x8bnot really gzip")
    assert run(sqs_event(s3_event(broken))) == {"batchItemFailures": []}
    kept = [o["Key"] for o in env.s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/")["Contents"]]
    page = next(k for k in kept if k.endswith(".page.json.gz"))
    head = env.s3.head_object(Bucket=BUCKET, Key=page)
    assert "gzip" in head["Metadata"]["reason"]
    assert env.s3.get_object(Bucket=BUCKET, Key=page)["Body"].read() == b"\x1f\x8bnot really gzip"


def test_quarantined_records_are_kept_as_they_came(env: Env) -> None:
    """Events are normalised in place (no copy per event); a record that fails, validation or
    identity (a valid audit entry whose id is empty), is quarantined exactly as it came."""
    no_identity = {**audit("x"), "id": "", "p_any_ip_addresses": ["9.9.9.9"]}
    invalid = {**audit("y"), "timestamp": "not a time", "p_event_time": "kept"}
    key = env.put(key_for(1), [audit("ok1"), no_identity, invalid, audit("ok2")])
    run(s3_event(key))
    rows = env.lines("quarantine/Wiz.Audit/")
    assert [r["index"] for r in rows] == [1, 2]
    assert rows[0]["record"] == no_identity and "has no id" in rows[0]["reason"]
    assert rows[1]["record"] == invalid and "timestamp" in rows[1]["reason"]
    assert sorted(a["dedup_string"] for a in env.queued()) == ["ok1", "ok2"]


def test_one_poison_message_fails_alone(env: Env) -> None:
    good = env.put(key_for(1), [audit("a1")])
    event = sqs_event(s3_event(good), s3_event("raw/Wiz.Audit/missing/page-00001.json.gz"), "not json")
    result = run(event)
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m1", "m2"]
    assert len(env.queued()) == 1


def test_direct_s3_events_raise_after_processing_the_good_objects(env: Env) -> None:
    good = env.put(key_for(1), [audit("a1")])
    with pytest.raises(Exception, match="missing"):
        run(s3_event("raw/Wiz.Audit/missing/page-00001.json.gz", good))
    assert len(env.queued()) == 1


def test_test_events_and_own_output_are_ignored(env: Env) -> None:
    assert run(sqs_event({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET})) == {
        "batchItemFailures": []
    }
    env.put("matches/Test.DeleteUser/x.json.gz", body=gzip.compress(b"{}"))
    assert run(s3_event("matches/Test.DeleteUser/x.json.gz")) == {"batchItemFailures": []}
    assert env.queued() == []


def test_url_encoded_keys_are_decoded(env: Env) -> None:
    key = env.put(key_for(1), [audit("a1")])
    body = json.loads(json.dumps(s3_event(key)).replace("Wiz.Audit", "Wiz%2EAudit"))
    run(sqs_event(body))
    assert len(env.queued()) == 1


def test_misconfiguration_fails_with_a_message(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEDUP_TABLE")
    with pytest.raises(Exception, match="DEDUP_TABLE is required"):
        run(s3_event(key_for(1)))


def test_metrics_are_emitted(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    run(s3_event(env.put(key_for(1), [audit("a1"), audit("x1", action="Explode"), {"bad": 1}])))
    blobs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = {}
    for b in blobs:
        name = b["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
        assert b["service"] == "detector"
        value = b[name][0] if isinstance(b[name], list) else b[name]
        values[(name, b.get("LogType") or b.get("Severity") or b.get("RuleId"))] = value
    assert values[("EventsProcessed", "Wiz.Audit")] == 2
    assert values[("RuleMatches", "Wiz.Audit")] == 1
    assert values[("RuleErrors", "Wiz.Audit")] == 1
    assert values[("RecordsQuarantined", "Wiz.Audit")] == 1
    assert values[("AlertsQueued", "HIGH")] == 1 and values[("AlertsQueued", "Test.Explodes")] == 1


def test_redelivered_and_overlapping_matches_are_counted_once_in_metrics(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    # The poller re-reads an overlap on every poll, so each event is archived several times;
    # RuleMatches/RuleErrors must count matched events, not how often they were read.
    records = [audit("a1"), audit("x1", action="Explode")]
    first = env.put(key_for(1), records)
    overlap = env.put(key_for(2), records)
    for key in (first, first, overlap):
        run(s3_event(key))
    totals: dict[str, int] = {}
    for line in capsys.readouterr().out.splitlines():
        if '"_aws"' in line:
            blob = json.loads(line)
            name = blob["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
            value = blob[name][0] if isinstance(blob[name], list) else blob[name]
            totals[name] = totals.get(name, 0) + int(value)
    assert totals["EventsProcessed"] == 6  # work done: every read counts
    assert totals["RuleMatches"] == 1 and totals["RuleErrors"] == 1
