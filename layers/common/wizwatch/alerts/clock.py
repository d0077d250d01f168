"""The detector's one source of "now".

Dedup windows are measured in processing time (as Panther does). Everything in the detector asks
``clock.now()`` through this module, so tests replace :data:`now` (``monkeypatch.setattr(clock,
"now", ...)``) to move time past a window's end instead of sleeping or relying on TTL deletion.
"""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(t: datetime) -> str:
    """RFC 3339 with milliseconds and ``Z``: the format of every time in an alert."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
