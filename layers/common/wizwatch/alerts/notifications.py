"""S3 object-created notifications -> the objects to process.

The detector is triggered by S3 notifications delivered directly (``{"Records": [{"eventSource":
"aws:s3", ...}]}``) or inside SQS message bodies (S3 -> SQS -> Lambda), and an SQS body may itself
be an SNS envelope when a topic sits in between. Keys arrive URL-encoded (``+`` for spaces).
``s3:TestEvent`` (sent by S3 when a notification is configured) carries no object and is ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus


class BadNotification(ValueError):
    """A message body that is not an S3 notification at all (it will be retried, then DLQ'd)."""


@dataclass(frozen=True)
class ObjectRef:
    """One created object: what the detector reads."""

    bucket: str
    key: str
    version_id: str | None = None
    size: int | None = None

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _object_created(record: dict[str, Any]) -> ObjectRef | None:
    name = str(record.get("eventName", ""))
    if name and not name.startswith("ObjectCreated"):
        return None
    s3 = record.get("s3")
    if not isinstance(s3, dict):
        raise BadNotification("S3 record without an 's3' member")
    try:
        bucket = s3["bucket"]["name"]
        obj = s3["object"]
        key = unquote_plus(obj["key"])
    except (KeyError, TypeError) as exc:
        raise BadNotification(f"S3 record without bucket name or object key ({exc})") from None
    return ObjectRef(bucket=bucket, key=key, version_id=obj.get("versionId"), size=obj.get("size"))


def objects_in_s3_notification(payload: Any) -> list[ObjectRef]:
    """Objects named by one S3 notification document (empty for ``s3:TestEvent``)."""
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise BadNotification(f"message body is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise BadNotification("notification is not a JSON object")
    if payload.get("Event") == "s3:TestEvent":
        return []
    if payload.get("Type") == "Notification" and "Message" in payload:  # SNS envelope
        return objects_in_s3_notification(payload["Message"])
    records = payload.get("Records")
    if not isinstance(records, list):
        raise BadNotification("notification has no 'Records' list")
    refs = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            raise BadNotification("record is not an aws:s3 event")
        ref = _object_created(record)
        if ref is not None:
            refs.append(ref)
    return refs


def is_sqs_batch(event: Any) -> bool:
    """True when the Lambda event is an SQS batch (each body holding a notification)."""
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(records) and all(
        isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records or []
    )
