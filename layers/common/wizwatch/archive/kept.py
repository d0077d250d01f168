"""What the detector keeps beside the raw archive: ``matches/`` and ``quarantine/``.

Keys are derived from the raw object's key, so a retried or redelivered object overwrites its
own files instead of adding twins. Both prefixes sit outside ``raw/``, which is the only prefix
that notifies the detector, so writing here never re-triggers it.

Each line is rendered on its own (:func:`wizwatch.render.dumps_row`): a row that cannot be
rendered as it is (nested deeper than JSON encoders go, ...) is written as its stand-in with
``p_render_error``, and every other line is written exactly as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wizwatch.archive.compression import gzip_fast
from wizwatch.archive.keys import MATCHES_PREFIX, QUARANTINE_PREFIX, RAW_PREFIX, parse_raw_key
from wizwatch.render import dumps_row


def _flat(raw_key: str) -> str:
    """``raw/Wiz.Audit/dt=.../A_B/page-00001.json.gz`` -> ``Wiz.Audit_A_B_page-00001``."""
    name = raw_key[len(RAW_PREFIX) :] if raw_key.startswith(RAW_PREFIX) else raw_key
    name = name.removesuffix(".json.gz").removesuffix(".json")
    return "_".join(part for part in name.split("/") if not part.startswith("dt="))


def _date(raw_key: str, fallback: str) -> str:
    try:
        return f"{parse_raw_key(raw_key).window_start:%Y-%m-%d}"
    except ValueError:
        for part in raw_key.split("/"):
            if part.startswith("dt="):
                return part[3:]
        return fallback


def _safe(component: str) -> str:
    return component.replace("/", "_") or "_"


def matches_prefix(rule_id: str) -> str:
    return f"{MATCHES_PREFIX}{_safe(rule_id)}/"


def matches_key(rule_id: str, raw_key: str, today: str) -> str:
    """``matches/<RuleID>/dt=<raw page date>/<raw page>.json.gz``."""
    return f"{matches_prefix(rule_id)}dt={_date(raw_key, today)}/{_flat(raw_key)}.json.gz"


def quarantine_key(log_type: str, raw_key: str, today: str, kind: str) -> str:
    """``quarantine/<LogType>/dt=<date>/<raw page>.<kind>.json.gz`` (kind: records | page)."""
    return f"{QUARANTINE_PREFIX}{_safe(log_type)}/dt={_date(raw_key, today)}/{_flat(raw_key)}.{kind}.json.gz"


def json_lines_gz(rows: Iterable[dict[str, Any]], bodies: Iterable[bytes] | None = None) -> bytes:
    """gzip JSON lines of ``rows`` (or of ``bodies``: the rows already rendered by ``dumps_row``)."""
    rendered = bodies if bodies is not None else map(dumps_row, rows)
    return gzip_fast(b"".join(body + b"\n" for body in rendered))


def _ascii(text: str, limit: int = 1024) -> str:
    return text.encode("ascii", "replace").decode()[:limit]


def write_matches(
    s3: Any,
    bucket: str,
    rule_id: str,
    raw_key: str,
    today: str,
    rows: list[dict[str, Any]],
    bodies: list[bytes] | None = None,
) -> str:
    """One gzip JSON-lines object of matched events (with ``p_alert_id``) per rule and page.
    ``bodies``: the rows already rendered by ``dumps_row`` (the lake copy reuses them)."""
    key = matches_key(rule_id, raw_key, today)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json_lines_gz(rows, bodies),
        ContentType="application/x-ndjson",
        ContentEncoding="gzip",
        Metadata={"source-key": _ascii(raw_key), "rule-id": _ascii(rule_id), "event-count": str(len(rows))},
    )
    return key


def quarantine_records(
    s3: Any, bucket: str, log_type: str, raw_key: str, today: str, rows: list[dict[str, Any]]
) -> str:
    """Records of a page that failed parsing: ``{"index", "reason", "record", "source"}`` lines.

    A record that is not JSON at all has ``"record": null`` and its text in ``"raw"``.
    """
    key = quarantine_key(log_type, raw_key, today, "records")
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json_lines_gz(rows),
        ContentType="application/x-ndjson",
        ContentEncoding="gzip",
        Metadata={"source-key": _ascii(raw_key), "record-count": str(len(rows))},
    )
    return key


def quarantine_page(
    s3: Any,
    bucket: str,
    source_bucket: str,
    log_type: str,
    raw_key: str,
    today: str,
    reason: str,
    version_id: str | None = None,
) -> str:
    """A whole unreadable object, copied byte for byte, the reason in its metadata.

    ``version_id`` (the notified version, the one that was read) is copied rather than whatever
    is current now: a retried page may have overwritten the key since.
    """
    key = quarantine_key(log_type, raw_key, today, "page")
    source = {"Bucket": source_bucket, "Key": raw_key}
    if version_id:
        source["VersionId"] = version_id
    s3.copy_object(
        Bucket=bucket,
        Key=key,
        CopySource=source,
        MetadataDirective="REPLACE",
        Metadata={"source-key": _ascii(raw_key), "reason": _ascii(reason)},
    )
    return key
