"""Archived page bytes -> the records in them, one bad record never costing another.

An archived object is the gzip of one exact GraphQL response body
(``{"data": {<connection>: {"nodes": [...], "pageInfo": ...}}}``); a pushed (webhook) body is one
JSON object; ``wizwatch eval`` also takes JSON arrays and JSON lines. :func:`read_page` reads the
first, :func:`read_records` any of them.

Two paths, the fast one first:

1. The whole text is inflated under a size limit (:mod:`wizwatch.parse.inflate`) and parsed by
   ``orjson`` in one call. Every real page takes this path.
2. Only if that fails: the page's structure is found by a tolerant scanner over the raw bytes
   (:mod:`wizwatch.parse.scan`) and each record (each element of ``nodes``, of a JSON array, each
   line of JSON lines, or the single body) is parsed on its own (:mod:`wizwatch.parse.records`):
   repaired and flagged where Panther's parser repairs (lone surrogates, invalid UTF-8, extreme
   nesting), or left in the record list as an :class:`UnreadableRecord` carrying its reason, so
   the caller quarantines that record alone and evaluates every other one.

Anything that is not a page at all (corrupt gzip, over the size limit, brackets that do not
balance, no ``data``) raises :class:`InvalidPage` with the reason, so the caller can quarantine
the object whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from wizwatch.errors import InvalidPage
from wizwatch.parse import scan
from wizwatch.parse.inflate import DEFAULT_MAX_INFLATED_BYTES, GZIP_MAGIC, inflate
from wizwatch.parse.records import REPAIRS_FIELD, UnreadableRecord, parse_record

__all__ = [
    "GZIP_MAGIC",
    "Page",
    "UnreadableRecord",
    "decompress",
    "page_from_document",
    "read_page",
    "read_records",
]


@dataclass(slots=True)
class Page:
    """The nodes of one page; ``connection`` is the GraphQL field they came from (None if bare).

    ``records[i]`` is an :class:`UnreadableRecord` for a record that is not JSON. ``fallback`` is
    why the fast whole-page parse failed (None when it did not), for the logs.
    """

    records: list[Any]
    connection: str | None = None
    page_info: dict[str, Any] | None = field(default=None)
    fallback: str | None = None

    @property
    def unreadable(self) -> int:
        return sum(1 for r in self.records if isinstance(r, UnreadableRecord)) if self.fallback else 0

    @property
    def repaired(self) -> int:
        if not self.fallback:
            return 0
        return sum(1 for r in self.records if isinstance(r, dict) and REPAIRS_FIELD in r)


def decompress(body: bytes, max_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> bytes | bytearray:
    """Gunzip when the bytes are gzip, else return them unchanged (bounded, see inflate)."""
    return inflate(body, max_bytes)


def page_from_document(doc: Any, *, fallback: str | None = None) -> Page:
    """A parsed GraphQL response body -> Page; the one connection under ``data`` holds the nodes."""
    if not isinstance(doc, dict):
        raise InvalidPage(f"page is a JSON {type(doc).__name__}, expected an object with 'data'")
    data = doc.get("data")
    if not isinstance(data, dict) or not data:
        errors = doc.get("errors")
        if errors:
            raise InvalidPage(f"GraphQL response without data; errors: {orjson.dumps(errors)[:500]!r}")
        raise InvalidPage("GraphQL response has no 'data' object")
    for name, conn in data.items():
        if isinstance(conn, dict) and "nodes" in conn:
            nodes = conn["nodes"]
            if nodes is None:
                nodes = []
            if not isinstance(nodes, list):
                raise InvalidPage(f"data.{name}.nodes is a {type(nodes).__name__}, expected a list")
            info = conn.get("pageInfo")
            return Page(
                records=nodes,
                connection=name,
                page_info=info if isinstance(info, dict) else None,
                fallback=fallback,
            )
    raise InvalidPage(f"no connection with 'nodes' under data (keys: {sorted(data)})")


# --------------------------------------------------------------------- the tolerant path


def _part(raw: bytes | bytearray, start: int, end: int) -> Any:
    """A non-record part of the envelope (pageInfo, errors...): parsed, repaired, or None."""
    value = parse_record(raw[start:end])
    if isinstance(value, dict):
        value.pop(REPAIRS_FIELD, None)  # only records carry the flag
    return None if isinstance(value, UnreadableRecord) else value


def _key(raw_key: bytes) -> Any:
    value = parse_record(raw_key)
    return value if isinstance(value, str) else raw_key.decode("utf-8", "replace")


def _members(raw: bytes | bytearray, start: int) -> list[tuple[Any, int, int]]:
    members, _ = scan.object_members(raw, start)
    return [(_key(k), s, e) for k, s, e in members]


def _tolerant_document(raw: bytes | bytearray, start: int) -> dict[Any, Any]:
    """The GraphQL body at ``start`` with each ``data.<connection>.nodes`` element parsed alone."""
    doc: dict[Any, Any] = {}
    for key, s, e in _members(raw, start):
        if key != "data" or raw[s] != 0x7B:
            doc[key] = _part(raw, s, e)
            continue
        data: dict[Any, Any] = {}
        for name, s2, e2 in _members(raw, s):
            if raw[s2] != 0x7B:
                data[name] = _part(raw, s2, e2)
                continue
            conn: dict[Any, Any] = {}
            for member, s3, e3 in _members(raw, s2):
                if member == "nodes" and raw[s3] == 0x5B:
                    items, _ = scan.array_items(raw, s3)
                    conn[member] = [parse_record(raw[a:b]) for a, b in items]
                else:
                    conn[member] = _part(raw, s3, e3)
            data[name] = conn
        doc[key] = data
    return doc


def _whole(raw: bytes | bytearray, start: int) -> int:
    """End of the one value at ``start``; ScanError unless only whitespace follows it."""
    end = scan.value_end(raw, start)
    rest = scan.skip_ws(raw, end)
    if rest != len(raw):
        raise scan.ScanError(f"more data after the document, at byte {rest}")
    return end


def _tolerant_page(raw: bytes | bytearray, exc: orjson.JSONDecodeError) -> Page:
    start = scan.skip_ws(raw, 0)
    try:
        _whole(raw, start)
        if raw[start] != 0x7B:
            raise scan.ScanError("the document is not an object")
        doc = _tolerant_document(raw, start)
    except scan.ScanError as err:
        raise InvalidPage(f"not JSON: {exc} ({err})") from None
    return page_from_document(doc, fallback=str(exc))


def read_page(body: bytes, max_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> Page:
    """Bytes of an archived page (gzip or not) -> Page; raises InvalidPage."""
    raw = inflate(body, max_bytes)
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return _tolerant_page(raw, exc)
    return page_from_document(doc)


def _json_lines(raw: bytes | bytearray, fallback: str) -> Page:
    records: list[Any] = []
    for n, line in enumerate(bytes(raw).splitlines(), start=1):
        if line.strip():
            record = parse_record(line)
            if isinstance(record, UnreadableRecord):
                record = UnreadableRecord(f"line {n}: {record.reason}", record.raw)
            records.append(record)
    return Page(records=records, fallback=fallback)


def _tolerant_records(raw: bytes | bytearray, exc: orjson.JSONDecodeError) -> Page:
    start = scan.skip_ws(raw, 0)
    why = str(exc)
    try:
        end = _whole(raw, start)
    except scan.ScanError:
        return _json_lines(raw, why)  # several values (JSON lines), or text that is not JSON
    if raw[start] == 0x5B:
        items, _ = scan.array_items(raw, start)
        return Page(records=[parse_record(raw[a:b]) for a, b in items], fallback=why)
    if raw[start] == 0x7B:
        try:
            keys = {key for key, _, _ in _members(raw, start)}
        except scan.ScanError:
            keys = set()  # one object, not JSON inside: a single unreadable record
        if "data" in keys or "errors" in keys:
            return page_from_document(_tolerant_document(raw, start), fallback=why)
    return Page(records=[parse_record(raw[start:end])], fallback=why)


def read_records(body: bytes, max_bytes: int = DEFAULT_MAX_INFLATED_BYTES) -> Page:
    """A GraphQL page, a JSON array of records, a single record, or JSON lines -> Page."""
    raw = inflate(body, max_bytes).strip()
    if not raw:
        return Page(records=[])
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        try:
            return _tolerant_records(raw, exc)
        except scan.ScanError as err:
            raise InvalidPage(f"not JSON: {exc} ({err})") from None
    if isinstance(doc, list):
        return Page(records=doc)
    if isinstance(doc, dict) and ("data" in doc or "errors" in doc):
        return page_from_document(doc)
    return Page(records=[doc])
