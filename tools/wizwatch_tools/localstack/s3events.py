"""S3 event notifications in AWS's documented shape, for the local moto server.

moto's own records (``moto/s3/notifications.py``: ``_get_s3_event``) leave out ``versionId``
(so a detector reading ``GetObject(VersionId=...)`` -- needing ``s3:GetObjectVersion`` -- is never
exercised), ``sequencer``, ``userIdentity``, ``requestParameters``, ``responseElements`` and the
bucket's ``ownerIdentity``, and encode ``/`` in keys. :func:`install` replaces its record and
test-message builders with these, which follow "Event message structure" (Amazon S3 User Guide):

- "The object key name value is URL encoded. For example, "red flower.jpg" becomes
  "red+flower.jpg" (Amazon S3 returns "application/x-www-form-urlencoded" as the content type)":
  :func:`encode_key`. The guide does not list which characters stay as they are; ``/`` is kept,
  as AWS's own events show it (reported in minio/minio#11665 when comparing with AWS), ``=`` and
  ``:`` become ``%3D``/``%3A`` (aws/aws-sam-cli#379, aws/aws-sdk-js#837).
- ``"versionId":"object version if bucket is versioning-enabled"`` (left out otherwise).
- ``"sequencer"``: "a string representation of a hexadecimal value used to determine event
  sequence"; "the event notification with the greater sequencer hexadecimal value is the event
  that occurred later" -- one process-wide increasing counter, 18 upper-case hex digits like the
  guide's example ``0055AED6DCD90281E5``.
- The test message "After you configure an event notification on a bucket": ``Service``,
  ``Event: s3:TestEvent``, ``Time``, ``Bucket``, ``RequestId``, ``HostId``.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import threading
import time
from typing import Any
from urllib.parse import quote_plus

from moto.core.utils import iso_8601_datetime_with_milliseconds

#: Event structure version S3 documents for ObjectCreated events.
EVENT_VERSION = "2.1"

_sequence = itertools.count(time.time_ns())
_sequence_lock = threading.Lock()
_installed = False


def encode_key(key: str) -> str:
    """The key as S3 writes it in an event: form-URL-encoded (space -> ``+``), ``/`` kept."""
    return quote_plus(key, safe="/")


def next_sequencer() -> str:
    """An upper-case hex string greater than every one handed out before in this process."""
    with _sequence_lock:
        return f"{next(_sequence):018X}"


def _request_id() -> str:
    return secrets.token_hex(8).upper()


def _host_id() -> str:
    return base64.b64encode(secrets.token_bytes(48)).decode()


def _owner_id(account_id: str) -> str:
    """A stable stand-in for the bucket owner's Amazon customer ID (``A3NL1KOZZKExample`` in the guide)."""
    return "A" + hashlib.sha256(account_id.encode()).hexdigest()[:13].upper()


def _caller() -> tuple[str, str]:
    """(principalId, source IP) of the request being served, when it came through the local server."""
    from wizwatch_tools.localstack.enforce import current_request, principal_id

    ctx = current_request()
    if ctx is None:
        return "AWS:AIDAEXAMPLELOCALSTACK", "127.0.0.1"
    return principal_id(ctx.access_key) or "AWS:AIDAEXAMPLELOCALSTACK", ctx.remote_addr


def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
    """One notification (a ``Records`` list of one record) for ``key`` of ``bucket``."""
    principal, source_ip = _caller()
    obj: dict[str, Any] = {
        "key": encode_key(key.name),
        "size": key.size,
        "eTag": key.etag.replace('"', ""),
    }
    version = getattr(key, "version_id", None)
    if getattr(bucket, "is_versioned", False) and version and version != "null":
        obj["versionId"] = version
    obj["sequencer"] = next_sequencer()
    return {
        "Records": [
            {
                "eventVersion": EVENT_VERSION,
                "eventSource": "aws:s3",
                "awsRegion": bucket.region_name,
                "eventTime": iso_8601_datetime_with_milliseconds(),
                "eventName": event_name.removeprefix("s3:"),  # "doesn't contain the s3: prefix"
                "userIdentity": {"principalId": principal},
                "requestParameters": {"sourceIPAddress": source_ip},
                "responseElements": {"x-amz-request-id": _request_id(), "x-amz-id-2": _host_id()},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": notification_id,
                    "bucket": {
                        "name": bucket.name,
                        "ownerIdentity": {"principalId": _owner_id(bucket.account_id)},
                        "arn": bucket.arn,
                    },
                    "object": obj,
                },
            }
        ]
    }


def test_message(bucket_name: str) -> dict[str, Any]:
    """The message S3 sends to a destination when a notification configuration is put."""
    return {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": iso_8601_datetime_with_milliseconds(),
        "Bucket": bucket_name,
        "RequestId": _request_id(),
        "HostId": _host_id(),
    }


def install() -> None:
    """Make moto build its S3 notifications with :func:`s3_event` and :func:`test_message`."""
    global _installed
    if _installed:
        return
    from moto.s3 import notifications

    notifications._get_s3_event = s3_event
    notifications._get_test_event = test_message
    _installed = True
