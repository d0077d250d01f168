"""Bounded decompression: a gzip bomb is refused at the limit, never inflated whole."""

from __future__ import annotations

import gzip
import tracemalloc

import pytest
from hostile_records import MiB, gzip_bomb

from wizwatch.errors import InvalidPage
from wizwatch.parse.inflate import DEFAULT_MAX_INFLATED_BYTES, inflate
from wizwatch.parse.pages import read_page, read_records


@pytest.fixture(scope="module")
def bomb() -> bytes:
    body = gzip_bomb()
    assert len(body) < 3 * MiB  # the 2.7 MB object
    return body


def test_the_600_mb_bomb_is_refused_at_the_default_limit_with_bounded_memory(bomb: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InvalidPage, match="inflates past the 64 MiB limit"):
            read_page(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The limit plus one inflate step, never the 600 MB (gzip.decompress peaked at 1.3 GB).
    assert peak < DEFAULT_MAX_INFLATED_BYTES + 8 * MiB, peak


def test_the_limit_is_exact_and_configurable() -> None:
    body = b'{"data":{"x":{"nodes":[]}}}' + b" " * 1000
    n = len(body)
    assert inflate(gzip.compress(body), n) == body
    with pytest.raises(InvalidPage, match=f"past the {n - 1} bytes limit"):
        inflate(gzip.compress(body), n - 1)
    assert inflate(body, n) == body  # plain JSON is held to the same limit
    with pytest.raises(InvalidPage, match="limit"):
        read_records(body, max_bytes=n - 1)
    with pytest.raises(InvalidPage, match="1 MiB limit"):
        read_page(gzip_bomb(inflated_mib=2), max_bytes=MiB)


def test_small_bomb_steps_never_exceed_the_limit() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InvalidPage, match="limit"):
            inflate(gzip_bomb(inflated_mib=20), 2 * MiB)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * MiB


def test_gzip_members_padding_and_corruption() -> None:
    one = gzip.compress(b'{"a":')
    two = gzip.compress(b"1}")
    assert inflate(one + two) == b'{"a":1}'  # RFC 1952: concatenated members
    assert inflate(one + two + b"\x00" * 8) == b'{"a":1}'  # zero padding, as gzip.decompress
    with pytest.raises(InvalidPage, match="corrupt gzip"):
        inflate(one[:-4])  # trailer cut off
    with pytest.raises(InvalidPage, match="corrupt gzip"):
        inflate(one[:12])
    with pytest.raises(InvalidPage, match="corrupt gzip"):
        inflate(one + b"garbage")
    with pytest.raises(InvalidPage, match="corrupt gzip"):
        inflate(b"\x1f\x8b not really gzip")
    assert inflate(b'{"plain": true}') == b'{"plain": true}'
