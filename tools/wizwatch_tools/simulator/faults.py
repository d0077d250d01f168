"""Programmable faults: the bad days of a real API, switchable per test or from the command line.

``faults.add(kind, count=N, **params)`` queues a fault that fires on the next N matching
requests (after skipping ``skip`` of them). Kinds:

- ``rate_limit``: HTTP 429, RATE_LIMIT_EXCEEDED envelope; ``retry_after`` seconds or None (no header)
- ``server_error``: ``status`` 500 (INTERNAL envelope) or 502/503/504 (a gateway's HTML page)
- ``slow``: answer normally after ``delay`` seconds
- ``graphql_error``: HTTP 200 with an error envelope, ``code`` (default INTERNAL), ``message``
- ``token_expired``: the presented token stops working (401 UNAUTHENTICATED) as if it had expired
- ``cursor_expired``: the next request carrying an ``after`` cursor fails with BAD_USER_INPUT
- ``cursor_cycle``: paging loops (A -> B -> A): each request carrying an ``after`` cursor is
  answered normally, except that its ``endCursor`` is the cursor sent one page earlier (byte for
  byte), and a cursor already answered this way gets the same answer again. With ``count=N`` the
  next N paged requests loop; the records of the pages after the loop are never reached

``target`` is ``graphql`` (default), ``token`` or ``any``; ``connection`` limits a GraphQL fault
to one connection (``auditLogEntries``, ``issuesV2``, ``vulnerabilityFindings``,
``configurationFindings``).

:class:`Gate` (``sim.hold(after=N)`` / ``sim.release()``) is not a fault but an ordering tool for
tests: GraphQL requests after the next N wait until released, so "while a run is still paging"
is a state a test sets up, not a race it hopes to win.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = (
    "rate_limit",
    "server_error",
    "slow",
    "graphql_error",
    "token_expired",
    "cursor_expired",
    "cursor_cycle",
)
#: Kinds that only apply to requests carrying an ``after`` cursor.
CURSOR_KINDS = ("cursor_expired", "cursor_cycle")
TARGETS = ("graphql", "token", "any")
_PARAMS = {
    "rate_limit": {"retry_after"},
    "server_error": {"status"},
    "slow": {"delay"},
    "graphql_error": {"code", "message"},
    "token_expired": set(),
    "cursor_expired": set(),
    "cursor_cycle": set(),
}


@dataclass
class Fault:
    kind: str
    count: int = 1
    skip: int = 0
    target: str = "graphql"
    connection: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    fired: int = 0

    def applies(self, target: str, connection: str | None, has_cursor: bool) -> bool:
        if self.target != "any" and self.target != target:
            return False
        if self.connection is not None and self.connection != connection:
            return False
        return not (self.kind in CURSOR_KINDS and not has_cursor)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "count": self.count,
            "skip": self.skip,
            "target": self.target,
            "connection": self.connection,
            "fired": self.fired,
            **self.params,
        }


class Faults:
    """A thread-safe queue of faults; the first applicable one fires per request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self,
        kind: str,
        count: int = 1,
        *,
        skip: int = 0,
        target: str = "graphql",
        connection: str | None = None,
        **params: Any,
    ) -> Fault:
        """Queue a fault; unknown kinds or parameters are refused with a message naming them."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
        if target not in TARGETS:
            raise ValueError(f"unknown fault target {target!r}; expected one of {', '.join(TARGETS)}")
        unknown = set(params) - _PARAMS[kind]
        if unknown:
            raise ValueError(
                f"fault {kind!r} takes {sorted(_PARAMS[kind]) or 'no parameters'}, not {sorted(unknown)}"
            )
        if count < 1 or skip < 0:
            raise ValueError("count must be >= 1 and skip >= 0")
        if kind == "server_error":
            status = int(params.setdefault("status", 500))
            if status not in (500, 502, 503, 504):
                raise ValueError(f"server_error status must be 500, 502, 503 or 504, not {status}")
            params["status"] = status
        if kind == "slow":
            params["delay"] = float(params.get("delay", 1.0))
        if kind == "rate_limit" and params.get("retry_after") is not None:
            params["retry_after"] = float(params["retry_after"])
        fault = Fault(kind, count, skip, target, connection, params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, target: str, connection: str | None = None, has_cursor: bool = False) -> Fault | None:
        """The fault to apply to this request (consuming one of its shots), if any."""
        with self._lock:
            for fault in self._faults:
                if not fault.applies(target, connection, has_cursor):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.fired += 1
                if fault.fired >= fault.count:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)


class Gate:
    """Holds GraphQL requests (after the first ``after`` from now) until :meth:`release`."""

    #: A held request gives up waiting after this long (a forgotten release must not hang a test).
    MAX_HOLD_SECONDS = 120.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = threading.Event()
        self._open.set()
        self._free = 0
        self.waiting = 0

    def hold(self, after: int = 0) -> None:
        with self._lock:
            self._free = after
            self._open.clear()

    def release(self) -> None:
        self._open.set()

    def pass_through(self) -> None:
        """Called by every GraphQL request before it is answered."""
        with self._lock:
            if self._open.is_set():
                return
            if self._free > 0:
                self._free -= 1
                return
            self.waiting += 1
        try:
            self._open.wait(self.MAX_HOLD_SECONDS)
        finally:
            with self._lock:
                self.waiting -= 1
