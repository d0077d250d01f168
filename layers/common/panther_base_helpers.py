"""Panther's ``panther_base_helpers`` functions, with Panther's semantics, for rules.

Rules written for Panther do ``from panther_base_helpers import deep_get``. This one file is the
implementation for both tools: Wizwatch imports it from the layer, and Panther's tool loads it
through ``functions/detector/rules/global_helpers/panther_base_helpers.yml`` (an ``AnalysisType:
global`` spec whose ``Filename`` points here). So it must import nothing but the standard
library: Panther's tool runs it without Wizwatch installed.

``deep_get`` returns the default when a step is missing, is not a mapping, or the final value is
None; ``deep_walk`` also descends into lists and collects every value found.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import ipaddress
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "deep_get",
    "deep_walk",
    "get_val_from_list",
    "is_base64",
    "is_ip_in_network",
    "pattern_match",
    "pattern_match_list",
    "resolve_timestamp_string",
]


#: type -> isinstance(instance, Mapping). The answer depends on the type alone (only types whose
#: instances report it as their ``__class__`` are remembered), and the ABC check is the costly
#: part of a step: rules call deep_get several times per event.
_MAPPING_TYPES: dict[type, bool] = {dict: True, type(None): False, str: False, list: False}


def _is_mapping(value: Any) -> bool:
    t = type(value)
    found = _MAPPING_TYPES.get(t)
    if found is None:
        found = isinstance(value, Mapping)
        if value.__class__ is t and len(_MAPPING_TYPES) < 256:
            _MAPPING_TYPES[t] = found
    return found


def deep_get(dictionary: Any, *keys: Any, default: Any = None) -> Any:
    """Safely walk nested mappings; default on any missing step or a final None."""
    # Panther's reduce(lambda d, key: d.get(key, default) if isinstance(d, Mapping) else default),
    # step for step, without the lambda call and ABC check per step.
    out = dictionary
    for key in keys:
        out = out.get(key, default) if _is_mapping(out) else default
    if out is None:
        return default
    return out


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def _empty_list(value: Any) -> bool:
    return _is_seq(value) and all(_empty_list(v) for v in value)


def deep_walk(obj: Any, *keys: Any, default: Any = None, return_val: str = "all") -> Any:
    """Like deep_get, but lists along the way are walked and every match is collected.

    ``return_val``: "all" (a single value alone, else the de-duplicated list), "first", "last".
    """
    if not keys:
        return default if _empty_list(obj) else obj
    key = keys[0]
    if isinstance(obj, Mapping):
        nxt = obj.get(key, None)
        if nxt is None:
            return default
        return deep_walk(nxt, *keys[1:], default=default, return_val=return_val)
    found: dict[Any, None] = {}
    if _is_seq(obj):
        for item in obj:
            value = deep_walk(item, *keys, default=default, return_val=return_val)
            if value is None:
                continue
            if _is_seq(value):
                for sub in value:
                    found[_hashable(sub)] = None
            else:
                found[_hashable(value)] = None
    values = list(found)
    if not values:
        return default
    if return_val == "first":
        return values[0]
    if return_val == "last":
        return values[-1]
    return values[0] if len(values) == 1 else values


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    if _is_seq(value):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return json.dumps(value, sort_keys=True, default=_plain)
    return value


def get_val_from_list(
    list_of_dicts: Any, return_field_key: str, field_cmp_key: str, field_cmp_val: Any
) -> set[Any]:
    """Values of ``return_field_key`` from the dicts whose ``field_cmp_key`` equals the value."""
    values = set()
    for item in list_of_dicts or []:
        if (
            isinstance(item, Mapping)
            and item.get(field_cmp_key) == field_cmp_val
            and return_field_key in item
        ):
            values.add(_hashable(item[return_field_key]))
    return values


def is_ip_in_network(ip_addr: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(ip_addr)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def pattern_match(string_to_match: str, pattern: str) -> bool:
    return fnmatch.fnmatch(string_to_match, pattern)


def pattern_match_list(string_to_match: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(string_to_match, p) for p in patterns)


def is_base64(value: str) -> str:
    """The decoded text if ``value`` is base64 of UTF-8 text, else ""."""
    if len(value) < 4 or len(value) % 4:
        return ""
    try:
        return base64.b64decode(value, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""


def resolve_timestamp_string(timestamp: str | None) -> datetime | None:
    """An aware (UTC unless the string says otherwise) datetime for a Panther or RFC 3339
    timestamp string (``2024-06-04 02:28:06.763277000``, ``2024-07-31T18:10:33.436381Z``), else None."""
    if not timestamp or not isinstance(timestamp, str):
        return None
    try:
        parsed = datetime.fromisoformat(timestamp.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
