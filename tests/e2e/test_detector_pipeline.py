"""Detector and notifier through the moto server: S3 -> SQS -> detector -> alert queue -> SNS.

Real handlers (``stack.run_detector`` / ``run_notifier`` invoke functions/*/app.py with the
template's environment), real S3 notifications, real SQS redrive to the DLQ, real SNS delivery.
A small rule set (threshold 5, a rule that raises, a huge alert) lives in a temporary RULES_DIR.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from datetime import timedelta
from typing import Any

from detector_e2e import alerts_out, det_fixture, put
from detector_fixtures import T0, audit, key_for

from wizwatch.alerts.message import SNS_MAX_BYTES
from wizwatch.notify import email

__all__ = ["det_fixture"]  # the fixture, used by name


def notification(stack: Any, key: str) -> str:
    return json.dumps(
        {
            "Records": [
                {
                    "eventSource": "aws:s3",
                    "eventName": "ObjectCreated:Put",
                    "s3": {"bucket": {"name": stack.resources["bucket"]}, "object": {"key": key}},
                }
            ]
        }
    )


def failed_logins(prefix: str, n: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        audit(f"{prefix}{i}", action="Login", status="FAILED", ip="9.9.9.9") for i in range(start, start + n)
    ]


def test_the_same_notification_delivered_three_times_alerts_once(det: Any) -> None:
    key = put(det, key_for(1), [audit("a1"), audit("n1", action="Login")])
    for _ in range(3):
        det.sqs.send_message(QueueUrl=det.resources["raw_queue_url"], MessageBody=notification(det, key))
    out = alerts_out(det)
    assert [(a["rule_id"], a["dedup_string"]) for a in out] == [("Test.DeleteUser", "a1")]
    assert alerts_out(det) == []


def test_overlapping_pages_with_the_same_events_alert_once_with_the_right_count(det: Any) -> None:
    updates = [audit(f"u{i}", action="UpdateUser", ip="5.5.5.5") for i in range(4)]
    put(det, key_for(1), updates[:3])
    put(det, key_for(1, minute=5), updates)  # a retried, overlapping poll: another key, same events
    out = alerts_out(det)
    assert [(a["rule_id"], a["event_count"]) for a in out] == [("Test.UpdatesByIp", 3)]
    windows = det.dynamodb.scan(TableName=det.resources["dedup_table"])["Items"]
    counts = [int(w["event_count"]["N"]) for w in windows if w["sk"]["S"] == "w"]
    assert counts == [4]  # every distinct event counted once
    rows = []
    for key in det.archived_keys("matches/Test.UpdatesByIp/"):
        body = det.s3.get_object(Bucket=det.resources["bucket"], Key=key)["Body"].read()
        rows += [json.loads(line) for line in gzip.decompress(body).splitlines()]
    assert sorted(r["id"] for r in rows) == ["u0", "u1", "u2", "u3"]
    assert {r["p_alert_id"] for r in rows} == {out[0]["alert_id"]}


def test_threshold_five_alerts_exactly_once_at_the_fifth_event(det: Any) -> None:
    put(det, key_for(1), failed_logins("f", 4))
    assert alerts_out(det) == []
    put(det, key_for(2), failed_logins("f", 1, start=4))
    out = alerts_out(det)
    assert [(a["rule_id"], a["event_count"], a["threshold"]) for a in out] == [("Test.FailedLogins", 5, 5)]
    put(det, key_for(3), failed_logins("f", 3, start=5))
    assert alerts_out(det) == []


def test_a_new_window_after_expiry_alerts_again(det: Any) -> None:
    put(det, key_for(1), failed_logins("f", 5))
    first = alerts_out(det)
    det.clock["t"] = T0 + timedelta(minutes=29)
    put(det, key_for(2), failed_logins("g", 5))
    assert alerts_out(det) == []
    det.clock["t"] = T0 + timedelta(minutes=31)  # the 30-minute window has ended; TTL has not run
    put(det, key_for(3), failed_logins("h", 5))
    second = alerts_out(det)
    assert len(first) == len(second) == 1 and first[0]["alert_id"] != second[0]["alert_id"]
    assert second[0]["event_count"] == 5


def test_a_rule_that_raises_gives_a_rule_error_alert_and_other_rules_still_fire(det: Any) -> None:
    put(det, key_for(1), [audit("x1", action="Explode"), audit("d1"), audit("x2", action="Explode")])
    out = alerts_out(det)
    assert Counter(a["alert_type"] for a in out) == {"RULE": 1, "RULE_ERROR": 1}
    err = next(a for a in out if a["alert_type"] == "RULE_ERROR")
    assert err["rule_id"] == "Test.Explodes" and err["error"]["type"] == "RuntimeError"
    notes = det.received_notifications()
    attrs = {n["MessageAttributes"]["alert_type"]["Value"] for n in notes}
    assert attrs == {"RULE", "RULE_ERROR"}


def test_a_poison_object_is_retried_into_the_dlq_while_the_good_one_alerts(det: Any) -> None:
    good = put(det, key_for(1), [audit("a1")])
    corrupt = put(det, key_for(2), body=b"\x1f\x8b garbage")
    poison = "raw/Wiz.Audit/dt=2026-11-22/gone/page-00001.json.gz"  # notified, never readable
    queue = det.resources["raw_queue_url"]
    for key in (good, corrupt):
        det.sqs.send_message(QueueUrl=queue, MessageBody=notification(det, key))
    det.sqs.send_message(QueueUrl=queue, MessageBody=notification(det, poison))
    out = alerts_out(det)
    assert [a["dedup_string"] for a in out] == ["a1"]
    assert det.queue_depth("raw_dlq_url") == 1
    dlq = det.sqs.receive_message(QueueUrl=det.resources["raw_dlq_url"])["Messages"]
    assert poison in dlq[0]["Body"]
    quarantined = det.archived_keys("quarantine/")
    assert any(k.endswith(".page.json.gz") for k in quarantined)


def test_the_largest_alert_fits_sns_and_reads_well(det: Any) -> None:
    big = [{**audit(f"h{i}", action="Huge"), "actionParameters": {"blob": '"' * 60_000}} for i in range(12)]
    put(det, key_for(1), big)
    out = alerts_out(det)
    assert len(out) == 1 and out[0]["rule_id"] == "Test.Huge" and out[0]["event_count"] == 12
    note = det.received_notifications()[-1]
    assert len(note["Message"].encode()) <= SNS_MAX_BYTES
    assert len(note["Subject"]) <= 100
    assert det.queue_depth("alert_dlq_url") == 0
    text = email.body(out[0])
    assert "Test.Huge" in text and "matches/Test.Huge/" in text
