"""Incremental windows: each log type's closed time windows, page by page, into ``raw/``.

A run resumes the open window (page and cursor from the cursor item) or opens the next closed
one (:mod:`windows`), pages it with :func:`~wizwatch.poll.paging.fetch_listing`, and goes on
window after window until caught up or out of time. The last page of a window commits "close
this window, open the next" in one cursor write on the archive thread, so fetching the next
window's first page overlaps it.

Audit only: Wiz stops every audit query at :data:`AUDIT_RESULT_CAP` results, so a window whose
first page counts that many is shrunk (:func:`split_window`) before anything is archived.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch import metric_names as m
from wizwatch.archive.keys import raw_key
from wizwatch.logs import logger
from wizwatch.logtypes import AUDIT
from wizwatch.poll import windows
from wizwatch.poll.pagewriter import PageWriter
from wizwatch.poll.paging import Page, Transition, fetch_listing, page_metadata
from wizwatch.poll.settings import AUDIT_RETENTION_SECONDS
from wizwatch.poll.state import CursorState
from wizwatch.poll.stream import StreamRun

#: Wiz stops every audit query at this many results; windows reaching it are split.
AUDIT_RESULT_CAP = 10_000

_MS = timedelta(milliseconds=1)


def split_window(
    start: datetime, end: datetime, total: int, floor: datetime | None
) -> tuple[datetime, datetime] | None:
    """A window expected to hold ~80% of the cap, or None if it cannot shrink (about 1 ms).

    The result always ends after ``floor`` (the committed end the window was opened from), so
    the cursor keeps moving forward even when the re-read overlap alone reaches the cap; it then
    starts shortly before ``floor`` instead (narrowing the re-read, never dropping ``floor``
    itself whether Wiz treats ``after`` as inclusive or exclusive). Millisecond steps, because the
    filter timestamps carry milliseconds: a second holding more than the cap can still be split.
    """
    span_ms = (end - start) // _MS
    if span_ms <= 1:
        return None
    fraction = min(0.5, 0.8 * AUDIT_RESULT_CAP / total)
    target = max(1, int(span_ms * fraction))
    if floor is None or start + target * _MS > floor:
        return start, start + target * _MS
    target = max(2, target)
    margin = min(1000, target // 2)
    smaller = floor - margin * _MS, min(end, floor + (target - margin) * _MS)
    return smaller if smaller != (start, end) else None


class WindowListing:
    """One window of one log type, as :func:`fetch_listing` pages it."""

    kind = "window"

    def __init__(self, run: LogTypeRun, start: datetime, end: datetime, floor: datetime | None) -> None:
        self.run = run
        self.start, self.end = start, end
        self.floor = floor  # where the window's predecessor ended: splits end after it
        #: Set by :meth:`finish`: the window after this one (None while nothing new is closed),
        #: and whether the last page only closes this window (no time left to open the next).
        self.following: tuple[datetime, datetime] | None = None
        self.close_only = True

    def describe(self) -> dict[str, Any]:
        return {
            "log_type": self.run.log_type,
            "window_start": windows.rfc3339(self.start),
            "window_end": windows.rfc3339(self.end),
        }

    def label(self) -> str:
        return f"window {windows.rfc3339(self.start)}..{windows.rfc3339(self.end)}"

    def variables(self, after: str, page: int) -> dict[str, Any]:
        run, s = self.run, self.run.s
        return windows.build_variables(
            run.spec,
            start=self.start,
            end=self.end,
            after=after,
            page_size=s.page_size,
            project_ids=s.project_ids if run.spec.project_filter_key else [],
            project_filter_key=s.project_filter_key(run.log_type),
            with_count=page == 1 and run.log_type == AUDIT,
        )

    def restarted(self, attempt: int) -> None:
        pass  # the attempt is part of each page's key (see archiver)

    def reshape(self, page: Page) -> Transition | None:
        """An audit window whose first page counts the result cap shrinks (down to a millisecond)."""
        total = page.total
        if self.run.log_type != AUDIT or total is None or total < AUDIT_RESULT_CAP:
            return None
        log = self.describe()
        smaller = split_window(self.start, self.end, total, self.floor)
        if smaller is None:
            logger.error(
                "a one-millisecond audit window exceeds the 10,000-result cap; entries beyond it "
                "cannot be fetched",
                extra={**log, "total_count": total},
            )
            self.run.p.metrics.add(self.run.log_type, m.API_ERRORS)
            return None
        logger.info(
            "audit window reaches the 10,000-result cap; splitting it",
            extra={
                **log,
                "total_count": total,
                "new_window_start": windows.rfc3339(smaller[0]),
                "new_window_end": windows.rfc3339(smaller[1]),
            },
        )
        if smaller[0] > self.start:
            logger.warning(
                "the re-read overlap alone reaches the result cap; re-reading less of it",
                extra={**log, "new_window_start": windows.rfc3339(smaller[0])},
            )
        self.start, self.end = smaller
        return functools.partial(CursorState.shrink_window, start=smaller[0], end=smaller[1])

    def finish(self) -> Transition:
        self.following = self.run.next_window(self.end)
        self.close_only = self.following is None or self.run.budget.remaining() < 1.0
        if self.close_only or self.following is None:
            return CursorState.close_window
        return functools.partial(CursorState.close_and_open, start=self.following[0], end=self.following[1])

    def archiver(self, page: Page) -> Callable[[], None] | None:
        if not page.records:
            return None  # empty pages are not archived; the cursor moves all the same
        run = self.run
        part = f"{page.attempt:08x}" if page.attempt else ""
        key = raw_key(run.log_type, self.start, self.end, page.number, part)
        meta = page_metadata(run, page, self.start, self.end)
        body, records = page.answer.body, page.records
        return lambda: run.store_page(key, body, meta, records)


class LogTypeRun(StreamRun):
    """Polls one log type's windows within a time budget, holding its cursor lease."""

    def _work(self, pages: PageWriter) -> None:
        self._windows(pages)

    def next_window(self, committed_end: datetime | None) -> tuple[datetime, datetime] | None:
        """The window after ``committed_end`` (None while nothing new is closed)."""
        window = windows.next_window(
            log_type=self.log_type,
            committed_end=committed_end,
            now=datetime.now(UTC),
            settle_seconds=self.s.settle_seconds,
            overlap_seconds=self.s.overlap_seconds,
            max_window_seconds=self.s.max_window_seconds,
            initial_lookback_hours=self.s.initial_lookback_hours,
            retention_seconds=windows.retention_for(self.log_type, AUDIT_RETENTION_SECONDS),
        )
        if window and committed_end and window[0] > committed_end:
            logger.warning(
                "audit entries between the last window and the retention limit have expired",
                extra={
                    "log_type": self.log_type,
                    "gap_from": windows.rfc3339(committed_end),
                    "gap_to": windows.rfc3339(window[0]),
                },
            )
        return window

    def _windows(self, pages: PageWriter) -> None:
        """Fetch windows until caught up (or out of time), resuming an open window first."""
        state: CursorState | None = pages.wait()
        assert state is not None
        if state.in_window:
            assert state.window_start is not None and state.window_end is not None
            start, end = state.window_start, state.window_end
        else:
            window = self.next_window(state.committed_end)
            if window is None:
                return  # caught up to now - settle
            self.budget.check(1.0, "opening a new window")
            start, end = window
            state = pages.save(functools.partial(CursorState.open_window, start=start, end=end))
        floor = state.committed_end
        while True:
            listing = WindowListing(self, start, end, floor)
            last_page = fetch_listing(self, pages, listing, state)
            self.outcome.windows += 1
            logger.info("window complete", extra={**listing.describe(), "pages": last_page})
            if listing.following is None:
                pages.wait()
                return  # caught up to now - settle
            floor, (start, end) = listing.end, listing.following
            # The last page's cursor write opened the next window, unless time was short.
            state = None
            if listing.close_only:
                pages.wait()
                self.budget.check(1.0, "opening a new window")
                state = pages.save(functools.partial(CursorState.open_window, start=start, end=end))
