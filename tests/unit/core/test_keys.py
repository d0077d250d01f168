"""Raw archive keys are a pure, reversible function of (log type, window, page)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wizwatch.archive.keys import log_type_of, parse_raw_key, raw_key

START = datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC)
END = START + timedelta(minutes=15)


def test_round_trip_and_determinism() -> None:
    key = raw_key("Wiz.Issues", START, END, 7)
    assert key == raw_key("Wiz.Issues", START, END, 7)
    assert key.startswith("raw/Wiz.Issues/dt=2026-11-22/")
    parsed = parse_raw_key(key)
    assert (parsed.log_type, parsed.window_start, parsed.window_end, parsed.page) == (
        "Wiz.Issues",
        START,
        END,
        7,
    )
    assert str(parsed) == key
    assert log_type_of(key) == "Wiz.Issues"


def test_part_suffix_distinguishes_sub_queries() -> None:
    assert raw_key("Wiz.Audit", START, END, 1, "0a1b2c3d") != raw_key("Wiz.Audit", START, END, 1)
    assert parse_raw_key(raw_key("Wiz.Audit", START, END, 1, "0a1b2c3d")).part == "0a1b2c3d"


@pytest.mark.parametrize(
    "key",
    ["matches/Wiz.Audit/x.json.gz", "raw/Unknown/dt=2026-11-22/a_b/page-00001.json.gz", "raw/Wiz.Audit"],
)
def test_foreign_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        parse_raw_key(key)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        raw_key("Wiz.Nope", START, END, 1)
    with pytest.raises(ValueError):
        raw_key("Wiz.Audit", START, END, 0)
    with pytest.raises(ValueError):
        log_type_of("quarantine/Wiz.Audit/x")
