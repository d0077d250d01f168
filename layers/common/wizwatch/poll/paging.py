"""The page loop every stream shares: fetch, archive, commit, follow the cursor to the last page.

A *listing* is what one cursor walks through: an incremental window (:mod:`incremental`) or a
day's snapshot (:mod:`snapshot`). :func:`fetch_listing` pages one listing from where its cursor
item stands and, for every listing alike:

- checks each ``endCursor`` against the listing's :class:`~wizwatch.poll.cycles.CursorTrail`
  (kept in the cursor item across runs): a cursor the listing already returned means the API's
  pagination loops, so the looping page is archived, the cursor stays where it is and
  :class:`CursorCycleError` stops the stream (one request per run until the API pages forward);
- restarts the listing from its first page under a new attempt when the API rejects a cursor
  (at most :data:`MAX_RESTARTS_PER_RUN` times per run);
- refuses ``hasNextPage`` without an ``endCursor``;
- hands each page to the :class:`PageWriter` (archive, then the cursor write) so the next fetch
  overlaps them.

What differs per listing (variables, object keys, what the last page commits, a window that must
shrink) comes from the :class:`Listing` it is given.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from wizwatch import metric_names as m
from wizwatch.archive import writer
from wizwatch.errors import CursorInvalidError, WizApiError
from wizwatch.logs import logger
from wizwatch.poll.client import Answer
from wizwatch.poll.cycles import CursorTrail, cycle_error
from wizwatch.poll.pagewriter import PageWriter
from wizwatch.poll.queries import QuerySpec
from wizwatch.poll.state import CursorState
from wizwatch.poll.stream import StreamRun

#: An invalid cursor restarts the listing; more restarts than this in one run means a broken API.
MAX_RESTARTS_PER_RUN = 3

Transition = Callable[[CursorState], CursorState]


@dataclass(frozen=True)
class Page:
    """One fetched page: what was asked (page number, ``after``, attempt) and what came back."""

    number: int
    after: str
    attempt: int
    answer: Answer
    records: int
    has_next: bool
    end_cursor: str | None
    total: int | None

    @property
    def last(self) -> bool:
        return not self.has_next


class Listing(Protocol):
    """What :func:`fetch_listing` needs to know about the listing it pages through."""

    #: Word for messages: "window" or "snapshot".
    kind: str

    def describe(self) -> dict[str, Any]:
        """Log fields naming the listing (they may change when it is reshaped)."""

    def label(self) -> str:
        """The listing in a sentence, e.g. "window <start>..<end>" or "snapshot <id>"."""

    def variables(self, after: str, page: int) -> dict[str, Any]:
        """The GraphQL variables of page ``page`` (``after`` is "" on page 1)."""

    def restarted(self, attempt: int) -> None:
        """The listing starts over at page 1 as attempt ``attempt`` (a rejected cursor)."""

    def reshape(self, page: Page) -> Transition | None:
        """Called with page 1: a cursor change that makes this a different listing (then paging
        starts over at page 1 of it), or None to go on."""

    def archiver(self, page: Page) -> Callable[[], None] | None:
        """Stores ``page`` (run on the page writer's thread), or None when there is nothing to store."""

    def finish(self) -> Transition:
        """The cursor change committed with the last page."""


def connection(answer: Answer, spec: QuerySpec) -> tuple[int, bool, str | None, int | None]:
    """(record count, hasNextPage, endCursor, totalCount) of a page, or WizApiError if malformed."""
    data = answer.payload.get("data") or {}
    conn = data.get(spec.connection)
    if conn is None and spec.connection == "issues":
        conn = data.get("issuesV2")
    if not isinstance(conn, dict) or not isinstance(conn.get("nodes"), list):
        raise WizApiError(f"{spec.log_type}: the answer has no data.{spec.connection}.nodes list")
    info = conn.get("pageInfo") or {}
    total = conn.get("totalCount")
    return (
        len(conn["nodes"]),
        bool(info.get("hasNextPage")),
        info.get("endCursor"),
        int(total) if isinstance(total, int) else None,
    )


def page_metadata(run: StreamRun, page: Page, window_start: datetime, window_end: datetime) -> dict[str, str]:
    """The S3 provenance metadata of ``page`` (a window's bounds, or a snapshot's slot and start)."""
    return writer.page_metadata(
        log_type=run.log_type,
        window_start=window_start,
        window_end=window_end,
        page=page.number,
        cursor=page.after,
        request_time=page.answer.request_time,
        request_id=page.answer.request_id,
        record_count=page.records,
        invocation_id=run.invocation_id,
    )


def fetch_listing(
    run: StreamRun, pages: PageWriter, listing: Listing, resume: CursorState | None = None
) -> int:
    """Page ``listing`` through its last page; the last page's number. It starts where ``resume``
    (the committed cursor item) stands, or at page 1 of a listing just opened (``None``).

    The last page is submitted to ``pages`` with ``listing.finish()`` (the caller waits for it
    when it must). Raises CursorCycleError when the cursors loop, CursorInvalidError after too
    many restarts, WizApiError for a page without a way forward.
    """
    state = resume or CursorState(run.stream)
    page, after, attempt, trail = state.page, state.after, state.attempt, state.trail
    while True:
        run.position = {**listing.describe(), "page": page}
        try:
            answer = run.fetch(listing.variables(after, page))
        except CursorInvalidError as exc:
            if not after or run.restarts >= MAX_RESTARTS_PER_RUN:
                raise
            run.restarts += 1
            logger.warning(
                f"page cursor rejected; restarting the {listing.kind} from its first page",
                extra={**listing.describe(), "page": page, "error": str(exc)},
            )
            state = pages.save(CursorState.restart_window)
            page, after, attempt, trail = 1, "", state.attempt, CursorTrail()
            listing.restarted(attempt)
            continue
        got = Page(page, after, attempt, answer, *connection(answer, run.spec))
        if page == 1:
            reshaped = listing.reshape(got)
            if reshaped is not None:
                state = pages.save(reshaped)
                page, after, attempt, trail = 1, "", state.attempt, CursorTrail()
                continue
        if got.has_next and not got.end_cursor:
            raise WizApiError(
                f"{run.stream}: hasNextPage without an endCursor; the API is misbehaving, the "
                f"{listing.kind} will be retried next run"
            )
        transition: Transition
        if got.end_cursor and got.has_next:
            seen_at = trail.first_page_of(got.end_cursor)
            if seen_at is not None:
                _cycle(run, pages, listing, got, seen_at)
            trail = trail.add(got.end_cursor, page)
            transition = functools.partial(CursorState.next_page, after=got.end_cursor, trail=trail)
        else:
            transition = listing.finish()
        archive = listing.archiver(got)
        if archive is not None:
            pages.submit(archive, transition)
        else:
            pages.save(transition)
        logger.debug(
            "page fetched",
            extra={**listing.describe(), "page": page, "records": got.records, "has_next": got.has_next},
        )
        if got.last:
            return page
        page, after = page + 1, got.end_cursor or ""


def _cycle(run: StreamRun, pages: PageWriter, listing: Listing, got: Page, seen_at: int) -> None:
    """Page ``got`` returned a cursor page ``seen_at`` already returned: fail the listing.

    The page's records are archived (the cursor stays where it is, so the next run asks for
    this page again: one request per run until the API pages forward again).
    """
    assert got.end_cursor is not None
    archive = listing.archiver(got)
    if archive is not None:
        pages.submit(archive, lambda s: s)
    run.p.metrics.add(run.stream, m.API_ERRORS)
    raise cycle_error(run.stream, listing.label(), got.number, got.end_cursor, seen_at, kind=listing.kind)
