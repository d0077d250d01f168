"""The dedup codec gives what boto3's TypeSerializer/TypeDeserializer give, for every value our
items can hold, and refuses the rest with TypeError. Seeded random items (hypothesis is not in
the venv) plus the edge cases named one by one."""

from __future__ import annotations

import random
import string
from decimal import Decimal, Inexact, Rounded
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from wizwatch.dedup import codec

SER = TypeSerializer()
DES = TypeDeserializer()

EDGE_INTS = [0, 1, -1, 2**63, -(2**63), 10**37, 10**38 - 1, -(10**38) + 1, 12345678901234567890]
EDGE_STRINGS = ["", " ", "0", "1E+2", "é", "\u2603", "\x00", "a" * 1000, "w#RULE#r#" + "f" * 40]
EDGE_BYTES = [b"", b"\x00", bytes(range(256)), bytearray(b"abc"), bytearray()]
EDGE_DECIMALS = [
    Decimal(0),
    Decimal("-0"),
    Decimal(7),
    Decimal("1.5"),
    Decimal("1.0"),
    Decimal("1E+2"),
    Decimal("-12.3400"),
    Decimal("1E-130"),  # underflow: boto3 raises
    Decimal("9" * 39),  # 39 digits: boto3 raises
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-Infinity"),
]


def _scalar(rng: random.Random, integral_only: bool = False) -> Any:
    pick = rng.randrange(9)
    if pick == 0:
        return rng.choice(EDGE_STRINGS)
    if pick == 1:
        return "".join(rng.choice(string.printable + "éß€\u2603") for _ in range(rng.randrange(30)))
    if pick == 2:
        return rng.choice(EDGE_INTS)
    if pick == 3:
        return rng.randrange(-(10**12), 10**12)
    if pick == 4:
        return rng.choice(EDGE_BYTES)
    if pick == 5:
        return rng.randbytes(rng.randrange(40))
    if pick == 6:
        return rng.choice([True, False, None])
    if pick == 7 and not integral_only:
        return rng.choice(EDGE_DECIMALS)
    return Decimal(rng.randrange(-(10**20), 10**20))


def _value(rng: random.Random, depth: int = 0, integral_only: bool = False) -> Any:
    if depth < 3 and rng.random() < 0.25:
        if rng.random() < 0.5:
            seq = [_value(rng, depth + 1, integral_only) for _ in range(rng.randrange(4))]
            return tuple(seq) if rng.random() < 0.3 else seq
        return {f"k{i}": _value(rng, depth + 1, integral_only) for i in range(rng.randrange(4))}
    return _scalar(rng, integral_only)


def _outcome(fn: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", fn(value)
    except Exception as exc:  # compared by type below
        return "raised", type(exc)


def test_encode_matches_type_serializer_on_generated_values() -> None:
    rng = random.Random(14)
    compared = raised = 0
    for _ in range(20_000):
        value = _value(rng)
        theirs, ours = _outcome(SER.serialize, value), _outcome(codec.encode, value)
        assert ours == theirs, value
        compared += 1
        raised += theirs[0] == "raised"
    assert raised > 100 and compared - raised > 10_000  # both branches really exercised


@pytest.mark.parametrize(
    "value",
    [*EDGE_INTS, *EDGE_STRINGS, *EDGE_BYTES, *EDGE_DECIMALS, True, False, None, [], {}, (), [[{}]]],
)
def test_encode_edge_cases_match(value: Any) -> None:
    assert _outcome(codec.encode, value) == _outcome(SER.serialize, value)


def test_out_of_range_numbers_raise_as_boto3_does() -> None:
    for value, error in [
        (10**38, Rounded),
        (-(10**38), Rounded),
        (Decimal("1.00000000000000000000000000000000000001"), Inexact),
    ]:
        with pytest.raises(error):
            SER.serialize(value)
        with pytest.raises(error):
            codec.encode(value)


@pytest.mark.parametrize(
    "value", [1.0, 0.5, float("nan"), {1, 2}, {"a"}, frozenset(), Binary(b"x"), object()]
)
def test_types_our_items_never_hold_raise_type_error(value: Any) -> None:
    with pytest.raises(TypeError):
        codec.encode(value)
    with pytest.raises(TypeError):
        codec.to_item({"x": value})


def _plain(value: Any) -> Any:
    """boto3's decoded value as the store reads it: Decimal -> int, Binary -> bytes, everywhere."""
    if isinstance(value, Decimal):
        assert value == value.to_integral_value()
        return int(value)
    if isinstance(value, Binary):
        return bytes(value.value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _item(rng: random.Random) -> dict[str, Any]:
    return {f"a{i}": _value(rng, integral_only=True) for i in range(rng.randrange(1, 20))}


def _encodable(item: dict[str, Any]) -> bool:
    try:
        SER.serialize({"M": item})
    except Exception:
        return False
    return True


def test_items_match_boto3_both_ways() -> None:
    rng = random.Random(2026)
    done = 0
    while done < 3_000:
        item = _item(rng)
        if not _encodable(item):
            continue
        done += 1
        wire = {k: SER.serialize(v) for k, v in item.items() if v is not None}
        assert codec.to_item(item) == wire
        expected = {k: _plain(DES.deserialize(v)) for k, v in wire.items()}
        assert codec.from_item(wire) == (expected or None)  # no attributes: no item, as before


def test_window_item_round_trip() -> None:
    item = {
        "pk": "w#RULE#r#" + "a" * 40,
        "sk": "w",
        "rule_id": "r",
        "dedup": "",
        "window_start_ms": 1_764_000_000_000,
        "window_end": 1_764_000_060,
        "event_count": 3,
        "ver": 1,
        "mem": b"\x00" * 16,
        "distinct": b"",
        "first_event_time": None,
        "alert_state": "open",
        "p_gen": 1_764_000_000_000_123,
    }
    wire = codec.to_item(item)
    assert "first_event_time" not in wire  # None attributes are left out, not written as NULL
    assert wire == {k: SER.serialize(v) for k, v in item.items() if v is not None}
    assert codec.from_item(wire) == {k: v for k, v in item.items() if v is not None}
    assert codec.from_item({}) is None and codec.from_item(None) is None


@pytest.mark.parametrize(
    "text", ["1", "-1", "0", "1E+2", "100.000", "-0", "99999999999999999999999999999999999999"]
)
def test_integral_number_forms_decode_as_boto3(text: str) -> None:
    assert codec.from_item({"n": {"N": text}}) == {"n": int(DES.deserialize({"N": text}))}


@pytest.mark.parametrize(
    "value",
    [{"N": "1.5"}, {"N": "abc"}, {"N": "NaN"}, {"SS": ["a"]}, {"NS": ["1"]}, {"BS": [b"a"]}, {"X": 1}, {}],
)
def test_values_our_items_never_hold_fail_to_decode(value: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        codec.from_item({"v": value})
