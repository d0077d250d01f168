"""One hostile record never costs its neighbours: the whole-page parse falls back record by record.

Each case puts one hostile record between good ones, in every shape a body can take (GraphQL page,
JSON array, JSON lines, a single pushed body), and checks that the good records come out exactly
as the fast parse would give them, and the hostile one is repaired and flagged (what Panther's Go
parser repairs) or left as an UnreadableRecord with its reason (what it rejects).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import orjson
import pytest

from wizwatch.errors import InvalidPage
from wizwatch.parse import records as R
from wizwatch.parse.pages import UnreadableRecord, read_page, read_records


def good(i: int) -> bytes:
    return json.dumps(
        {"id": f"g{i}", "action": "DeleteUser", "status": "SUCCESS", "timestamp": "2026-11-22T09:30:00Z"}
    ).encode()


DEEP = b'{"id":"deep","action":"DeleteUser","x":' + b"[" * 1100 + b"1" + b"]" * 1100 + b"}"

#: name -> (raw record bytes, what the record becomes: a repair note or an unreadable reason)
HOSTILE: dict[str, tuple[bytes, str, str]] = {
    "lone high surrogate": (
        b'{"id":"h","actionParameters":{"name":"a\\ud800b"}}',
        "repaired",
        R.REPAIR_SURROGATE,
    ),
    "lone low surrogate": (b'{"id":"l","name":"\\udc00"}', "repaired", R.REPAIR_SURROGATE),
    "high surrogate then non-low": (b'{"id":"p","name":"\\ud800\\u0041"}', "repaired", R.REPAIR_SURROGATE),
    "invalid UTF-8": (b'{"id":"u","name":"caf\xe9 \xff"}', "repaired", R.REPAIR_UTF8),
    "UTF-8 encoded surrogate": (b'{"id":"c","name":"\xed\xa0\x80"}', "repaired", R.REPAIR_UTF8),
    "nesting over 1024": (DEEP, "repaired", R.REPAIR_DEPTH),
    "NaN": (b'{"id":"n","score":NaN}', "unreadable", "NaN and Infinity are not JSON numbers"),
    "Infinity": (b'{"id":"i","score":Infinity}', "unreadable", "NaN and Infinity are not JSON numbers"),
    "-Infinity": (b'{"id":"m","score":-Infinity}', "unreadable", "NaN and Infinity are not JSON numbers"),
    "number out of range": (b'{"id":"e","score":1e400}', "unreadable", "infinity"),
    "bare word": (b'{"id":"w","ok":yes}', "unreadable", "not JSON"),
    "missing comma": (b'{"id":"x" "a":1}', "unreadable", "not JSON"),
}


def graphql(nodes: list[bytes], info: bytes = b'{"hasNextPage":false,"endCursor":"c1"}') -> bytes:
    return b'{"data":{"auditLogEntries":{"nodes":[' + b",".join(nodes) + b'],"pageInfo":' + info + b"}}}"


def check(records: list[Any], kind: str, expect: str, at: int = 1) -> None:
    assert records[0] == orjson.loads(good(1)) and records[-1] == orjson.loads(good(2))
    hostile = records[at]
    if kind == "repaired":
        assert isinstance(hostile, dict) and hostile[R.REPAIRS_FIELD] == [expect]
        if expect != R.REPAIR_DEPTH:  # (too deep for orjson.dumps: see wizwatch.render)
            assert orjson.loads(orjson.dumps(hostile)) == hostile  # the repaired record is plain JSON
    else:
        assert isinstance(hostile, UnreadableRecord), hostile
        assert expect in hostile.reason and hostile.reason.startswith(("not JSON", "line"))
        assert hostile.raw


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_one_hostile_record_in_a_graphql_page(case: str) -> None:
    raw, kind, expect = HOSTILE[case]
    page = read_page(gzip.compress(graphql([good(1), raw, good(2)])))
    assert page.connection == "auditLogEntries"
    assert page.page_info == {"hasNextPage": False, "endCursor": "c1"}
    assert page.fallback  # the fast parse failed and said why
    assert len(page.records) == 3
    check(page.records, kind, expect)
    assert page.unreadable == (kind == "unreadable") and page.repaired == (kind == "repaired")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_one_hostile_record_in_an_array_json_lines_and_alone(case: str) -> None:
    raw, kind, expect = HOSTILE[case]
    check(read_records(b"[" + b", ".join([good(1), raw, good(2)]) + b"]").records, kind, expect)
    check(read_records(b"\n".join([good(1), raw, b"", good(2)]) + b"\n").records, kind, expect)
    check(read_records(gzip.compress(graphql([good(1), raw, good(2)]))).records, kind, expect)
    alone = read_records(raw).records  # a pushed (webhook) body is a single record
    assert len(alone) == 1
    check([orjson.loads(good(1)), alone[0], orjson.loads(good(2))], kind, expect)


def test_json_lines_reasons_name_the_line() -> None:
    recs = read_records(good(1) + b"\n\n" + HOSTILE["NaN"][0] + b"\n" + good(2)).records
    assert isinstance(recs[1], UnreadableRecord) and recs[1].reason.startswith("line 3: not JSON")


def test_many_hostile_records_each_stay_in_place() -> None:
    nodes = [good(1)] + [raw for raw, _, _ in HOSTILE.values()] + [good(2)]
    page = read_page(graphql(nodes))
    assert len(page.records) == len(nodes)
    for i, (_, kind, expect) in enumerate(HOSTILE.values(), start=1):
        check(page.records, kind, expect, at=i)


def test_valid_escapes_are_left_alone() -> None:
    # A surrogate pair is a real character; an escaped backslash followed by "ud800" is text.
    raw = b'{"id":"ok","a":"\\ud83d\\ude00","b":"\\\\ud800","c":"\\"\\\\"}'
    page = read_page(graphql([good(1), raw, HOSTILE["NaN"][0], good(2)]))
    assert page.records[1] == {"id": "ok", "a": "\U0001f600", "b": "\\ud800", "c": '"\\'}


def test_brackets_and_quotes_inside_strings_do_not_confuse_the_scan() -> None:
    raw = b'{"id":"s","a":"] } [ { , \\" ]","b":["}"],"c":{"]":"["}}'
    page = read_page(graphql([good(1), raw, HOSTILE["NaN"][0], good(2)]))
    assert page.records[1] == orjson.loads(raw)


def test_a_hostile_value_in_the_envelope_costs_nothing() -> None:
    info = b'{"hasNextPage":false,"endCursor":"c\\udc00","odd":NaN}'
    page = read_page(graphql([good(1), good(2)], info=info))
    assert page.records == [orjson.loads(good(1)), orjson.loads(good(2))]
    assert page.page_info is None  # not JSON: dropped, never blamed on a record
    info = b'{"hasNextPage":false,"endCursor":"c\\udc00"}'
    assert read_page(graphql([good(1)], info=info)).page_info == {
        "hasNextPage": False,
        "endCursor": "c\ufffd",
    }


def test_deep_records_keep_1020_levels_like_the_fast_path() -> None:
    page = read_page(graphql([good(1), DEEP, good(2)]))
    x, depth = page.records[1]["x"], 2  # the record is level 1, x level 2
    while isinstance(x, list):
        x, depth = x[0], depth + 1
    assert x == R.DEPTH_PLACEHOLDER and depth == R.MAX_RECORD_DEPTH + 1
    # The fast whole-page parse accepts exactly as deep a record inside a page's 4-level envelope.
    ok = b'{"id":"d","x":' + b"[" * (R.MAX_RECORD_DEPTH - 1) + b"]" * (R.MAX_RECORD_DEPTH - 1) + b"}"
    assert read_page(graphql([ok])).fallback is None
    too_deep = b'{"id":"d","x":' + b"[" * R.MAX_RECORD_DEPTH + b"]" * R.MAX_RECORD_DEPTH + b"}"
    assert read_page(graphql([too_deep])).fallback is not None


def test_good_pages_take_the_fast_path() -> None:
    page = read_page(gzip.compress(graphql([good(1), good(2)])))
    assert page.fallback is None and page.unreadable == 0 and page.repaired == 0


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (graphql([good(1), b'{"id":"x","a":[}'])[:-1], "mismatched"),
        (graphql([good(1), b'{"id":"x","a":"open']), "never closed"),
        (graphql([good(1), b'{"a":NaN}'])[:-3], "never closed"),
        (graphql([b'{"a":NaN}']) + b"{}", "more data"),
        (b'[{"a":NaN}]', "not an object"),
        (b'{"errors":[{"message":"boom"}],"x":NaN}', "errors"),
    ],
)
def test_broken_structure_is_still_an_invalid_page(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPage, match=reason):
        read_page(body)
