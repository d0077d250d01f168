"""DynamoDB AttributeValues for the dedup table's own items, without boto3's TypeSerializer.

Why not ``boto3.dynamodb.types.TypeSerializer``/``TypeDeserializer``: measured on the bench's
Wiz.Audit corpus they were about a quarter of :meth:`wizwatch.dedup.store.DedupStore.record`
(54k ``serialize`` calls for 2,971 window writes: each value goes through a chain of
``isinstance`` probes and, for every number, a ``decimal`` context round trip). Our items hold
only strings, integers and bytes, so a dispatch on the exact type does the same job.

Encoding gives exactly what ``TypeSerializer().serialize`` gives for every value it accepts
(tests compare the two over generated items): ``str`` -> S, ``bool`` -> BOOL, ``int``/``Decimal``
-> N (through DynamoDB's 38-digit decimal context, so out-of-range numbers raise as boto3's do),
``bytes``/``bytearray`` -> B, ``None`` -> NULL, ``list``/``tuple`` -> L, mappings -> M. Anything
else (``float``, sets, other objects) raises :class:`TypeError`: our items never hold them.

Decoding is the inverse for the same types, with numbers as ``int`` and binary as ``bytes`` at
every depth: what ``TypeDeserializer`` gives once its ``Decimal``/``Binary`` are converted (which
the store always did). A number that is not an integer, or a set, raises :class:`TypeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

#: DynamoDB's number range (boto3's ``DYNAMODB_CONTEXT``): 38 significant digits.
_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
#: Integers strictly inside this bound have at most 38 digits: ``str()`` is their exact N form.
_SMALL = 10**38


def _number(value: int | Decimal) -> str:
    """N text as boto3 writes it; raises (``decimal`` traps, TypeError) where boto3 does."""
    if type(value) is int and -_SMALL < value < _SMALL:
        return str(value)
    text = str(_CONTEXT.create_decimal(value))
    if text in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return text


def encode(value: Any) -> dict[str, Any]:
    """One Python value as an AttributeValue."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is int:
        return {"N": str(value) if -_SMALL < value < _SMALL else _number(value)}
    if kind is bytes:
        return {"B": value}
    if value is None:
        return {"NULL": True}
    if kind is bool:
        return {"BOOL": value}
    if isinstance(value, float):
        raise TypeError(f"float {value!r} is not stored in dedup items (use int)")
    if isinstance(value, (int, Decimal)):
        return {"N": _number(int(value) if isinstance(value, int) else value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": value}
    if isinstance(value, (list, tuple)):
        return {"L": [encode(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {k: encode(v) for k, v in value.items()}}
    raise TypeError(f"{type(value).__name__} {value!r:.80} is not stored in dedup items")


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """A whole item; attributes whose value is ``None`` are left out (not written as NULL)."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind = type(value)
        if kind is str:
            out[name] = {"S": value}
        elif kind is int and -_SMALL < value < _SMALL:
            out[name] = {"N": str(value)}
        elif kind is bytes:
            out[name] = {"B": value}
        elif value is not None:
            out[name] = encode(value)
    return out


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = _CONTEXT.create_decimal(text)
    except ArithmeticError as exc:  # decimal.InvalidOperation etc.: not a DynamoDB number
        raise TypeError(f"N {text!r:.80} is not a number") from exc
    if not number.is_finite() or number != number.to_integral_value():
        raise TypeError(f"N {text!r:.80} is not an integer: dedup items hold only integers")
    return int(number)


def decode(value: Mapping[str, Any]) -> Any:
    """One AttributeValue as a Python value."""
    if len(value) != 1:
        raise TypeError(f"not an AttributeValue: {dict(value)!r:.80}")
    ((tag, inner),) = value.items()
    if tag == "S":
        return inner
    if tag == "N":
        return _int(inner)
    if tag == "B":
        return bytes(inner)
    if tag == "BOOL":
        return inner
    if tag == "NULL":
        return None
    if tag == "L":
        return [decode(v) for v in inner]
    if tag == "M":
        return {k: decode(v) for k, v in inner.items()}
    raise TypeError(f"{tag} values are not stored in dedup items")


def from_item(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A whole item, or None for a missing (or empty) one."""
    if not item:
        return None
    out: dict[str, Any] = {}
    for name, value in item.items():
        if "S" in value:
            out[name] = value["S"]
        elif "N" in value:
            out[name] = _int(value["N"])
        else:
            out[name] = decode(value)
    return out


__all__ = ["decode", "encode", "from_item", "to_item"]
