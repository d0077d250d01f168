"""One record's JSON bytes -> the record, repairing what Panther's own parser repairs.

Used only after the fast whole-page parse failed (see :mod:`wizwatch.parse.pages`). Each odd value
is handled the way Panther's log pipeline (Go's ``encoding/json`` semantics) handles it, because a
rule that fires in Panther must fire here, and because a record an attacker can shape must not be
able to hide itself (and its page) from every rule:

* **Invalid UTF-8** and **lone surrogate escapes** (``"\\ud800"``): Go's ``json.Unmarshal`` does not
  fail on them; its documentation says "invalid UTF-8 or invalid UTF-16 surrogate pairs are not
  treated as an error. Instead, they are replaced by the Unicode replacement character U+FFFD"
  (``encoding/json/decode.go``: ``rr = unicode.ReplacementChar``; json-iterator, the decoder of
  Go log pipelines, does the same "to match stdlib behavior", json-iterator/go#413).
  A lone surrogate escape is even valid JSON grammar (RFC 8259 §8.2 only warns that software may
  behave unpredictably), and strings such as audit ``actionParameters`` carry user input, so a
  user could put one there on purpose. We do the same replacement and evaluate the record, which
  carries the list of repairs in :data:`REPAIRS_FIELD`
  (``p_parse_repairs``) so an analyst sees that its text is not byte-exact (the raw archive is).
* **Nesting deeper than** :data:`MAX_RECORD_DEPTH` levels: valid JSON that orjson cannot hold
  (its limit is 1,024). Go's decoder accepts up to 10,000 levels, so Panther would evaluate such a
  record; we keep its first :data:`MAX_RECORD_DEPTH` levels, replace each deeper array/object by
  the string :data:`DEPTH_PLACEHOLDER`, flag it in ``p_parse_repairs`` and evaluate it. No Wiz
  field a rule reads is that deep; only free-form JSON (``actionParameters``) can be.
  :data:`MAX_RECORD_DEPTH` is 1,020, what the fast path accepts for a record inside a GraphQL
  page (4 levels of envelope), so a record gets the same event whichever path parsed its page.
* **NaN, Infinity, numbers out of float range (``1e400``), and anything else that is not JSON**:
  RFC 8259 §6 does not allow them, Go's decoder rejects them (Panther reports the line as not
  parseable), and no JSON encoder Wiz could use writes them, so there is nothing a user could have
  typed. The record is quarantined on its own, as an :class:`UnreadableRecord` with the reason and
  its raw text; every other record of the page is evaluated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from wizwatch.parse import scan

#: Event field listing what was repaired in a record (only present on repaired records).
REPAIRS_FIELD = "p_parse_repairs"
#: Deepest nesting kept in a record parsed on its own (see the module docstring).
MAX_RECORD_DEPTH = 1020
DEPTH_PLACEHOLDER = f"<wizwatch: nested deeper than {MAX_RECORD_DEPTH} levels, removed>"
_PLACEHOLDER_JSON = orjson.dumps(DEPTH_PLACEHOLDER)

REPAIR_UTF8 = "invalid UTF-8 replaced by U+FFFD"
REPAIR_SURROGATE = "lone UTF-16 surrogate escape replaced by U+FFFD"
REPAIR_DEPTH = f"values nested deeper than {MAX_RECORD_DEPTH} levels replaced by a placeholder"

#: A surrogate pair (kept), a lone surrogate escape (replaced), or any other escape (skipped
#: whole, so ``\\\\ud800`` -- an escaped backslash then text -- is never mistaken for one).
_ESCAPES = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}|\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\\.",
    re.S,
)
_STRINGS = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
_NON_NUMBER = re.compile(rb"(?<![\w.])-?(?:NaN|Infinity)(?![\w.])")
#: How much of an unreadable record's raw text is kept in its quarantine row.
MAX_RAW_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class UnreadableRecord:
    """Stands in a page's record list for a record that is not JSON (reason and raw text kept)."""

    reason: str
    raw: str


def _lone_surrogate(m: re.Match[bytes]) -> bytes:
    token = m.group()
    if len(token) == 6:  # a lone surrogate (pairs are 12 bytes, other escapes 2)
        return b"\\ufffd"
    return token


def _why(text: bytes, exc: orjson.JSONDecodeError) -> str:
    if _NON_NUMBER.search(_STRINGS.sub(b'""', text)):
        return "not JSON: NaN and Infinity are not JSON numbers (RFC 8259 section 6)"
    return f"not JSON: {exc}"


def _raw_text(seg: bytes | bytearray) -> str:
    text = bytes(seg[: MAX_RAW_CHARS * 4]).decode("utf-8", "replace")
    return text[:MAX_RAW_CHARS]


def parse_record(seg: bytes | bytearray) -> Any:
    """The record in ``seg`` (repaired and flagged if needed), or an :class:`UnreadableRecord`."""
    try:
        return orjson.loads(seg)
    except orjson.JSONDecodeError:
        pass
    repairs: list[str] = []
    text = bytes(seg)
    try:
        text.decode("utf-8")
    except UnicodeDecodeError:
        text = text.decode("utf-8", "replace").encode()
        repairs.append(REPAIR_UTF8)
    if b"\\" in text:
        fixed = _ESCAPES.sub(_lone_surrogate, text)
        if fixed != text:
            text = fixed
            repairs.append(REPAIR_SURROGATE)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth" not in str(exc):
            return UnreadableRecord(_why(text, exc), _raw_text(seg))
        try:
            text, _ = scan.cut_deeper_than(text, MAX_RECORD_DEPTH, _PLACEHOLDER_JSON)
            value = orjson.loads(text)
        except (scan.ScanError, orjson.JSONDecodeError) as again:
            return UnreadableRecord(f"not JSON: {again}", _raw_text(seg))
        repairs.append(REPAIR_DEPTH)
    if isinstance(value, dict) and repairs:
        value[REPAIRS_FIELD] = repairs
    return value
