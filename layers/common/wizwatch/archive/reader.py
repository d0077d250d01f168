"""Reading one archived raw page from S3 for the detector."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from wizwatch.alerts.notifications import ObjectRef
from wizwatch.errors import WizwatchError


class ObjectUnavailable(WizwatchError):
    """The notified object cannot be read (gone, or access denied); the message is retried."""


@dataclass(frozen=True)
class RawObject:
    ref: ObjectRef
    body: bytes
    metadata: dict[str, str]


def read_raw(s3: Any, ref: ObjectRef) -> RawObject:
    """The object's bytes (still gzip) and user metadata; the notified version when S3 gave one."""
    params: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        params["VersionId"] = ref.version_id
    try:
        resp = s3.get_object(**params)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("NoSuchKey", "NoSuchVersion", "AccessDenied", "404", "403", "NoSuchBucket"):
            raise ObjectUnavailable(f"cannot read {ref.uri}: {code}") from exc
        raise
    return RawObject(ref=ref, body=resp["Body"].read(), metadata=dict(resp.get("Metadata") or {}))
