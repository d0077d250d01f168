"""Writes fetched pages to the raw archive, exactly as Wiz sent them.

The body is the gzip of the exact response bytes (no re-serialisation, so the archive is
evidence); provenance rides in S3 user metadata (keys per docs/ARCHITECTURE.md). The key comes
from :func:`wizwatch.archive.keys.raw_key`, so re-fetching a page after a crash overwrites its
own object instead of adding a twin.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime

from wizwatch import __version__, aws

#: S3 allows 2 KB of user metadata in total; a longer cursor is stored as its digest.
_MAX_CURSOR_CHARS = 1024


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _metadata_safe(value: str) -> str:
    if value.isascii() and len(value) <= _MAX_CURSOR_CHARS and value.isprintable():
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def page_metadata(
    *,
    log_type: str,
    window_start: datetime,
    window_end: datetime,
    page: int,
    cursor: str,
    request_time: str,
    request_id: str,
    record_count: int,
    invocation_id: str = "",
) -> dict[str, str]:
    """The provenance of one page, as S3 user metadata (lower-case keys, ASCII values)."""
    meta = {
        "log-type": log_type,
        "window-start": _rfc3339(window_start),
        "window-end": _rfc3339(window_end),
        "page": str(page),
        "cursor": _metadata_safe(cursor),
        "request-time": request_time,
        "request-id": _metadata_safe(request_id),
        "record-count": str(record_count),
        "wizwatch-version": __version__,
    }
    if invocation_id:
        meta["invocation-id"] = _metadata_safe(invocation_id)
    return meta


def compress(body: bytes) -> bytes:
    """gzip with a fixed mtime, so the same answer always archives to the same bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def put_page(bucket: str, key: str, body: bytes, metadata: dict[str, str]) -> None:
    """Store one page; returns only once S3 has acknowledged the write."""
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=compress(body),
        ContentType="application/gzip",
        Metadata=metadata,
    )


def put_json(bucket: str, key: str, document: dict[str, object]) -> None:
    """Store a small JSON document (a snapshot manifest) as plain JSON."""
    import orjson

    aws.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=orjson.dumps(document, option=orjson.OPT_INDENT_2),
        ContentType="application/json",
    )
