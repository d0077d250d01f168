"""Archiving a body Wiz pushed (webhook), exactly as it arrived, beside the polled pages.

Key ``raw/<LogType>/dt=YYYY-MM-DD/pushed/<sha256 of the body>.json.gz``; body the gzip (fixed
mtime) of the exact request bytes; metadata ``received-at``, ``content-sha256``, ``sender-ip``
(and the log type, request id, user agent, record count, version). The key is a function of the
body alone, so Wiz re-delivering the same body overwrites its own object instead of adding a twin
(the detector would count it once anyway: events are deduplicated by identity).

The date partition is the event's own date (a detection's ``createdAt``, an issue's
``issue.created``), like a polled page's window date, so a body re-delivered after midnight still
lands on the same key. Without a readable date, or with one more than 30 days from the receipt
(a clock far off, or a crafted body), the receipt date is used.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch import __version__, aws
from wizwatch.archive.keys import pushed_key
from wizwatch.archive.writer import compress
from wizwatch.logtypes import DETECTIONS, ISSUES_WEBHOOK

#: Where a pushed record keeps its event time (dotted paths; the parse layer uses the same ones).
EVENT_DATE_PATHS: dict[str, tuple[str, ...]] = {
    DETECTIONS: ("createdAt", "updatedAt"),
    ISSUES_WEBHOOK: ("issue.created",),
}
MAX_DATE_SKEW = timedelta(days=30)


def _ascii(text: str, limit: int = 256) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)[:limit]


def event_date(log_type: str, doc: Any, received: datetime) -> str:
    """``YYYY-MM-DD`` of the body's (first) record, or of the receipt (see the module doc)."""
    record = doc[0] if isinstance(doc, list) and doc else doc
    for path in EVENT_DATE_PATHS.get(log_type, ()):
        node = record
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and len(node) >= 10:
            try:  # RFC 3339 and Panther's stored form both start with the UTC date
                when = datetime.strptime(node[:10], "%Y-%m-%d").replace(tzinfo=UTC)
            except ValueError:
                continue
            if abs(when - received) <= MAX_DATE_SKEW:
                return f"{when:%Y-%m-%d}"
    return f"{received.astimezone(UTC):%Y-%m-%d}"


def put_pushed(
    bucket: str,
    log_type: str,
    body: bytes,
    doc: Any,
    *,
    received: datetime,
    sender_ip: str,
    request_id: str = "",
    user_agent: str = "",
) -> str:
    """Store one pushed body; returns its key once S3 has acknowledged the write."""
    digest = hashlib.sha256(body).hexdigest()
    key = pushed_key(log_type, event_date(log_type, doc, received), digest)
    aws.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=compress(body),
        ContentType="application/gzip",
        Metadata={
            "log-type": log_type,
            "received-at": received.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "content-sha256": digest,
            "sender-ip": _ascii(sender_ip, 64),
            "request-id": _ascii(request_id, 128),
            "user-agent": _ascii(user_agent),
            "record-count": str(len(doc) if isinstance(doc, list) else 1),
            "wizwatch-version": __version__,
        },
    )
    return key
