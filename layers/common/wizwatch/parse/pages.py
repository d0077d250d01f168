"""Archived page bytes -> the records in them.

An archived object is the gzip of one exact GraphQL response body
(``{"data": {<connection>: {"nodes": [...], "pageInfo": ...}}}``). ``wizwatch eval`` also takes
plain JSON arrays and JSON lines, so :func:`read_records` accepts those too. Anything unreadable
raises :class:`InvalidPage` with the reason, so the caller can quarantine the object whole.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from wizwatch.errors import InvalidPage

GZIP_MAGIC = b"\x1f\x8b"


@dataclass(slots=True)
class Page:
    """The nodes of one page; ``connection`` is the GraphQL field they came from (None if bare)."""

    records: list[Any]
    connection: str | None = None
    page_info: dict[str, Any] | None = field(default=None)


def decompress(body: bytes) -> bytes:
    """Gunzip when the bytes are gzip, else return them unchanged."""
    if body[:2] == GZIP_MAGIC:
        try:
            return gzip.decompress(body)
        except (OSError, EOFError, zlib.error) as exc:
            raise InvalidPage(f"corrupt gzip: {exc}") from None
    return body


def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidPage(f"not JSON: {exc}") from None


def page_from_document(doc: Any) -> Page:
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
            return Page(records=nodes, connection=name, page_info=info if isinstance(info, dict) else None)
    raise InvalidPage(f"no connection with 'nodes' under data (keys: {sorted(data)})")


def read_page(body: bytes) -> Page:
    """Bytes of an archived page (gzip or not) -> Page; raises InvalidPage."""
    return page_from_document(_loads(decompress(body)))


def read_pushed(body: bytes) -> Page:
    """A pushed (webhook) body: one JSON object (one record) or a JSON array of records.

    Elements of an array are kept whatever they are: a non-object element is quarantined on its
    own by the normaliser, so its neighbours still run. Raises InvalidPage for anything else.
    """
    doc = _loads(decompress(body))
    if isinstance(doc, dict):
        return Page(records=[doc])
    if isinstance(doc, list):
        return Page(records=doc)
    raise InvalidPage(f"pushed body is a JSON {type(doc).__name__}, expected an object or an array")


def read_records(body: bytes) -> Page:
    """A GraphQL page, a JSON array of records, a single record, or JSON lines -> Page."""
    raw = decompress(body).strip()
    if not raw:
        return Page(records=[])
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # JSON lines: one record per non-blank line.
        records = []
        for n, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    records.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise InvalidPage(f"line {n}: not JSON: {exc}") from None
        return Page(records=records)
    if isinstance(doc, list):
        return Page(records=doc)
    if isinstance(doc, dict) and ("data" in doc or "errors" in doc):
        return page_from_document(doc)
    return Page(records=[doc])
