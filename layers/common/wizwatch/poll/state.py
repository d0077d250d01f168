"""Per-log-type cursor state in the state table, guarded by a version and a lease.

Item ``pk="cursor#<LogType>"``: the end of the last completed window (``committed_end``), the
window in progress with the next page number and the ``after`` cursor to send for it, and a
lease (owner + expiry). Every write is conditional on the version read and on still holding the
lease, so two overlapping invocations never both advance a cursor; the lease has an expiry and
is renewed with each page, so a crashed run's lock lapses on its own without a human.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from wizwatch import aws
from wizwatch.errors import LeaseHeldError, StaleStateError
from wizwatch.poll.cycles import CursorTrail

_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def cursor_pk(log_type: str) -> str:
    return f"cursor#{log_type}"


def _fmt(t: datetime | None) -> dict[str, Any]:
    return {"S": t.astimezone(UTC).strftime(_STAMP)} if t else {"NULL": True}


def _parse(attr: dict[str, Any] | None) -> datetime | None:
    if not attr or "S" not in attr:
        return None
    return datetime.strptime(attr["S"], _STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class CursorState:
    """Where one log type stands. ``version`` 0 means no item has been written yet."""

    log_type: str
    version: int = 0
    committed_end: datetime | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    page: int = 1  # the next page to fetch in the open window
    after: str = ""  # the cursor to send for ``page`` ("" for page 1)
    attempt: int = 0  # restarts of the open window (an invalid cursor restarts it)
    lease_owner: str | None = None
    lease_expires_at: float = 0.0
    trail: CursorTrail = CursorTrail()  # the cursors the open window (this attempt) has returned

    @property
    def in_window(self) -> bool:
        return self.window_start is not None and self.window_end is not None

    def open_window(self, start: datetime, end: datetime) -> CursorState:
        return dataclasses.replace(
            self, window_start=start, window_end=end, page=1, after="", attempt=0, trail=CursorTrail()
        )

    def close_and_open(self, start: datetime, end: datetime) -> CursorState:
        """Close the finished window and open the next in one write (saves a round trip)."""
        return self.close_window().open_window(start, end)

    def next_page(self, after: str, trail: CursorTrail | None = None) -> CursorState:
        """Page ``page`` returned ``after``; ``trail`` is the trail with it (derived if not given)."""
        trail = trail if trail is not None else self.trail.add(after, self.page)
        return dataclasses.replace(self, page=self.page + 1, after=after, trail=trail)

    def restart_window(self) -> CursorState:
        return dataclasses.replace(self, page=1, after="", attempt=self.attempt + 1, trail=CursorTrail())

    def shrink_window(self, end: datetime, start: datetime | None = None) -> CursorState:
        return dataclasses.replace(
            self,
            window_start=start or self.window_start,
            window_end=end,
            page=1,
            after="",
            trail=CursorTrail(),
        )

    def close_window(self) -> CursorState:
        """The window's last page is archived: it becomes the committed end."""
        return dataclasses.replace(
            self,
            committed_end=self.window_end,
            window_start=None,
            window_end=None,
            page=1,
            after="",
            attempt=0,
            trail=CursorTrail(),
        )


def _trail_attr(t: CursorTrail) -> dict[str, Any]:
    attr: dict[str, Any] = {"last_page": {"N": str(t.last_page)}, "mark_page": {"N": str(t.mark_page)}}
    if t.recent:
        attr["recent"] = {"B": t.recent}
    if t.mark:
        attr["mark"] = {"B": t.mark}
    return {"M": attr}


def _parse_trail(attr: dict[str, Any] | None) -> CursorTrail:
    m = (attr or {}).get("M")
    if not m:
        return CursorTrail()
    return CursorTrail(
        recent=bytes(m.get("recent", {}).get("B", b"")),
        last_page=int(m.get("last_page", {}).get("N", "0")),
        mark=bytes(m.get("mark", {}).get("B", b"")),
        mark_page=int(m.get("mark_page", {}).get("N", "0")),
    )


def _to_item(s: CursorState, updated_at: float) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": cursor_pk(s.log_type)},
        "version": {"N": str(s.version)},
        "committed_end": _fmt(s.committed_end),
        "window_start": _fmt(s.window_start),
        "window_end": _fmt(s.window_end),
        "page": {"N": str(s.page)},
        "after": {"S": s.after},
        "attempt": {"N": str(s.attempt)},
        "updated_at": {"N": repr(updated_at)},
    }
    if s.trail.last_page:
        item["trail"] = _trail_attr(s.trail)
    if s.lease_owner:
        item["lease_owner"] = {"S": s.lease_owner}
        item["lease_expires_at"] = {"N": repr(s.lease_expires_at)}
    return item


