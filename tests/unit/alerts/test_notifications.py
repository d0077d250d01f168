"""Parsing S3 notifications in every shape the detector receives."""

from __future__ import annotations

import json

import pytest

from wizwatch.alerts.notifications import BadNotification, ObjectRef, is_sqs_batch, objects_in_s3_notification
from wizwatch_tools.localstack.s3events import encode_key

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


# AWS's documented messages ("Event message structure", Amazon S3 User Guide), verbatim.
AWS_TEST_MESSAGE = {
    "Service": "Amazon S3",
    "Event": "s3:TestEvent",
    "Time": "2014-10-13T15:57:02.089Z",
    "Bucket": "bucketname",
    "RequestId": "5582815E1AEA5ADF",
    "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
}
AWS_PUT_EXAMPLE = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-west-2",
            "eventTime": "1970-01-01T00:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AIDAJDPLRKLG7UEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "127.0.0.1"},
            "responseElements": {
                "x-amz-request-id": "C3D13FE58DE4C810",
                "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
            },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "testConfigRule",
                "bucket": {
                    "name": "mybucket",
                    "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                    "arn": "arn:aws:s3:::mybucket",
                },
                "object": {
                    "key": "HappyFace.jpg",
                    "size": 1024,
                    "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                    "versionId": "096fKKXTRTtl3on89fVO.nfljtsv6qko",
                    "sequencer": "0055AED6DCD90281E5",
                },
            },
        }
    ]
}


def _with_key(key: str) -> dict[str, object]:
    doc = json.loads(json.dumps(AWS_PUT_EXAMPLE))
    doc["Records"][0]["s3"]["object"]["key"] = key
    return doc


def test_aws_documented_put_example_names_bucket_key_version_and_size() -> None:
    [ref] = objects_in_s3_notification(json.dumps(AWS_PUT_EXAMPLE))
    assert ref == ObjectRef("mybucket", "HappyFace.jpg", "096fKKXTRTtl3on89fVO.nfljtsv6qko", 1024)


def test_aws_documented_test_message_is_skipped_in_every_wrapping() -> None:
    assert objects_in_s3_notification(AWS_TEST_MESSAGE) == []
    assert objects_in_s3_notification(json.dumps(AWS_TEST_MESSAGE)) == []
    envelope = {"Type": "Notification", "Message": json.dumps(AWS_TEST_MESSAGE)}
    assert objects_in_s3_notification(json.dumps(envelope)) == []


@pytest.mark.parametrize(
    ("encoded", "key"),
    [
        ("red+flower.jpg", "red flower.jpg"),  # the guide's own example
        ("raw/Wiz.Audit/dt%3D2026-11-22/a%2Bb.json.gz", "raw/Wiz.Audit/dt=2026-11-22/a+b.json.gz"),
        ("raw%2FWiz.Audit%2Fp%C3%A2ge+1%26%28x%29.json.gz", "raw/Wiz.Audit/pâge 1&(x).json.gz"),
        ("raw/100%25/x%3Fy%23z", "raw/100%/x?y#z"),
    ],
)
def test_keys_are_decoded_exactly_as_s3_form_encodes_them(encoded: str, key: str) -> None:
    [ref] = objects_in_s3_notification(_with_key(encoded))
    assert ref.key == key


@pytest.mark.parametrize(
    "key", ["a b", "a+b", "a%2Bb", "dt=1/x:y", "pâge ñ/€&=?#", " lead", "trail ", "%", "~*'!"]
)
def test_the_local_servers_encoding_round_trips_through_the_detector(key: str) -> None:
    [ref] = objects_in_s3_notification(_with_key(encode_key(key)))
    assert ref.key == key
