"""JSON out: alerts and kept events rendered so one odd event degrades its own copy, never a page.

``orjson.dumps`` refuses a few things a parsed event or a rule's output can hold: nesting deeper
than 254 levels (an event sits 2 levels down in an alert, so an event nested 253 deep already
fails there), strings with lone surrogates, integers beyond 64 bits, keys that are not
str/int/float/bool/None. Before, one such event made the whole page's rendering raise, so the page
went to the dead-letter queue with all its good alerts, and a redrive failed again.

:func:`dumps` is the fast path (one ``orjson`` call). Callers that render several events
(:mod:`wizwatch.alerts.message`, :mod:`wizwatch.archive.kept`) catch its :class:`RenderError` and
replace only what failed, by a *stand-in*: a copy made by :func:`clean`, which never fails --

* arrays/objects nested deeper than :data:`MAX_EVENT_DEPTH` (200: room for the alert envelope and
  for destinations that embed an event in their own JSON) are replaced by :data:`DEPTH_PLACEHOLDER`;
* strings with lone surrogates get U+FFFD (what Go's encoder writes, so Panther would too);
* integers beyond 64 bits become their decimal string; NaN and +/-Infinity become null (as orjson
  and JavaScript's ``JSON.stringify`` write them);
* keys that are not str/int/float/bool/None become ``str(key)``; sets and tuples become lists;
  any other object becomes ``str(obj)`` (as the fast path's ``default=str`` does);

and, for an event, a :data:`RENDER_ERROR_FIELD` (``p_render_error``) saying what was changed and
that the raw archive holds the original. The alert and matches copies of every other event are
byte-for-byte what they were.

Huge strings are not an error (the matches copy keeps them whole), but an alert must fit SQS and
SNS: :func:`shrink_event` makes the stand-in for an event too large for its share of an alert
(strings cut to :data:`MAX_STRING_CHARS`), so one huge event no longer pushes the good events out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

#: Event field saying why this copy of an event differs from the parsed event.
RENDER_ERROR_FIELD = "p_render_error"
#: Deepest nesting kept in a stand-in (the event itself is level 1).
MAX_EVENT_DEPTH = 200
DEPTH_PLACEHOLDER = f"<wizwatch: nested deeper than {MAX_EVENT_DEPTH} levels, removed>"
#: Longest string kept in a shrunk event (see :func:`shrink_event`).
MAX_STRING_CHARS = 1000
#: A stand-in never holds more values than this (guards against cyclic or absurd objects).
MAX_NODES = 1_000_000
_U64_MIN, _U64_MAX = -(2**63), 2**64 - 1
_OPTIONS = orjson.OPT_NON_STR_KEYS


class RenderError(TypeError):
    """An object ``orjson`` cannot render (depth, surrogates, huge ints, odd keys)."""


def dumps(obj: Any) -> bytes:
    """Compact JSON; unknown objects (datetimes from odd rules) become strings.

    U+FFFE and U+FFFF (valid in JSON, left raw by orjson) are written as ``\\ufffe``/``\\uffff``:
    SQS refuses message bodies holding them, so one such character in an event would keep its
    alert off the queue for good. Escaping here also makes size checks measure the real size.
    Raises :class:`RenderError` for what orjson cannot render.
    """
    try:
        # Plain first: OPT_NON_STR_KEYS makes every call ~65% slower (0.29 -> 0.48 us per audit
        # event), and only changes the output of objects the plain call refuses (non-string
        # keys, and types only ``default`` renders), so the bytes are the same either way.
        out = orjson.dumps(obj)
    except TypeError:
        try:
            out = orjson.dumps(obj, default=str, option=_OPTIONS)
        except TypeError as exc:  # orjson.JSONEncodeError is a TypeError
            raise RenderError(str(exc)) from None
    if b"\xef\xbf" in out:
        out = out.replace(b"\xef\xbf\xbe", b"\\ufffe").replace(b"\xef\xbf\xbf", b"\\uffff")
    return out


def _clean_str(s: str, notes: set[str]) -> str:
    if s.isascii():
        return s
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        notes.add("lone surrogates replaced by U+FFFD")
        return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return s


def _clean_key(key: Any, notes: set[str]) -> Any:
    if isinstance(key, str):
        return _clean_str(key, notes)
    if key is None or isinstance(key, bool | float):
        return key
    if isinstance(key, int) and _U64_MIN <= key <= _U64_MAX:
        return key
    notes.add("keys that are not JSON scalars written as strings")
    return _clean_str(str(key), notes)


def clean(
    value: Any, *, max_depth: int = MAX_EVENT_DEPTH, max_string: int | None = None
) -> tuple[Any, set[str]]:
    """A JSON-safe copy of ``value`` and notes on what was changed (empty: nothing was).

    Iterative (no recursion), so any depth is fine; see the module docstring for the rules.
    """
    notes: set[str] = set()
    holder: list[Any] = [None]
    stack: list[tuple[Any, Any, Any, int]] = [(value, holder, 0, 1)]
    nodes = 0
    while stack:
        src, parent, slot, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            parent[slot] = None
            notes.add(f"more than {MAX_NODES} values: the rest removed")
            continue
        if isinstance(src, str):
            if max_string is not None and len(src) > max_string:
                src = src[: max_string - 15] + "... (truncated)"
                notes.add(f"strings longer than {max_string} characters cut")
            parent[slot] = _clean_str(src, notes)
        elif src is None or isinstance(src, bool):
            parent[slot] = src
        elif isinstance(src, int):
            if _U64_MIN <= src <= _U64_MAX:
                parent[slot] = src
            else:
                parent[slot] = str(src)
                notes.add("integers beyond 64 bits written as strings")
        elif isinstance(src, float):
            if math.isfinite(src):
                parent[slot] = src
            else:
                parent[slot] = None
                notes.add("NaN/Infinity written as null")
        elif isinstance(src, Mapping | list | tuple | set | frozenset) or (
            isinstance(src, Sequence) and not isinstance(src, bytes | bytearray)
        ):
            if depth > max_depth:
                parent[slot] = DEPTH_PLACEHOLDER
                notes.add(f"values nested deeper than {max_depth} levels replaced by a placeholder")
                continue
            if isinstance(src, Mapping):
                out: dict[Any, Any] = {}
                parent[slot] = out
                for k, v in src.items():
                    key = _clean_key(k, notes)
                    out[key] = None
                    stack.append((v, out, key, depth + 1))
            else:
                items = sorted(src, key=repr) if isinstance(src, set | frozenset) else list(src)
                seq: list[Any] = [None] * len(items)
                parent[slot] = seq
                stack.extend((v, seq, i, depth + 1) for i, v in enumerate(items))
        else:
            parent[slot] = _clean_str(str(src), notes)
    return holder[0], notes


def _note(notes: set[str], why: str) -> str:
    return f"{why}; this copy differs: {'; '.join(sorted(notes))} (the raw archive holds the original)"


def stand_in(event: Mapping[str, Any], why: str, *, max_depth: int = MAX_EVENT_DEPTH) -> dict[str, Any]:
    """The documented replacement for an event that cannot be rendered as it is."""
    copy, notes = clean(event, max_depth=max_depth)
    if not isinstance(copy, dict):
        copy = {"value": copy}
    copy[RENDER_ERROR_FIELD] = _note(notes, why)
    return copy


def renderable_event(event: Any, *, max_depth: int = MAX_EVENT_DEPTH) -> Any:
    """``event`` itself when it renders within ``max_depth`` levels, else its stand-in."""
    copy, notes = clean(event, max_depth=max_depth)
    if not notes:
        return event
    if not isinstance(copy, dict):
        copy = {"value": copy}
    copy[RENDER_ERROR_FIELD] = _note(notes, "the event could not be rendered as JSON as it is")
    return copy


def shrink_event(event: Any, size: int, share: int) -> Any:
    """A copy of an event whose JSON (``size`` bytes) is larger than ``share``: strings cut."""
    copy, notes = clean(event, max_string=MAX_STRING_CHARS)
    if not isinstance(copy, dict):
        copy = {"value": copy}
    copy[RENDER_ERROR_FIELD] = _note(
        notes, f"the event is {size} bytes as JSON, more than its {share}-byte share of the alert"
    )
    return copy


def dumps_row(row: Mapping[str, Any]) -> bytes:
    """One JSON line's object: as it is, or its stand-in when it cannot be rendered."""
    try:
        return dumps(row)
    except RenderError as exc:
        return dumps(stand_in(row, f"the event could not be rendered as JSON ({exc})"))
