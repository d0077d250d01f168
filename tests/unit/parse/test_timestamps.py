from datetime import UTC, datetime

import pytest

from wizwatch.parse.timestamps import TimestampError, format_panther, parse, to_panther


@pytest.mark.parametrize(
    ("raw", "panther"),
    [
        ("2023-08-24T08:54:21Z", "2023-08-24 08:54:21.000000000"),
        ("2023-08-24T08:54:21.44203Z", "2023-08-24 08:54:21.442030000"),
        ("2023-08-24T08:54:21.442031Z", "2023-08-24 08:54:21.442031000"),
        ("2024-06-27 09:19:08.731355000", "2024-06-27 09:19:08.731355000"),
        ("2023-09-01 14:27:42.694", "2023-09-01 14:27:42.694000000"),
        ("2023-08-24T10:54:21.5+02:00", "2023-08-24 08:54:21.500000000"),
        ("2024-02-29T00:00:00Z", "2024-02-29 00:00:00.000000000"),
    ],
)
def test_every_wiz_and_panther_format_becomes_panther_storage_format(raw: str, panther: str) -> None:
    assert to_panther(raw) == panther


@pytest.mark.parametrize(
    "raw", ["", "yesterday", "2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-08-24T25:00:00Z"]
)
def test_non_timestamps_are_rejected_with_the_value(raw: str) -> None:
    with pytest.raises(TimestampError):
        to_panther(raw)


def test_parse_and_format_roundtrip() -> None:
    dt = parse("2023-08-24T08:54:21.44203Z")
    assert dt == datetime(2023, 8, 24, 8, 54, 21, 442030, tzinfo=UTC)
    assert format_panther(dt) == "2023-08-24 08:54:21.442030000"
