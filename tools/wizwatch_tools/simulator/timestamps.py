"""Wiz's ``DateTime`` text: RFC 3339 parsed to aware UTC datetimes, and formatted as the API does."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_datetime(value: str) -> datetime:
    """RFC 3339 (``Z`` or offset, 0-9 fractional digits) -> aware UTC datetime; ValueError if not."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        frac, zone = rest[:digits], rest[digits:]
        text = f"{head}.{(frac + '000000')[:6]}{zone}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def format_datetime(value: datetime) -> str:
    """The API's timestamp format: UTC ``Z``, fractional seconds without trailing zeros."""
    value = value.astimezone(UTC)
    base = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        base += "." + f"{value.microsecond:06d}".rstrip("0")
    return base + "Z"
