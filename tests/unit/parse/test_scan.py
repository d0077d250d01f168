"""The tolerant scanner: value extents over raw bytes, strings and escapes respected, no recursion."""

from __future__ import annotations

import pytest

from wizwatch.parse import scan


@pytest.mark.parametrize(
    ("text", "end"),
    [
        (b'"a\\"b" ,', 6),
        (b'"\\\\" ,', 4),
        (b"123, 4", 3),
        (b"NaN]", 3),
        (b"-Infinity}", 9),
        (b'{"a": "}", "b": [1, {"c": "]"}]} tail', 32),
        (b"[[[]]]", 6),
    ],
)
def test_value_end(text: bytes, end: int) -> None:
    assert scan.value_end(text, 0) == end


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b'{"a": [}', "mismatched"),
        (b'{"a": "open}', "never closed"),
        (b"[1, 2", "never closed"),
        (b"", "end of the document"),
        (b",", "expected a value"),
    ],
)
def test_broken_values_raise(text: bytes, problem: str) -> None:
    with pytest.raises(scan.ScanError, match=problem):
        scan.value_end(text, 0)


def test_array_items_and_object_members() -> None:
    text = b' [ 1 , "x,]" , {"k": [1,2]} , NaN ] '
    items, end = scan.array_items(text, 1)
    assert [text[a:b] for a, b in items] == [b"1", b'"x,]"', b'{"k": [1,2]}', b"NaN"]
    assert end == len(text) - 1
    assert scan.array_items(b"[ ]", 0) == ([], 3)
    text = b'{"a" : 1, "b\\"": {"}": 2}}'
    members, end = scan.object_members(text, 0)
    assert [(k, text[s:e]) for k, s, e in members] == [(b'"a"', b"1"), (b'"b\\""', b'{"}": 2}')]
    assert end == len(text)
    with pytest.raises(scan.ScanError, match="expected ','"):
        scan.array_items(b"[1 2]", 0)
    with pytest.raises(scan.ScanError, match="member name"):
        scan.object_members(b"{1: 2}", 0)


def test_a_million_levels_need_no_recursion() -> None:
    deep = b"[" * 1_000_000 + b"]" * 1_000_000
    assert scan.value_end(deep, 0) == len(deep)


def test_cut_deeper_than() -> None:
    cut, n = scan.cut_deeper_than(b'{"a": [[1], "[[", {"b": {}}], "c": []}', 2, b'"X"')
    assert (cut, n) == (b'{"a": ["X", "[[", "X"], "c": []}', 2)
    assert scan.cut_deeper_than(b"[1, 2]", 1, b"X") == (b"[1, 2]", 0)
