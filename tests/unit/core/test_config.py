"""The env-config loader: required, defaults, coercion, and one error listing every problem."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wizwatch.config import describe, load, setting
from wizwatch.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    table: str = setting("X_TABLE", "the table")
    hours: int = setting("X_HOURS", "look-back hours", default=24)
    rate: float = setting("X_RATE", "requests per second", default=2.0)
    types: list[str] = setting("X_TYPES", "log types", default=["a", "b"])
    flag: bool = setting("X_FLAG", "a switch", default=False)
    optional: str | None = setting("X_OPT", "optional thing", default=None)


def test_defaults_and_coercion() -> None:
    cfg = load(Sample, {"X_TABLE": "t", "X_HOURS": "6", "X_TYPES": " c, d ,,", "X_FLAG": "yes"})
    assert cfg == Sample(table="t", hours=6, rate=2.0, types=["c", "d"], flag=True, optional=None)


def test_empty_value_falls_back_to_default() -> None:
    assert load(Sample, {"X_TABLE": "t", "X_HOURS": ""}).hours == 24


def test_every_problem_is_reported_with_its_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load(Sample, {"X_HOURS": "six", "X_FLAG": "maybe"})
    message = str(err.value)
    assert "X_TABLE is required: the table" in message
    assert "X_HOURS='six' is invalid" in message
    assert "X_FLAG='maybe' is invalid" in message


def test_describe_lists_every_setting() -> None:
    rows = describe(Sample)
    assert [r[0] for r in rows] == ["X_TABLE", "X_HOURS", "X_RATE", "X_TYPES", "X_FLAG", "X_OPT"]
    assert rows[0][1] == "(required)"
