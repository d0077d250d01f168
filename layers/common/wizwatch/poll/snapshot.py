"""The daily full-posture snapshot: every current finding of a log type, once a day, in snapshots/.

Why: the incremental stream (``raw/``) says what *changed*; "what is misconfigured right now"
needs every finding that still exists, whatever its age (Elastic runs a separate 24 h
full-posture pull for the same reason). Only ``Wiz.CloudConfigurationFinding`` has one.

Layout (``wizwatch.archive.keys``): ``snapshots/<LogType>/dt=<day>/<snapshot id>/page-NNNNN.json.gz``
(the gzip of the exact API answer, like raw pages, with the same provenance metadata), then
``manifest.json`` in the same folder once the last page is stored: a folder with a manifest is a
complete snapshot, the newest complete one is the current posture. Snapshots live outside
``raw/``: the bucket notifies the detector only of ``raw/`` objects, so no rule ever sees a
finding a second time through a snapshot.

State: the incremental poller's own cursor machinery (``CursorStore``: version, lease, crash
seams) under the stream key ``<LogType>/snapshot``: ``window_start`` is when the open snapshot
started, ``window_end`` its day's slot (``WIZ_SNAPSHOT_HOUR_UTC``), ``page``/``after`` where it
stands, ``committed_end`` the slot of the last complete snapshot. Each page is fetched, stored,
then committed (the same ``PageWriter`` order and page loop as incremental windows,
:func:`wizwatch.poll.paging.fetch_listing`, cursor-cycle check included), so a time-out or a crash
resumes at the next page in a later invocation: a 100k-finding snapshot spans as many runs as it
needs. A cursor the API rejects restarts the snapshot under a new id (``_<attempt>`` suffix):
a complete snapshot never mixes two listings. A cursor the snapshot already returned (the
API's paging loops) stops the stream with ``CursorCycleError`` and the snapshot stays open.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch import metric_names as m
from wizwatch.archive import keys, writer
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.poll import windows
from wizwatch.poll.pagewriter import PageWriter
from wizwatch.poll.paging import Page, Transition, fetch_listing, page_metadata
from wizwatch.poll.queries import SNAPSHOT_STATUSES, QuerySpec
from wizwatch.poll.retry import TimeBudget
from wizwatch.poll.runner import get_poller, poll_one, preflight, snapshot_streams
from wizwatch.poll.settings import load_settings
from wizwatch.poll.state import CursorState
from wizwatch.poll.stream import Outcome, StreamRun

SUFFIX = "/snapshot"


def stream_key(log_type: str) -> str:
    """The cursor key and metrics LogType of a log type's snapshot stream."""
    return log_type + SUFFIX


def current_slot(now: datetime, hour_utc: int) -> datetime:
    """The latest ``hour_utc``:00 UTC not after ``now``: the day's snapshot is due from then."""
    now = now.astimezone(UTC)
    slot = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
    return slot if slot <= now else slot - timedelta(days=1)


def snapshot_variables(
    spec: QuerySpec, *, after: str, page_size: int, project_ids: list[str], project_key: str | None
) -> dict[str, Any]:
    """One snapshot page's variables; ``filterBy`` is identical for every page of a snapshot."""
    filter_by: dict[str, Any] = {"status": list(SNAPSHOT_STATUSES), "includeDeleted": False}
    windows.add_project_filter(filter_by, project_key, project_ids)
    variables: dict[str, Any] = {
        "first": min(page_size, spec.page_size),
        "filterBy": filter_by,
        "withCount": not after,
    }
    if after:
        variables["after"] = after
    return variables


