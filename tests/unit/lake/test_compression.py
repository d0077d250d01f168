"""The detector's gzip (ISA-L) writes objects every gzip reader reads: the standard library,
DuckDB (``wizwatch query``), and, by the same RFC 1952 format, Athena."""

from __future__ import annotations

import gzip
import os
import random

import duckdb
import orjson
import pytest

from wizwatch.archive.compression import gzip_fast
from wizwatch.archive.kept import json_lines_gz


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\n",
        b'{"a": 1}\n' * 10_000,
        os.urandom(200_000),  # incompressible: stored blocks
        bytes(range(256)) * 4_000,
    ],
    ids=["empty", "newline", "repetitive", "random", "bytes"],
)
def test_round_trips_through_the_standard_library(body: bytes) -> None:
    out = gzip_fast(body)
    assert out[:2] == b"\x1f\x8b"  # one gzip member
    assert gzip.decompress(out) == body


def test_equal_bodies_give_equal_objects() -> None:
    body = b'{"id": "x"}\n' * 1_000
    assert gzip_fast(body) == gzip_fast(body)  # mtime 0: a re-processed page rewrites the same bytes


def test_json_lines_read_by_duckdb(tmp_path) -> None:
    rng = random.Random(7)
    rows = [{"id": str(i), "n": rng.randint(0, 10**9), "text": "é\u2028x" * (i % 5)} for i in range(2_000)]
    path = tmp_path / "rows.json.gz"
    path.write_bytes(json_lines_gz(rows))
    got = duckdb.sql(f"SELECT count(*), sum(n) FROM read_json_auto('{path}')").fetchall()[0]
    assert got == (len(rows), sum(r["n"] for r in rows))
    assert [orjson.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()] == rows
