"""Opaque, signed page cursors: which query they belong to, where the next page starts, and when
they were issued (so they can expire). A cursor reused with a different ``filterBy``/``orderBy``
or after ``cursor_ttl_seconds`` is rejected, as a client must be ready for at Wiz."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

import orjson

from wizwatch_tools.simulator.errors import ApiError

INVALID_CURSOR = "Invalid or expired cursor: the 'after' value is not a valid cursor for this query"


def fingerprint(connection: str, filter_by: Any, order_by: Any) -> str:
    """A short stable hash of what defines a result set (not the page size)."""
    blob = orjson.dumps([connection, filter_by, order_by], option=orjson.OPT_SORT_KEYS, default=str)
    return hashlib.sha256(blob).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    fingerprint: str
    offset: int
    issued_at: float  # epoch seconds on the simulator's clock


class CursorCodec:
    """Encodes cursors with an HMAC so a forged or truncated cursor is told apart from a real one."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(16)

    def encode(self, cursor: Cursor) -> str:
        body = orjson.dumps([cursor.fingerprint, cursor.offset, round(cursor.issued_at, 3)])
        sig = hmac.new(self._key, body, hashlib.sha256).digest()[:12]
        return base64.urlsafe_b64encode(body + sig).decode().rstrip("=")

    def decode(self, text: str, expect_fingerprint: str, now: float, ttl_seconds: float | None) -> Cursor:
        """The cursor, or ApiError(BAD_USER_INPUT) if it is forged, foreign to the query, or old."""
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body, sig = raw[:-12], raw[-12:]
            if not hmac.compare_digest(sig, hmac.new(self._key, body, hashlib.sha256).digest()[:12]):
                raise ValueError("bad signature")
            fp, offset, issued = orjson.loads(body)
            cursor = Cursor(str(fp), int(offset), float(issued))
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise ApiError("BAD_USER_INPUT", INVALID_CURSOR, http_status=200) from exc
        if cursor.fingerprint != expect_fingerprint:
            raise ApiError(
                "BAD_USER_INPUT",
                "Invalid cursor: it was issued for a different filterBy/orderBy",
                http_status=200,
            )
        if ttl_seconds is not None and now - cursor.issued_at > ttl_seconds:
            raise ApiError("BAD_USER_INPUT", INVALID_CURSOR + " (cursor expired)", http_status=200)
        return cursor


class CursorLoop:
    """The ``cursor_cycle`` fault's memory: which cursor each endCursor was answered to, so a
    looping answer can hand back the cursor sent one page earlier, byte for byte, and repeat
    itself on the next lap (A -> B -> A -> B ...). Bounded: forgotten wholesale past ``limit``."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._sent_for: dict[str, str] = {}  # endCursor -> the ``after`` of the request it answered
        self._looped: dict[str, str | None] = {}  # after -> the endCursor a looping answer gave it

    def issued(self, after: str, end_cursor: str | None) -> None:
        """Note the endCursor a page really has (every GraphQL page goes through here)."""
        if end_cursor is None:
            return
        if len(self._sent_for) >= self._limit:
            self._sent_for.clear()
        self._sent_for.setdefault(end_cursor, after)

    def loop(self, after: str, end_cursor: str | None) -> str | None:
        """The endCursor a looping API answers to ``after`` (``end_cursor`` if it cannot loop yet)."""
        if after in self._looped:
            return self._looped[after]
        earlier = self._sent_for.get(after)
        answer = earlier if earlier else end_cursor  # page 2 has no earlier cursor to go back to
        if len(self._looped) >= self._limit:
            self._looped.clear()
        self._looped[after] = answer
        return answer