class SnapshotListing:
    """One snapshot (slot and attempt) of one log type, as :func:`fetch_listing` pages it."""

    kind = "snapshot"

    def __init__(self, run: SnapshotRun, slot: datetime, started: datetime, attempt: int) -> None:
        self.run = run
        self.slot, self.started, self.attempt = slot, started, attempt

    @property
    def snapshot_id(self) -> str:
        return keys.snapshot_id(self.slot, self.attempt)

    def describe(self) -> dict[str, Any]:
        return {"log_type": self.run.stream, "snapshot_id": self.snapshot_id}

    def label(self) -> str:
        return f"snapshot {self.snapshot_id}"

    def variables(self, after: str, page: int) -> dict[str, Any]:
        s = self.run.s
        return snapshot_variables(
            self.run.spec,
            after=after,
            page_size=s.page_size,
            project_ids=s.project_ids,
            project_key=s.project_filter_key(self.run.log_type),
        )

    def restarted(self, attempt: int) -> None:
        self.attempt = attempt  # a new snapshot id: a complete snapshot never mixes two listings

    def reshape(self, page: Page) -> Transition | None:
        return None

    def finish(self) -> Transition:
        return CursorState.close_window

    def archiver(self, page: Page) -> Callable[[], None] | None:
        """Stores every page (empty ones too) and, after the last, the manifest."""
        run, slot, attempt, started = self.run, self.slot, page.attempt, self.started
        key = keys.snapshot_page_key(run.log_type, slot, attempt, page.number)
        meta = page_metadata(run, page, slot, started)
        meta["snapshot-id"] = keys.snapshot_id(slot, attempt)
        bucket, metrics, stream, log_type = run.s.raw_bucket, run.p.metrics, run.stream, run.log_type
        body, records, number, last, total = (
            page.answer.body,
            page.records,
            page.number,
            page.last,
            page.total,
        )

        def archive() -> None:
            run.store_page(key, body, meta, records)
            if last:
                manifest: dict[str, Any] = {
                    "log_type": log_type,
                    "snapshot_id": keys.snapshot_id(slot, attempt),
                    "slot": windows.rfc3339(slot),
                    "started_at": windows.rfc3339(started),
                    "completed_at": windows.rfc3339(datetime.now(UTC)),
                    "pages": number,
                    "filter": {"status": list(SNAPSHOT_STATUSES), "includeDeleted": False},
                }
                if total is not None and number == 1:
                    manifest["total_count"] = total
                writer.put_json(bucket, keys.snapshot_manifest_key(log_type, slot, attempt), manifest)
                metrics.add(stream, m.SNAPSHOTS_COMPLETED)

        return archive


class SnapshotRun(StreamRun):
    """Takes (or continues) the day's snapshot of one log type within a time budget: the lease,
    the page writer, the page loop, releasing and failure handling are the incremental run's."""

    @staticmethod
    def stream_of(log_type: str) -> str:
        return stream_key(log_type)

    def _work(self, pages: PageWriter) -> None:
        self._snapshot(pages)

    def _note_commit(self, state: CursorState) -> None:
        # The age of the newest complete snapshot (or of the first one while it is taken).
        since = state.committed_end or state.window_start
        if since is not None:
            self.p.metrics.lag(self.stream, max(0.0, (datetime.now(UTC) - since).total_seconds()))
        if state.committed_end is not None:
            self.outcome.committed_end = windows.rfc3339(state.committed_end)

    def _snapshot(self, pages: PageWriter) -> None:
        state = pages.wait()
        if not state.in_window:
            now = datetime.now(UTC)
            slot = current_slot(now, self.s.snapshot_hour_utc)
            if state.committed_end is not None and state.committed_end >= slot:
                return  # today's snapshot is complete
            self.budget.check(1.0, "starting a snapshot")
            # window_start = when this snapshot started, window_end = its slot (see the docstring).
            state = pages.save(functools.partial(CursorState.open_window, start=now, end=slot))
            logger.info(
                "posture snapshot started",
                extra={"log_type": self.stream, "snapshot_id": keys.snapshot_id(slot)},
            )
        assert state.window_start is not None and state.window_end is not None
        listing = SnapshotListing(
            self, slot=state.window_end, started=state.window_start, attempt=state.attempt
        )
        last_page = fetch_listing(self, pages, listing, state)
        pages.wait()
        self.outcome.windows += 1
        logger.info("posture snapshot complete", extra={**listing.describe(), "pages": last_page})


def handle(event: Any, context: Any) -> dict[str, Any]:
    """The snapshot schedule's tick: start, continue or (once done for the day) skip the snapshot."""
    configure_logging()
    settings = load_settings()
    poller = get_poller(settings)
    wanted = event.get("log_type") if isinstance(event, dict) else None
    enabled = snapshot_streams(settings)
    log_types = [wanted] if wanted else enabled
    results: dict[str, Outcome] = {}
    streams = [stream_key(t) for t in log_types]
    budget = TimeBudget.from_context(context, settings.time_reserve_seconds, clock=poller.clock.now)
    failed = preflight(poller, streams, budget)  # a placeholder secret: one line, Wiz never called
    if failed is not None:
        return failed
    share = 1 / max(1, len(settings.log_types) + len(enabled))
    poller.limiter.set_rate(settings.requests_per_second * share)
    invocation_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    try:
        for log_type in log_types:
            if log_type not in enabled:
                results[stream_key(log_type)] = Outcome(
                    status="disabled",
                    error=f"no snapshot for {log_type}: not in WIZ_SNAPSHOT_LOG_TYPES and WIZ_LOG_TYPES",
                )
                continue
            share_budget = budget.sub(budget.remaining() / len(log_types))
            results[stream_key(log_type)] = poll_one(
                poller, log_type, share_budget, invocation_id, make_run=SnapshotRun
            )
    finally:
        poller.metrics.flush(streams)
    result = {k: o.as_dict() for k, o in results.items()}
    logger.info("snapshot tick finished", extra={"outcomes": result})
    return {
        "ok": all(o.status in ("ok", "budget", "skipped", "disabled") for o in results.values()),
        "log_types": result,
    }
