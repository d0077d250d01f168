"""Wiz timestamps in every shape we meet, converted to Panther's stored format.

The API sends RFC 3339 UTC with 0-6 fractional digits; Panther's own test logs carry its storage
format (``2024-06-27 09:19:08.731355000``: space separator, 9 digits, no zone, UTC). Rules compare
``p_event_time`` strings, so we always emit the Panther form. The common shapes take a string-only
fast path (this runs for every event); anything else goes through ``datetime`` parsing.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

PANTHER_FORMAT_EXAMPLE = "2024-06-27 09:19:08.731355000"

_FAST = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|z|\+00:00|\+0000)?")
_OFFSET = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|z|[+-]\d{2}:?\d{2})?"
)


class TimestampError(ValueError):
    """A value that is not a timestamp in any format Wiz or Panther uses."""


def to_panther(value: str) -> str:
    """Convert a Wiz/Panther timestamp string to ``YYYY-MM-DD HH:MM:SS.fffffffff`` (UTC)."""
    m = _FAST.fullmatch(value)
    if m is not None:
        frac = m.group(3) or ""
        # Only UTC forms take this path, so the wall clock is already UTC; validate the date.
        _check_fields(m.group(1), m.group(2), value)
        return f"{m.group(1)} {m.group(2)}.{frac.ljust(9, '0')}"
    return format_panther(parse(value))


def _check_fields(date: str, clock: str, original: str) -> None:
    # String range checks are cheap; only days past 28 need the calendar.
    mo, d = date[5:7], date[8:10]
    if not (
        "01" <= mo <= "12"
        and "01" <= d <= "31"
        and clock[0:2] <= "23"
        and clock[3:5] <= "59"
        and clock[6:8] <= "60"
    ):
        raise TimestampError(f"not a valid timestamp: {original!r}")
    if d > "28":
        try:
            datetime(int(date[0:4]), int(mo), int(d))
        except ValueError as exc:
            raise TimestampError(f"not a valid timestamp: {original!r} ({exc})") from None


def parse(value: str) -> datetime:
    """Parse any accepted timestamp to an aware UTC datetime (nanoseconds truncated to micro)."""
    if not isinstance(value, str):
        raise TimestampError(f"timestamp must be a string, got {type(value).__name__}")
    m = _OFFSET.fullmatch(value.strip())
    if m is None:
        raise TimestampError(f"not a timestamp in RFC 3339 or Panther format: {value!r}")
    date, hh, mm, ss, frac, zone = m.groups()
    try:
        base = datetime.fromisoformat(f"{date}T{hh}:{mm}:{ss}")
    except ValueError as exc:
        raise TimestampError(f"not a valid timestamp: {value!r} ({exc})") from None
    micros = int((frac or "0").ljust(6, "0")[:6])
    base = base.replace(microsecond=micros, tzinfo=UTC)
    if zone and zone not in ("Z", "z"):
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        base = base - sign * offset
    return base


def format_panther(dt: datetime) -> str:
    """Panther's storage format for an aware (or naive UTC) datetime."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{dt.microsecond:06d}000"


def now_panther() -> str:
    return format_panther(datetime.now(UTC))
