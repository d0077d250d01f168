"""The detector against S3 notifications in AWS's shape, under its own role with IAM enforced.

The local server sends what S3 sends ("Event message structure", Amazon S3 User Guide): every
record of the versioned raw bucket names ``object.versionId``, keys are form-URL-encoded, and an
``s3:TestEvent`` arrives when the notification is configured. The detector reads the notified
version (``GetObject`` with ``VersionId``, which AWS authorises as ``s3:GetObjectVersion``, not
``s3:GetObject``) under the credentials of DetectorRole.
"""

from __future__ import annotations

import gzip
import json
from typing import Any
from urllib.parse import quote_plus

from detector_e2e import alerts_out, det_fixture, put
from detector_fixtures import audit, key_for, page_body

__all__ = ["det_fixture"]  # the fixture, used by name


def _notifications(stack: Any) -> list[dict[str, Any]]:
    """Take every message off the raw-object queue (the test re-sends what it needs)."""
    out = []
    while msgs := stack.sqs.receive_message(
        QueueUrl=stack.resources["raw_queue_url"], MaxNumberOfMessages=10
    ).get("Messages", []):
        for m in msgs:
            out.append(json.loads(m["Body"]))
            stack.sqs.delete_message(
                QueueUrl=stack.resources["raw_queue_url"], ReceiptHandle=m["ReceiptHandle"]
            )
    return out


def _resend(stack: Any, bodies: list[dict[str, Any]]) -> None:
    for body in bodies:
        stack.sqs.send_message(QueueUrl=stack.resources["raw_queue_url"], MessageBody=json.dumps(body))


def _record(note: dict[str, Any]) -> dict[str, Any]:
    [record] = note["Records"]
    return dict(record)


def test_polled_pages_are_read_at_the_notified_version_under_the_detector_role(stack: Any) -> None:
    """Fails on a template whose DetectorRole grants s3:GetObject but not s3:GetObjectVersion."""
    assert stack.iam_enforced and stack.env("detector")["AWS_ACCESS_KEY_ID"].startswith("ASIA")
    assert stack.tick_poller("Wiz.Issues")["ok"]  # the smallest log type: a few pages, some alerts
    detected = stack.run_detector()
    stack.run_notifier()
    assert detected.failed == 0 and stack.errors == []
    assert stack.queue_depth("raw_dlq_url") == 0
    assert stack.received_alerts(), "no alert: the detector read no page"
    reads = [c.params for c in stack.recorder.calls["detector"] if c.operation == "GetObject"]
    assert reads and all(r.get("VersionId") for r in reads), reads[:3]
    versions = {
        v["Key"]: v["VersionId"]
        for v in stack.s3.list_object_versions(Bucket=stack.resources["bucket"], Prefix="raw/")["Versions"]
    }
    assert {r["Key"]: r["VersionId"] for r in reads}.items() <= versions.items()


def test_notifications_carry_what_aws_documents(det: Any) -> None:
    key = put(det, key_for(1), [audit("a1")])
    test_event, note = _notifications(det)[-2:]
    # The test message S3 sends after the notification configuration was put (at provisioning).
    assert test_event["Event"] == "s3:TestEvent" and test_event["Service"] == "Amazon S3"
    assert set(test_event) == {"Service", "Event", "Time", "Bucket", "RequestId", "HostId"}
    record = _record(note)
    assert record["eventVersion"] == "2.1" and record["eventName"] == "ObjectCreated:Put"
    assert set(record) >= {"userIdentity", "requestParameters", "responseElements", "awsRegion", "eventTime"}
    obj = record["s3"]["object"]
    head = det.s3.head_object(Bucket=det.resources["bucket"], Key=key)
    assert obj["versionId"] == head["VersionId"]
    assert obj["key"] == quote_plus(key, safe="/") and "%3D" in obj["key"]  # dt=... -> dt%3D...
    assert int(obj["sequencer"], 16) > 0 and record["s3"]["bucket"]["ownerIdentity"]["principalId"]


def test_a_key_with_spaces_and_special_characters_is_archived_and_detected(det: Any) -> None:
    key = "raw/Wiz.Audit/dt=2026-11-22/pushed by hand/pâge 1+2 & (x)=y?.json.gz"
    put(det, key, [audit("odd1")])
    [note] = [n for n in _notifications(det) if "Records" in n]
    encoded = _record(note)["s3"]["object"]["key"]
    assert " " not in encoded and "+" in encoded and "%2B" in encoded and "%C3%A2" in encoded
    _resend(det, [note])
    out = alerts_out(det)
    assert [(a["rule_id"], a["dedup_string"]) for a in out] == [("Test.DeleteUser", "odd1")]
    assert out[0]["source"]["raw_object"] == f"s3://{det.resources['bucket']}/{key}"
    assert det.queue_depth("raw_dlq_url") == 0


def test_the_s3_test_event_is_skipped_not_dead_lettered(det: Any) -> None:
    _notifications(det)  # the one from provisioning
    queue_arn = det.spec("detector").queue_sources[0].queue_arn
    config = {"QueueConfigurations": [{"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}]}
    det.s3.put_bucket_notification_configuration(
        Bucket=det.resources["bucket"], NotificationConfiguration=config
    )
    [test_event] = _notifications(det)
    assert test_event["Event"] == "s3:TestEvent"
    _resend(det, [test_event] * 3)
    result = det.run_detector()
    assert (result.messages, result.deleted, result.failed) == (3, 3, 0) and det.errors == []
    assert det.queue_depth("raw_dlq_url") == 0
    assert not any(c.service == "s3" for c in det.recorder.calls.get("detector", []))


def test_a_notification_for_an_overwritten_key_reads_the_version_it_names(det: Any) -> None:
    key = key_for(1)
    put(det, key, [audit("first")])
    put(det, key, [audit("second")])  # a retried page overwrote the key before the detector ran
    notes = [n for n in _notifications(det) if "Records" in n]
    old, new = (_record(n)["s3"]["object"] for n in notes)
    assert old["versionId"] != new["versionId"]
    assert int(new["sequencer"], 16) > int(old["sequencer"], 16)  # AWS: greater = later
    _resend(det, notes)
    out = alerts_out(det)
    assert sorted(a["dedup_string"] for a in out) == ["first", "second"]


def test_an_unreadable_version_is_quarantined_as_notified_not_as_now(det: Any) -> None:
    key = key_for(1)
    put(det, key, body=b"\x1f\x8b not a page")
    put(det, key, [audit("fixed")])  # overwritten by a good page before the detector ran
    notes = [n for n in _notifications(det) if "Records" in n]
    _resend(det, notes[:1])
    result = det.run_detector()
    assert result.failed == 0 and det.errors == []
    [page] = [k for k in det.archived_keys("quarantine/") if k.endswith(".page.json.gz")]
    kept = det.s3.get_object(Bucket=det.resources["bucket"], Key=page)["Body"].read()
    assert kept == b"\x1f\x8b not a page"
    assert gzip.decompress(page_body([audit("fixed")])) != kept
