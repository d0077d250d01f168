"""Object keys of the raw archive and of what the detector keeps.

A raw key is a pure function of (log type, window, page number): a retried page overwrites its
own object instead of adding a twin, and the key alone tells the detector the log type. Keys are
partitioned by the window's start date (``dt=YYYY-MM-DD``) so Athena or S3 Select can prune.

A pushed (webhook) body is kept beside the pages as
``raw/<LogType>/dt=YYYY-MM-DD/pushed/<sha256 of the body>.json.gz``: the same depth as a page
(``raw/<LogType>/dt=.../<folder>/<file>.json.gz``), keyed by the body's digest so a re-delivered
body overwrites itself. Its body is one record or a JSON array of records, not a GraphQL page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from wizwatch.logtypes import ALL_LOG_TYPES

RAW_PREFIX = "raw/"
MATCHES_PREFIX = "matches/"
QUARANTINE_PREFIX = "quarantine/"
#: Full-posture snapshots: outside raw/, so the bucket never notifies the detector of them and
#: stateful rules never see a finding twice (once changed, once in a snapshot).
SNAPSHOT_PREFIX = "snapshots/"
SNAPSHOT_MANIFEST = "manifest.json"
#: The notifier's delivery records (wizwatch.notify.records).
DELIVERIES_PREFIX = "deliveries/"

_STAMP = "%Y%m%dT%H%M%S%fZ"
_RAW_RE = re.compile(
    r"^raw/(?P<log_type>[^/]+)/dt=\d{4}-\d{2}-\d{2}/"
    r"(?P<start>\d{8}T\d{12}Z)_(?P<end>\d{8}T\d{12}Z)(?:_(?P<part>[0-9a-f]{8}))?/"
    r"page-(?P<page>\d{5,})\.json\.gz$"
)


_PUSHED_RE = re.compile(
    r"^raw/(?P<log_type>[^/]+)/dt=(?P<date>\d{4}-\d{2}-\d{2})/pushed/(?P<sha>[0-9a-f]{64})\.json\.gz$"
)


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime(_STAMP)


def _parse_stamp(s: str) -> datetime:
    return datetime.strptime(s, _STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class RawKey:
    """The parts of a raw archive key."""

    log_type: str
    window_start: datetime
    window_end: datetime
    page: int
    #: Distinguishes sub-queries of one window (e.g. a query variant); empty for the usual case.
    part: str = ""

    def __str__(self) -> str:
        return raw_key(self.log_type, self.window_start, self.window_end, self.page, self.part)


def raw_key(log_type: str, start: datetime, end: datetime, page: int, part: str = "") -> str:
    """``raw/Wiz.Audit/dt=2026-11-22/20261122T100000000000Z_20261122T101500000000Z/page-00001.json.gz``."""
    if log_type not in ALL_LOG_TYPES:
        raise ValueError(f"unknown log type {log_type!r}")
    if page < 1:
        raise ValueError("page numbers start at 1")
    suffix = f"_{part}" if part else ""
    return (
        f"{RAW_PREFIX}{log_type}/dt={start.astimezone(UTC):%Y-%m-%d}/"
        f"{_stamp(start)}_{_stamp(end)}{suffix}/page-{page:05d}.json.gz"
    )


@lru_cache(maxsize=1024)
def parse_raw_key(key: str) -> RawKey:
    """Inverse of :func:`raw_key`; ValueError for anything that is not a raw page key.

    Cached: the detector derives every match's and quarantine row's keys from its page's key
    (thousands of calls per page, each a strptime pair: 6% of an audit page's CPU before).
    RawKey is frozen, so a shared result cannot be changed by a caller.
    """
    m = _RAW_RE.match(key)
    if not m or m["log_type"] not in ALL_LOG_TYPES:
        raise ValueError(f"not a raw archive key: {key!r}")
    return RawKey(
        log_type=m["log_type"],
        window_start=_parse_stamp(m["start"]),
        window_end=_parse_stamp(m["end"]),
        page=int(m["page"]),
        part=m["part"] or "",
    )


def log_type_of(key: str) -> str:
    """The log type named by a ``raw/<LogType>/...`` key (also for pushed objects)."""
    parts = key.split("/")
    if len(parts) < 3 or parts[0] != "raw" or parts[1] not in ALL_LOG_TYPES:
        raise ValueError(f"key {key!r} is not under raw/<LogType>/ (known: {', '.join(ALL_LOG_TYPES)})")
    return parts[1]


def snapshot_id(slot: datetime, attempt: int = 0) -> str:
    """``20261122T020000000000Z`` (the day's snapshot time), ``_<attempt:08x>`` after a restart."""
    return _stamp(slot) + (f"_{attempt:08x}" if attempt else "")


def snapshot_prefix(log_type: str, slot: datetime, attempt: int = 0) -> str:
    """``snapshots/<LogType>/dt=YYYY-MM-DD/<snapshot id>/``: one folder per snapshot attempt."""
    if log_type not in ALL_LOG_TYPES:
        raise ValueError(f"unknown log type {log_type!r}")
    return f"{SNAPSHOT_PREFIX}{log_type}/dt={slot.astimezone(UTC):%Y-%m-%d}/{snapshot_id(slot, attempt)}/"


def snapshot_page_key(log_type: str, slot: datetime, attempt: int, page: int) -> str:
    """A snapshot page: a pure function of (log type, slot, attempt, page), like raw keys."""
    if page < 1:
        raise ValueError("page numbers start at 1")
    return f"{snapshot_prefix(log_type, slot, attempt)}page-{page:05d}.json.gz"


def snapshot_manifest_key(log_type: str, slot: datetime, attempt: int = 0) -> str:
    """Written after a snapshot's last page: a snapshot folder with a manifest is complete."""
    return snapshot_prefix(log_type, slot, attempt) + SNAPSHOT_MANIFEST


@dataclass(frozen=True)
class PushedKey:
    """The parts of a pushed-body key."""

    log_type: str
    date: str  # YYYY-MM-DD
    sha256: str

    def __str__(self) -> str:
        return pushed_key(self.log_type, self.date, self.sha256)


def pushed_key(log_type: str, date: str, sha256: str) -> str:
    """``raw/Wiz.Detections/dt=2025-01-21/pushed/<64 hex>.json.gz`` for a body pushed by Wiz."""
    if log_type not in ALL_LOG_TYPES:
        raise ValueError(f"unknown log type {log_type!r}")
    key = f"{RAW_PREFIX}{log_type}/dt={date}/pushed/{sha256}.json.gz"
    if not _PUSHED_RE.match(key):
        raise ValueError(f"not a valid pushed-body key: {key!r} (date YYYY-MM-DD, lower-case sha256 hex)")
    return key


def parse_pushed_key(key: str) -> PushedKey:
    """Inverse of :func:`pushed_key`; ValueError for anything else."""
    m = _PUSHED_RE.match(key)
    if not m or m["log_type"] not in ALL_LOG_TYPES:
        raise ValueError(f"not a pushed-body key: {key!r}")
    return PushedKey(log_type=m["log_type"], date=m["date"], sha256=m["sha"])


def is_pushed_key(key: str) -> bool:
    """True for the key of a webhook body (one record or an array), False for a polled page."""
    return _PUSHED_RE.match(key) is not None
