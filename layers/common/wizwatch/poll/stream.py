"""One stream's run within a time budget: its cursor lease, its page writer, its outcome.

A stream is a log type's incremental windows (:mod:`wizwatch.poll.incremental`) or its daily
snapshot (:mod:`wizwatch.poll.snapshot`); both page through listings with
:func:`wizwatch.poll.paging.fetch_listing`. This base holds what they share: taking the lease,
running the page writer's background thread, noting what was committed and releasing the lease
whatever happened.
"""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wizwatch import metric_names as m
from wizwatch.archive import writer
from wizwatch.errors import StaleStateError
from wizwatch.logs import logger
from wizwatch.poll import windows
from wizwatch.poll.client import Answer, CallStats
from wizwatch.poll.pagewriter import PageWriter
from wizwatch.poll.poller import Poller
from wizwatch.poll.queries import QuerySpec
from wizwatch.poll.retry import TimeBudget
from wizwatch.poll.state import CursorState


@dataclass
class Outcome:
    """What happened to one log type in one run (returned by the handler, logged)."""

    status: str = "ok"  # ok | budget | skipped | lost_lease | error (| disabled for snapshots)
    windows: int = 0
    pages: int = 0
    records: int = 0
    committed_end: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


class StreamRun:
    """Polls one stream within a time budget, holding its cursor lease (subclasses do the work)."""

    def __init__(self, poller: Poller, spec: QuerySpec, budget: TimeBudget, invocation_id: str) -> None:
        self.p = poller
        self.s = poller.settings
        self.spec = spec
        self.log_type = spec.log_type
        #: The cursor item's key and the metrics' LogType (a subclass may pull another stream).
        self.stream = self.stream_of(spec.log_type)
        self.budget = budget
        self.invocation_id = invocation_id
        self.outcome = Outcome()
        #: Rejected cursors that restarted a listing in this run (see paging.MAX_RESTARTS_PER_RUN).
        self.restarts = 0
        #: Where the run is (window or snapshot, and page), for the log line of a failure.
        self.position: dict[str, Any] = {}
        metrics = poller.metrics
        lt = self.stream
        self.stats = CallStats(
            on_request=lambda: metrics.add(lt, m.API_REQUESTS),
            on_throttle=lambda: metrics.add(lt, m.API_THROTTLES),
            on_error=lambda: metrics.add(lt, m.API_ERRORS),
        )

    @staticmethod
    def stream_of(log_type: str) -> str:
        return log_type

    def fetch(self, variables: dict[str, Any]) -> Answer:
        """One page of this stream's query (retries, token refresh and rate limit included)."""
        return self.p.client.execute(
            self.spec.query, variables, budget=self.budget, log_type=self.log_type, stats=self.stats
        )

    def store_page(self, key: str, body: bytes, meta: dict[str, str], records: int) -> None:
        """Put one page in the raw bucket and count it (on the page writer's thread)."""
        writer.put_page(self.s.raw_bucket, key, body, meta)
        self.p.metrics.add(self.stream, m.PAGES_ARCHIVED)
        self.p.metrics.add(self.stream, m.RECORDS_ARCHIVED, records)
        self.outcome.pages += 1
        self.outcome.records += records

    def run(self) -> Outcome:
        owner = f"{self.invocation_id}/{uuid.uuid4().hex[:12]}"
        state = self.p.store.acquire(self.stream, owner, self.s.lease_seconds)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"archive-{self.stream}") as executor:
            pages = PageWriter(executor, self.p.store, self.s.lease_seconds, state)
            try:
                self._work(pages)
            finally:
                self._finish(pages)
        return self.outcome

    def _work(self, pages: PageWriter) -> None:
        raise NotImplementedError

    def _finish(self, pages: PageWriter) -> None:
        try:
            pages.wait()
        finally:
            # If the last page's put or cursor write failed, that page is re-fetched next run;
            # either way release what was last committed so the next run need not wait for the lease.
            state = pages.committed
            self._note_commit(state)
            self._release(state)

    def _note_commit(self, state: CursorState) -> None:
        if state.committed_end:
            self.outcome.committed_end = windows.rfc3339(state.committed_end)
            lag = (datetime.now(UTC) - state.committed_end).total_seconds()
            self.p.metrics.lag(self.stream, max(0.0, lag))

    def _release(self, state: CursorState) -> None:
        try:
            self.p.store.release(state)
        except StaleStateError:
            pass
        except Exception as exc:
            logger.warning(
                "could not release cursor lease; it lapses by itself",
                extra={"log_type": self.stream, "error": str(exc)},
            )
