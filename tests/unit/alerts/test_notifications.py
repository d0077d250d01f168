"""Parsing S3 notifications in every shape the detector receives."""

from __future__ import annotations

import json

import pytest

from wizwatch.alerts.notifications import BadNotification, is_sqs_batch, objects_in_s3_notification

S3 = {
    "Records": [
        {
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "raw/Wiz.Audit/a+b%3Dc.json.gz", "size": 3}},
        }
    ]
}


def test_direct_notification_with_url_encoded_key() -> None:
    [ref] = objects_in_s3_notification(S3)
    assert (ref.bucket, ref.key, ref.size) == ("b", "raw/Wiz.Audit/a b=c.json.gz", 3)
    assert ref.uri == "s3://b/raw/Wiz.Audit/a b=c.json.gz"


def test_notification_as_sqs_body_and_inside_an_sns_envelope() -> None:
    assert objects_in_s3_notification(json.dumps(S3)) == objects_in_s3_notification(S3)
    envelope = {"Type": "Notification", "Message": json.dumps(S3)}
    assert objects_in_s3_notification(json.dumps(envelope)) == objects_in_s3_notification(S3)


def test_test_event_and_non_create_events_are_ignored() -> None:
    assert objects_in_s3_notification({"Event": "s3:TestEvent", "Bucket": "b"}) == []
    removed = json.loads(json.dumps(S3))
    removed["Records"][0]["eventName"] = "ObjectRemoved:Delete"
    assert objects_in_s3_notification(removed) == []


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        {"Records": "x"},
        {"Records": [{"eventSource": "aws:sqs"}]},
        {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {}}}]},
    ],
)
def test_anything_else_is_a_clear_error(body: object) -> None:
    with pytest.raises(BadNotification):
        objects_in_s3_notification(body)


def test_sqs_batches_are_recognised() -> None:
    assert is_sqs_batch({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]})
    assert not is_sqs_batch(S3)
    assert not is_sqs_batch({"Records": []})
