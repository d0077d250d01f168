"""A tolerant scanner over raw JSON bytes: where each value starts and ends, without parsing it.

When ``orjson`` rejects a whole page because of one record (a lone surrogate escape, invalid UTF-8,
``NaN``, nesting deeper than its 1,024 levels), the page's structure is still sound: brackets
balance and strings are closed. This module finds that structure, so each record can be parsed on
its own (:mod:`wizwatch.parse.pages`). It only tracks what delimits values: brackets, braces and
strings (with their backslash escapes); what is inside a string, and whether numbers or literals
are valid, is left to the per-record parse. No recursion: nesting depth is a counter.

It is written with ``re`` (C loops jumping from one structural character to the next) rather than
a byte-by-byte Python loop, so a 1 MB page is scanned in tens of milliseconds. It only runs after
the fast whole-page parse failed.

A document whose bracket structure itself is broken (unbalanced, cut short: what no JSON encoder
writes, e.g. a truncated or corrupt object) raises :class:`ScanError`; the caller then treats the
whole object as unreadable, as before.
"""

from __future__ import annotations

import re

Buffer = bytes | bytearray

#: Brackets, braces and the opening quote of a string.
_TOKEN = re.compile(rb'[\[\]{}"]')
#: The rest of a string after its opening quote, up to and including the closing quote.
_STRING_REST = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
#: Where a scalar (number, true/false/null, or an invalid bare word such as NaN) ends.
_SCALAR_END = re.compile(rb"[\s,\]}:]")
_WS = re.compile(rb"[ \t\r\n]*")
_OPEN = (0x5B, 0x7B)  # [ {
_CLOSE_OF = {0x5D: 0x5B, 0x7D: 0x7B}  # ] -> [, } -> {
_QUOTE = 0x22


class ScanError(ValueError):
    """The bytes' structure is broken (unbalanced brackets, an unclosed string, a missing comma)."""


def skip_ws(buf: Buffer, i: int) -> int:
    m = _WS.match(buf, i)
    return m.end() if m else i


def string_end(buf: Buffer, i: int) -> int:
    """End (exclusive) of the string whose opening quote is at ``i``."""
    m = _STRING_REST.match(buf, i + 1)
    if m is None:
        raise ScanError(f"string opened at byte {i} is never closed")
    return m.end()


def value_end(buf: Buffer, i: int) -> int:
    """End (exclusive) of the JSON value starting at ``i`` (``i`` at its first byte)."""
    if i >= len(buf):
        raise ScanError("expected a value, found the end of the document")
    c = buf[i]
    if c == _QUOTE:
        return string_end(buf, i)
    if c not in _OPEN:
        m = _SCALAR_END.search(buf, i)
        end = m.start() if m else len(buf)
        if end == i:
            raise ScanError(f"expected a value at byte {i}, found {bytes(buf[i : i + 1])!r}")
        return end
    stack = bytearray((c,))
    pos = i + 1
    search = _TOKEN.search
    while True:
        m = search(buf, pos)
        if m is None:
            raise ScanError(f"value opened at byte {i} is never closed")
        j = m.start()
        ch = buf[j]
        if ch == _QUOTE:
            pos = string_end(buf, j)
        elif ch in _OPEN:
            stack.append(ch)
            pos = j + 1
        else:
            if stack[-1] != _CLOSE_OF[ch]:
                raise ScanError(f"mismatched {chr(ch)!r} at byte {j}")
            stack.pop()
            pos = j + 1
            if not stack:
                return pos


def _expect(buf: Buffer, i: int, what: bytes) -> int:
    i = skip_ws(buf, i)
    if buf[i : i + 1] != what:
        found = bytes(buf[i : i + 1]) or b"the end"
        raise ScanError(f"expected {what.decode()!r} at byte {i}, found {found!r}")
    return i + 1


def _open(buf: Buffer, i: int, opener: bytes, closer: bytes) -> tuple[int, bool]:
    """Position after ``opener`` (and whitespace), and whether ``closer`` follows at once."""
    pos = skip_ws(buf, _expect(buf, i, opener))
    if buf[pos : pos + 1] == closer:
        return pos + 1, True
    return pos, False


def _after(buf: Buffer, end: int, closer: bytes) -> tuple[int, bool]:
    """After an entry ending at ``end``: the next position, and whether ``closer`` ended it all."""
    pos = skip_ws(buf, end)
    sep = buf[pos : pos + 1]
    if sep == closer:
        return pos + 1, True
    if sep != b",":
        found = bytes(sep) or b"the end"
        raise ScanError(f"expected ',' or {closer.decode()!r} at byte {pos}, found {found!r}")
    return pos + 1, False


def array_items(buf: Buffer, i: int) -> tuple[list[tuple[int, int]], int]:
    """(start, end) of each element of the array opening at ``i``, and the end of the array."""
    items: list[tuple[int, int]] = []
    pos, done = _open(buf, i, b"[", b"]")
    while not done:
        start = skip_ws(buf, pos)
        end = value_end(buf, start)
        items.append((start, end))
        pos, done = _after(buf, end, b"]")
    return items, pos


def object_members(buf: Buffer, i: int) -> tuple[list[tuple[bytes, int, int]], int]:
    """(raw key with its quotes, value start, value end) of each member of the object at ``i``."""
    members: list[tuple[bytes, int, int]] = []
    pos, done = _open(buf, i, b"{", b"}")
    while not done:
        k = skip_ws(buf, pos)
        if buf[k : k + 1] != b'"':
            raise ScanError(f"expected a member name at byte {k}")
        key_end = string_end(buf, k)
        start = skip_ws(buf, _expect(buf, key_end, b":"))
        end = value_end(buf, start)
        members.append((bytes(buf[k:key_end]), start, end))
        pos, done = _after(buf, end, b"}")
    return members, pos


def cut_deeper_than(buf: Buffer, limit: int, placeholder: bytes) -> tuple[bytes, int]:
    """``buf`` (one value) with every array/object nested deeper than ``limit`` replaced.

    The outermost container is level 1. Returns the new bytes and how many values were replaced.
    """
    out: list[bytes] = []
    depth = 0
    pos = 0  # scan position
    copied = 0  # bytes of buf already copied to out
    cut_start = -1
    cuts = 0
    search = _TOKEN.search
    while True:
        m = search(buf, pos)
        if m is None:
            break
        j = m.start()
        ch = buf[j]
        if ch == _QUOTE:
            pos = string_end(buf, j)
            continue
        pos = j + 1
        if ch in _OPEN:
            depth += 1
            if depth == limit + 1:
                cut_start = j
        else:
            if depth == limit + 1:
                out.append(bytes(buf[copied:cut_start]))
                out.append(placeholder)
                copied = pos
                cuts += 1
            depth -= 1
    out.append(bytes(buf[copied:]))
    return b"".join(out), cuts
