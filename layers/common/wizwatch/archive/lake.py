"""The lake copy: every archived page again as JSON lines of normalised events, under ``lake/``.

A raw object is one whole GraphQL response (or one pushed body). Athena's JSON SerDes read one
record per line and know nothing of ``data.<connection>.nodes``, and neither engine could
compute ``p_event_time`` the way the detector does. So the detector, which already holds the
normalised events, writes them once more, one per line with the ``p_`` fields, partitioned by
the date of their ``p_event_time``::

    lake/<table>/dt=<YYYY-MM-DD of p_event_time>/<raw page, flattened>.json.gz

Both engines read this prefix (Athena through Glue tables with partition projection on ``dt``,
``wizwatch query`` through DuckDB). Matched events go to ``lake/alerts/`` the same way (the
``matches/`` objects are grouped by rule, which Athena could only project with a rule list).
Keys derive from the raw key, so a re-processed page overwrites its own lake objects. Nothing
under ``lake/`` notifies the detector (only ``raw/`` does).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wizwatch.archive.compression import gzip_fast
from wizwatch.archive.kept import _flat
from wizwatch.render import dumps, dumps_row

LAKE_PREFIX = "lake/"

#: Log type -> lake table: the one mapping both engines (Glue, DuckDB) and the detector use.
TABLES: dict[str, str] = {
    "Wiz.Audit": "wiz_audit",
    "Wiz.Issues": "wiz_issues",
    "Wiz.VulnerabilityFinding": "wiz_vulnerability_findings",
    "Wiz.Detections": "wiz_detections",
    "Wiz.IssuesWebhook": "wiz_issues_webhook",
    "Wiz.CloudConfigurationFinding": "wiz_cloud_configuration_findings",
}
#: The table of matched events (``p_rule_id``, ``p_alert_id``, ``p_alert_type`` + the event).
ALERTS_TABLE = "alerts"
#: Added to every lake row: the raw object the row came from (key inside the bucket).
SOURCE_KEY_FIELD = "p_source_key"
#: Rows without a usable ``p_event_time`` (never the case for a normalised event) land here.
UNDATED = "1970-01-01"


def table_of(log_type: str) -> str:
    """The lake table of a log type; ValueError for one Wizwatch has no table for."""
    try:
        return TABLES[log_type]
    except KeyError:
        raise ValueError(f"no lake table for log type {log_type!r}") from None


def table_prefix(table: str) -> str:
    return f"{LAKE_PREFIX}{table}/"


def event_date(event: dict[str, Any]) -> str:
    """``YYYY-MM-DD`` of the event's ``p_event_time`` (Panther's ``YYYY-MM-DD HH:MM:SS.f``)."""
    t = event.get("p_event_time")
    if isinstance(t, str) and len(t) >= 10 and t[4] == "-" and t[7] == "-":
        return t[:10]
    return UNDATED


def lake_key(table: str, dt: str, raw_key: str) -> str:
    """``lake/<table>/dt=<dt>/<raw page, flattened>.json.gz``."""
    return f"{table_prefix(table)}dt={dt}/{_flat(raw_key)}.json.gz"


def by_date(rows: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Rows grouped by event date."""
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        dt = event_date(row)
        group = out.get(dt)
        if group is None:
            group = out[dt] = []
        group.append(row)
    return out


def json_lines(rows: Iterable[dict[str, Any]], raw_key: str, bodies: Iterable[bytes] | None = None) -> bytes:
    """JSON lines of ``rows``, each with ``p_source_key`` appended (the rows are not modified:
    the same dicts are the detector's events, alerts and matches). Each row is rendered on its
    own (:func:`wizwatch.render.dumps_row`): one that cannot be rendered as it is becomes its
    stand-in with ``p_render_error``, never a failed page. ``bodies``: the rows already rendered
    by ``dumps_row`` (the kept matches are, and are not rendered twice)."""
    tail = b',"' + SOURCE_KEY_FIELD.encode() + b'":' + dumps(raw_key) + b"}\n"
    lines: list[bytes] = []
    append = lines.append
    for body in bodies if bodies is not None else map(dumps_row, rows):
        if len(body) > 2:
            append(body[:-1])
            append(tail)
        else:  # {}: no comma before the source key
            append(body[:-1])
            append(tail[1:])
    return b"".join(lines)


def write(
    s3: Any,
    bucket: str,
    table: str,
    raw_key: str,
    rows: list[dict[str, Any]],
    bodies: list[bytes] | None = None,
) -> list[str]:
    """One gzip JSON-lines object per event date; returns the keys written. ``bodies``: each
    row already rendered by ``dumps_row`` (same order), or None to render them here."""
    keys = []
    groups: list[tuple[str, list[dict[str, Any]], list[bytes] | None]]
    if bodies is None:
        groups = [(dt, group, None) for dt, group in by_date(rows).items()]
    else:
        by_dt: dict[str, tuple[list[dict[str, Any]], list[bytes]]] = {}
        for row, body in zip(rows, bodies, strict=True):
            dt = event_date(row)
            pair = by_dt.get(dt)
            if pair is None:
                pair = by_dt[dt] = ([], [])
            pair[0].append(row)
            pair[1].append(body)
        groups = [(dt, group, rendered) for dt, (group, rendered) in by_dt.items()]
    for dt, group, rendered in groups:
        key = lake_key(table, dt, raw_key)
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=gzip_fast(json_lines(group, raw_key, rendered)),
            ContentType="application/x-ndjson",
            ContentEncoding="gzip",
            Metadata={
                "source-key": raw_key.encode("ascii", "replace").decode()[:1024],
                "rows": str(len(group)),
            },
        )
        keys.append(key)
    return keys
