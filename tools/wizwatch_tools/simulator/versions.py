"""Record versions and which of them the API shows when: per-log-type tables of versions.

Wiz shows a record some time after its timestamp (ingestion lag), and issues/findings change
status over time (a new version with a later ``statusChangedAt`` / ``updatedAt``). A table keeps
each version with its own ``visible_at`` and, per record id, the newest version visible at the
time it was last advanced to. The clock is expected to move forwards; if it moves backwards the
visible set is rebuilt.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, DETECTIONS, ISSUES, VULNERABILITY_FINDING
from wizwatch_tools.simulator.timestamps import parse_datetime

LOG_TYPES = (AUDIT, ISSUES, VULNERABILITY_FINDING, CLOUD_CONFIGURATION_FINDING, DETECTIONS)

#: The node field each log type is windowed on (the poller's delta field).
TIME_FIELD = {
    AUDIT: "timestamp",
    ISSUES: "statusChangedAt",
    VULNERABILITY_FINDING: "updatedAt",
    DETECTIONS: "updatedAt",
    # A re-assessment moves only analyzedAt: a new version with the same updatedAt.
    CLOUD_CONFIGURATION_FINDING: "updatedAt",
}
#: Date fields a filter can name, per log type: filter key -> node field.
DATE_FILTERS = {
    AUDIT: {"timestamp": "timestamp"},
    ISSUES: {"statusChangedAt": "statusChangedAt", "createdAt": "createdAt", "resolvedAt": "resolvedAt"},
    VULNERABILITY_FINDING: {
        "updatedAt": "updatedAt",
        "firstSeenAt": "firstDetectedAt",
        "resolvedAt": "resolvedAt",
    },
    DETECTIONS: {"updatedAt": "updatedAt", "createdAt": "createdAt"},
    CLOUD_CONFIGURATION_FINDING: {
        "updatedAt": "updatedAt",
        "analyzedAt": "analyzedAt",
        "firstSeenAt": "firstSeenAt",
    },
}


#: How far back a request's clock may be behind the last one before the visible set is rebuilt.
_CLOCK_JITTER = timedelta(seconds=1)


def as_utc(value: datetime | str) -> datetime:
    """``value`` as an aware UTC datetime (ISO strings parsed; naive datetimes refused)."""
    if isinstance(value, str):
        return parse_datetime(value)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
    return value.astimezone(UTC)


@dataclass(slots=True)
class Version:
    """One version of a record as the API would serve it, and from when it is visible."""

    record: dict[str, Any]
    rid: str
    time: datetime
    visible_at: datetime
    seq: int
    dates: dict[str, datetime | None] = field(default_factory=dict)

    def newer_than(self, other: Version) -> bool:
        return (self.time, self.seq) > (other.time, other.seq)


class VersionTable:
    """All versions of one log type, plus the set visible at ``applied_at``."""

    def __init__(self, log_type: str) -> None:
        self.log_type = log_type
        self.time_field = TIME_FIELD[log_type]
        self.date_fields = DATE_FILTERS[log_type]
        self.versions: list[Version] = []
        self.latest: dict[str, Version] = {}
        self.visible: dict[str, Version] = {}
        self.pending: list[tuple[datetime, int, Version]] = []
        self.applied_at: datetime | None = None
        self.generation = 0  # bumped whenever what the API serves changes

    def add(self, version: Version) -> None:
        self.versions.append(version)
        cur = self.latest.get(version.rid)
        if cur is None or version.newer_than(cur):
            self.latest[version.rid] = version
        heapq.heappush(self.pending, (version.visible_at, version.seq, version))

    def advance(self, now: datetime) -> None:
        if self.applied_at is not None and now < self.applied_at:
            # Concurrent requests read the clock a hair apart: serving one of them a few
            # milliseconds "ahead" is harmless; a clock really set back rebuilds the view.
            if self.applied_at - now > _CLOCK_JITTER:
                self._rebuild(now)
            return
        self.applied_at = now
        changed = False
        while self.pending and self.pending[0][0] <= now:
            _, _, version = heapq.heappop(self.pending)
            cur = self.visible.get(version.rid)
            if cur is None or version.newer_than(cur):
                self.visible[version.rid] = version
                changed = True
        if changed:
            self.generation += 1

    def _rebuild(self, now: datetime) -> None:
        self.visible = {}
        self.pending = []
        self.applied_at = None
        for version in self.versions:
            heapq.heappush(self.pending, (version.visible_at, version.seq, version))
        self.generation += 1
        self.advance(now)