def _from_item(log_type: str, item: dict[str, Any] | None) -> CursorState:
    if not item:
        return CursorState(log_type)
    return CursorState(
        log_type=log_type,
        version=int(item["version"]["N"]),
        committed_end=_parse(item.get("committed_end")),
        window_start=_parse(item.get("window_start")),
        window_end=_parse(item.get("window_end")),
        page=int(item.get("page", {}).get("N", "1")),
        after=item.get("after", {}).get("S", ""),
        attempt=int(item.get("attempt", {}).get("N", "0")),
        lease_owner=item.get("lease_owner", {}).get("S"),
        lease_expires_at=float(item.get("lease_expires_at", {}).get("N", "0")),
        trail=_parse_trail(item.get("trail")),
    )


def write_cursor(table: str, item: dict[str, Any], condition: str, values: dict[str, Any]) -> None:
    """The one conditional PutItem every cursor change goes through (a crash-test seam)."""
    kwargs: dict[str, Any] = {"ExpressionAttributeValues": values} if values else {}
    aws.client("dynamodb").put_item(TableName=table, Item=item, ConditionExpression=condition, **kwargs)


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class CursorStore:
    """Reads and writes cursor items; ``owner`` identifies one invocation's hold on a lease."""

    def __init__(self, table: str, *, clock: Callable[[], float] = time.time) -> None:
        self.table = table
        self._clock = clock

    def lease_remaining(self, state: CursorState) -> float:
        """Seconds until the lease ``state`` was written with lapses (negative once it has)."""
        return state.lease_expires_at - self._clock()

    def read(self, log_type: str) -> CursorState:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"pk": {"S": cursor_pk(log_type)}}, ConsistentRead=True)
            .get("Item")
        )
        return _from_item(log_type, item)

    def acquire(self, log_type: str, owner: str, lease_seconds: float) -> CursorState:
        """Take the lease, or raise LeaseHeldError while another live run holds it."""
        current = self.read(log_type)
        now = self._clock()
        if current.lease_owner and current.lease_owner != owner and current.lease_expires_at > now:
            raise LeaseHeldError(
                f"{log_type}: another invocation holds the cursor lease for "
                f"{current.lease_expires_at - now:.0f}s more; skipping this run"
            )
        mine = dataclasses.replace(
            current, version=current.version + 1, lease_owner=owner, lease_expires_at=now + lease_seconds
        )
        if current.version == 0:
            # First write ever: only if nobody created the item in the meantime.
            condition, values = "attribute_not_exists(pk)", {}
        else:
            # Only from the exact version read, and only while the lease read is free or lapsed:
            # a concurrent run that took it in between bumped the version, so exactly one wins.
            condition = "version = :v AND (attribute_not_exists(lease_owner) OR lease_expires_at < :now)"
            values = {":v": {"N": str(current.version)}, ":now": {"N": repr(now)}}
        try:
            write_cursor(self.table, _to_item(mine, now), condition, values)
        except ClientError as exc:
            if _conditional_failed(exc):
                raise LeaseHeldError(
                    f"{log_type}: lost the race for the cursor lease; skipping this run"
                ) from None
            raise
        return mine

    def save(self, state: CursorState, lease_seconds: float) -> CursorState:
        """Write ``state`` (renewing the lease); StaleStateError if this run no longer holds it."""
        now = self._clock()
        new = dataclasses.replace(state, version=state.version + 1, lease_expires_at=now + lease_seconds)
        try:
            # Succeeds only if nobody wrote since our last write and the lease is still ours:
            # a run whose lease lapsed and was taken over must not move the cursor any more.
            write_cursor(
                self.table,
                _to_item(new, now),
                "version = :v AND lease_owner = :me",
                {":v": {"N": str(state.version)}, ":me": {"S": state.lease_owner or ""}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise StaleStateError(
                    f"{state.log_type}: the cursor moved on under this run (lease lapsed and taken "
                    "over); stopping without writing, the other run continues"
                ) from None
            raise
        return new

    def commit_page(self, state: CursorState, lease_seconds: float) -> CursorState:
        """:meth:`save` for the cursor move after an archived page (its own name: a crash seam)."""
        return self.save(state, lease_seconds)

    def release(self, state: CursorState) -> CursorState:
        """Give the lease back so the next scheduled run need not wait for it to lapse."""
        new = dataclasses.replace(state, version=state.version + 1, lease_owner=None, lease_expires_at=0.0)
        try:
            # Same guard as save(): only the holder, from the version it last wrote.
            write_cursor(
                self.table,
                _to_item(new, self._clock()),
                "version = :v AND lease_owner = :me",
                {":v": {"N": str(state.version)}, ":me": {"S": state.lease_owner or ""}},
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise StaleStateError(f"{state.log_type}: lease already lost; nothing to release") from None
            raise
        return new
