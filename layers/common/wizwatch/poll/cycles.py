"""Cursor-cycle detection: the page cursors of one window must never repeat.

A broken API can hand back a cursor it already gave in the same window (A -> B -> A). Paging
then loops: each run archives the same pages again within its budget, reports success and a
heartbeat, and never reaches the rest of the window. Only a repeat of the cursor just sent
(A -> A) is cheap to spot; a longer loop needs the window's earlier cursors, across invocations
too, since a run may stop for its time budget in the middle of the loop.

So the cursor item carries a :class:`CursorTrail` for the open window: 8-byte digests of the
cursors returned so far (BLAKE2b; a false repeat among a thousand cursors has odds around
3e-14), the most recent :data:`TRAIL_MAX` of them (8 KB at most; most windows have a few
pages, so a few dozen bytes), plus one checkpoint cursor re-taken at pages 1, 2, 4, 8... as in
Brent's cycle-finding algorithm. A repeat within the last :data:`TRAIL_MAX` pages is caught at
once; a loop longer than that is caught by the checkpoint within about twice its length and
start. The trail starts empty with every window (opened, split or restarted) and every snapshot
(started or restarted): :mod:`wizwatch.poll.paging` checks it for both.

Hand-written rather than a library: it is a few lines, and its state has to live in the
cursor item written with every page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from wizwatch.errors import CursorCycleError

#: Digests kept in the trail: every repeat within this many pages is caught at the first repeat.
TRAIL_MAX = 1000
DIGEST_BYTES = 8


def digest(cursor: str) -> bytes:
    return hashlib.blake2b(cursor.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES).digest()


@dataclass(frozen=True)
class CursorTrail:
    """The endCursors of an open window: ``recent`` digests (oldest first) and a checkpoint."""

    recent: bytes = (
        b""  # concatenated digests of the cursors pages ``last_page - n + 1 .. last_page`` returned
    )
    last_page: int = 0  # the page whose endCursor is the last digest in ``recent``
    mark: bytes = b""  # digest of the checkpoint cursor
    mark_page: int = 0  # the page that returned it

    def first_page_of(self, cursor: str) -> int | None:
        """The page that already returned ``cursor`` in this window, or None if none did."""
        d = digest(cursor)
        if d == self.mark:
            return self.mark_page
        n = len(self.recent) // DIGEST_BYTES
        at = self.recent.find(d)
        while at != -1:
            if at % DIGEST_BYTES == 0:  # a whole digest, not the tail of one and the head of the next
                return self.last_page - n + 1 + at // DIGEST_BYTES
            at = self.recent.find(d, at + 1)
        return None

    def add(self, cursor: str, page: int) -> CursorTrail:
        """The trail after page ``page`` returned ``cursor`` (pages are added in order)."""
        d = digest(cursor)
        recent = (self.recent + d)[-TRAIL_MAX * DIGEST_BYTES :]
        if page & (page - 1) == 0:  # a power of two: move the checkpoint here (Brent)
            return CursorTrail(recent, page, d, page)
        return CursorTrail(recent, page, self.mark, self.mark_page)


def cycle_error(
    log_type: str, where: str, page: int, cursor: str, seen_at: int, kind: str = "window"
) -> CursorCycleError:
    """The error failing a listing (``where``: "window <start>..<end>", "snapshot <id>") whose page
    ``page`` returned the cursor page ``seen_at`` returned."""
    return CursorCycleError(
        f"{log_type}: page {page} of {where} returned the endCursor page {seen_at} already "
        f"returned: the API's pagination loops, so the rest of this {kind} cannot be fetched. The "
        f"{kind} stays open and is retried every run (one request each) until the API pages forward; "
        "if it persists, report it to Wiz support with this cursor",
        cursor=cursor,
        first_page=seen_at,
    )
