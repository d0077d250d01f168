"""Compact binary sets kept inside a window item: counted events and distinct unique() values.

A window item remembers, per (alert type, rule, dedup string), which events it has counted (so a
re-read of the same event counts once) as 16-byte entries: an 8-byte digest of the event identity,
the window start (seconds) it was counted in (so its alert id can be derived again) and a 4-byte
tag of the raw object it came from (so the detector knows which object keeps its row:
:func:`source_tag`). Entries are dropped once older than the idempotency period; only while they fit
in :data:`INLINE_BUDGET` bytes are they kept inline, past that the store writes one marker item
per event instead (see :mod:`wizwatch.dedup.store`).

64-bit digests: among the few dozen identities of one (rule, dedup) key a collision is
negligible (about n^2 / 2^65).
"""

from __future__ import annotations

import functools
import hashlib
import struct
from typing import NamedTuple

#: Bytes of the item spent on inline members; past it, marker items.
INLINE_BUDGET = 480
_ENTRY = struct.Struct(">8sI4s")  # digest, window start (s), source tag -> 16 bytes


def digest(value: str) -> bytes:
    """8-byte blake2b of ``value``: an event identity (a member) or a unique() value."""
    return hashlib.blake2b(value.encode(), digest_size=8).digest()


@functools.lru_cache(maxsize=1024)
def source_tag(source: str) -> str:
    """How a duplicate names the object it was counted from when only the tag is kept (cached:
    every hit of a page asks for its object's tag)."""
    return "#" + hashlib.blake2b(source.encode(), digest_size=4).hexdigest()


class Member(NamedTuple):
    """One counted event (a tuple: thousands are decoded and encoded again per page)."""

    digest: bytes
    window_start_s: int
    source: str  # source_tag() of the object


def decode(blob: bytes | None) -> list[Member]:
    if not blob:
        return []
    return [Member(d, start, "#" + tag.hex()) for d, start, tag in _ENTRY.iter_unpack(blob)]


def encode(members: list[Member]) -> bytes:
    pack = _ENTRY.pack
    return b"".join(pack(d, start, bytes.fromhex(tag[1:])) for d, start, tag in members)


def inline_size(count: int) -> int:
    """Bytes ``count`` inline members take in the window item."""
    return count * _ENTRY.size


def distinct_digest(unique: str | None) -> bytes:
    """A unique() value as 8 bytes: the window holds up to ``Threshold`` of them, whatever their
    length (long user agents, URLs...), and must stay small."""
    return digest(unique or "")


def split_distinct(blob: bytes | None) -> list[bytes]:
    return [blob[i : i + 8] for i in range(0, len(blob or b""), 8)] if blob else []
