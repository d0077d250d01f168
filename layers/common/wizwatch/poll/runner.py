"""One poller invocation: for each log type, fetch closed windows page by page into the archive.

Order of effects per page (the whole crash-consistency argument): fetch -> S3 put -> cursor
write. A crash before the cursor write re-fetches that page next run (same key, overwritten: a
duplicate at worst), never skips it. To keep the API the bottleneck, the put and cursor write of
page N run on one background thread while page N+1 is fetched; page N+1's own put waits for page
N's cursor write, so the order above still holds page by page.
"""

from __future__ import annotations

import dataclasses
import functools
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from wizwatch import metric_names as m
from wizwatch.archive import writer
from wizwatch.archive.keys import raw_key
from wizwatch.errors import (
    ConfigError,
    CursorCycleError,
    CursorInvalidError,
    LeaseHeldError,
    SecretNotSetError,
    StaleStateError,
    TimeBudgetExceeded,
    WizApiError,
    WizAuthenticationError,
    WizAuthorizationError,
    WizCredentialsError,
    WizTokenError,
    WizwatchError,
)
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.logtypes import AUDIT
from wizwatch.poll import windows
from wizwatch.poll.auth import TokenProvider, TokenStore
from wizwatch.poll.client import USER_AGENT, Answer, CallStats, GraphQLClient
from wizwatch.poll.credentials import CredentialsSource, put_secret_command
from wizwatch.poll.cycles import CursorTrail, cycle_error
from wizwatch.poll.limiter import RateLimiter
from wizwatch.poll.queries import SPECS, QuerySpec
from wizwatch.poll.retry import Backoff, Clock, TimeBudget
from wizwatch.poll.settings import AUDIT_RETENTION_SECONDS, PollerSettings, load_settings
from wizwatch.poll.state import CursorState, CursorStore
from wizwatch.poll.telemetry import PollMetrics

#: Wiz stops every audit query at this many results; windows reaching it are split.
AUDIT_RESULT_CAP = 10_000
#: An invalid cursor restarts the window; more restarts than this in one run means a broken API.
MAX_RESTARTS_PER_RUN = 3


@dataclass
class Outcome:
    """What happened to one log type in one run (returned by the handler, logged)."""

    status: str = "ok"  # ok | budget | skipped | lost_lease | error
    windows: int = 0
    pages: int = 0
    records: int = 0
    committed_end: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass
class Poller:
    """What a warm container keeps between invocations: session, limiter, token, clients."""

    settings: PollerSettings
    limiter: RateLimiter
    client: GraphQLClient
    tokens: TokenProvider
    store: CursorStore
    credentials: CredentialsSource
    metrics: PollMetrics = field(default_factory=PollMetrics)
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def build(cls, settings: PollerSettings, clock: Clock | None = None) -> Poller:
        clock = clock or Clock()
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        metrics = PollMetrics()
        backoff = Backoff(settings.retry_base_seconds, settings.retry_max_seconds)
        credentials = CredentialsSource(settings.credentials_secret)
        tokens = TokenProvider(
            token_url=settings.token_url,
            audience=settings.oauth_audience,
            credentials=credentials,
            store=TokenStore(settings.state_table),
            session=session,
            refresh_seconds=settings.token_refresh_seconds,
            http_timeout=min(30.0, settings.http_timeout_seconds),
            max_attempts=settings.max_attempts,
            backoff=backoff,
            on_fetch=metrics.token_fetched,
            user_agent=USER_AGENT,
            sleep=clock.sleep,
        )
        limiter = RateLimiter(settings.requests_per_second, clock=clock.now, sleep=clock.sleep)
        client = GraphQLClient(
            api_url=settings.api_url,
            tokens=tokens,
            limiter=limiter,
            session=session,
            backoff=backoff,
            max_attempts=settings.max_attempts,
            http_timeout=settings.http_timeout_seconds,
            sleep=clock.sleep,
        )
        store = CursorStore(settings.state_table)
        return cls(settings, limiter, client, tokens, store, credentials, metrics, clock)


class _PageWriter:
    """Archives page N and then commits the cursor for it, on one background thread.

    At most one page is in flight; :meth:`wait` returns the last committed state (or raises what
    went wrong), and every cursor change made on the main thread waits for it first.
    """

    def __init__(self, executor: ThreadPoolExecutor, store: CursorStore, lease: float, state: CursorState):
        self._executor = executor
        self._store = store
        self._lease = lease
        self._state = state
        self._pending: Future[CursorState] | None = None

    @property
    def committed(self) -> CursorState:
        """The last state known to be written (without waiting for the page in flight)."""
        return self._state

    def wait(self) -> CursorState:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._state = pending.result()
        return self._state

    def save(self, transition: Callable[[CursorState], CursorState]) -> CursorState:
        """A cursor change with nothing to archive (open, shrink or restart a window)."""
        self._state = self._store.save(transition(self.wait()), self._lease)
        return self._state

    def submit(self, archive: Callable[[], None], transition: Callable[[CursorState], CursorState]) -> None:
        """Archive, then apply ``transition`` to the committed state, after the previous page."""
        state = self.wait()

        def job() -> CursorState:
            current = state
            if self._store.lease_remaining(current) < self._lease / 2:
                # A long fetch (retries, time-outs) may have outlasted half the lease: renew it
                # before the put. If another run took it over, it may already have archived this
                # page from a newer view and moved past it; overwriting that object would lose
                # what only its copy holds, so StaleStateError stops this run before the put.
                current = self._store.save(current, self._lease)
            archive()
            return self._store.commit_page(transition(current), self._lease)

        self._pending = self._executor.submit(job)


class LogTypeRun:
    """Polls one log type within a time budget, holding its cursor lease."""

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
        self.restarts = 0
        #: Where the run is (window and page), for the log line of a failure.
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

    def run(self) -> Outcome:
        owner = f"{self.invocation_id}/{uuid.uuid4().hex[:12]}"
        state = self.p.store.acquire(self.stream, owner, self.s.lease_seconds)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"archive-{self.stream}") as executor:
            pages = _PageWriter(executor, self.p.store, self.s.lease_seconds, state)
            try:
                self._work(pages)
            finally:
                self._finish(pages)
        return self.outcome

    def _finish(self, pages: _PageWriter) -> None:
        try:
            state = pages.wait()
        except Exception:
            # The last page's put or cursor write failed: that page is re-fetched next run.
            # Release what was last committed so the next run need not wait for the lease.
            state = pages.committed
            self._note_commit(state)
            self._release(state)
            raise
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

    def _next_window(self, committed_end: datetime | None) -> tuple[datetime, datetime] | None:
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

    def _log(self, start: datetime, end: datetime) -> dict[str, Any]:
        return {
            "log_type": self.log_type,
            "window_start": windows.rfc3339(start),
            "window_end": windows.rfc3339(end),
        }

    def _work(self, pages: _PageWriter) -> None:
        self._windows(pages)

    def _windows(self, pages: _PageWriter) -> None:
        """Fetch windows until caught up (or out of time), resuming an open window first.

        The last page of a window commits "close this window, open the next" in one cursor write
        on the archive thread, so fetching the next window's first page overlaps it.
        """
        state = pages.wait()
        if state.in_window:
            assert state.window_start is not None and state.window_end is not None
            start, end = state.window_start, state.window_end
            trail = state.trail  # the cursors this window returned in earlier runs too
        else:
            window = self._next_window(state.committed_end)
            if window is None:
                return  # caught up to now - settle
            self.budget.check(1.0, "opening a new window")
            start, end = window
            state = pages.save(functools.partial(CursorState.open_window, start=start, end=end))
            trail = CursorTrail()
        page, after, part = state.page, state.after, (f"{state.attempt:08x}" if state.attempt else "")
        floor = state.committed_end  # where the window's predecessor ended: splits end after it
        log = self._log(start, end)
        while True:
            self.position = {**log, "page": page}
            variables = windows.build_variables(
                self.spec,
                start=start,
                end=end,
                after=after,
                page_size=self.s.page_size,
                project_ids=self.s.project_ids if self.spec.project_filter_key else [],
                project_filter_key=self.s.project_filter_key(self.log_type),
                with_count=page == 1 and self.log_type == AUDIT,
            )
            try:
                answer = self.p.client.execute(
                    self.spec.query, variables, budget=self.budget, log_type=self.log_type, stats=self.stats
                )
            except CursorInvalidError as exc:
                if not after or self.restarts >= MAX_RESTARTS_PER_RUN:
                    raise
                self.restarts += 1
                logger.warning(
                    "page cursor rejected; restarting the window from its first page",
                    extra={**log, "page": page, "error": str(exc)},
                )
                state = pages.save(CursorState.restart_window)
                page, after, part = 1, "", f"{state.attempt:08x}"
                trail = CursorTrail()
                continue
            nodes, has_next, end_cursor, total = _connection(answer, self.spec)
            if page == 1 and self.log_type == AUDIT and total is not None and total >= AUDIT_RESULT_CAP:
                smaller = _split_window(start, end, total, floor)
                if smaller is not None:
                    logger.info(
                        "audit window reaches the 10,000-result cap; splitting it",
                        extra={
                            **log,
                            "total_count": total,
                            "new_window_start": windows.rfc3339(smaller[0]),
                            "new_window_end": windows.rfc3339(smaller[1]),
                        },
                    )
                    if smaller[0] > start:
                        logger.warning(
                            "the re-read overlap alone reaches the result cap; re-reading less of it",
                            extra={**log, "new_window_start": windows.rfc3339(smaller[0])},
                        )
                    state = pages.save(
                        functools.partial(CursorState.shrink_window, start=smaller[0], end=smaller[1])
                    )
                    start, end = smaller
                    log = self._log(start, end)
                    trail = CursorTrail()
                    continue
                logger.error(
                    "a one-millisecond audit window exceeds the 10,000-result cap; entries beyond it "
                    "cannot be fetched",
                    extra={**log, "total_count": total},
                )
                self.p.metrics.add(self.log_type, m.API_ERRORS)
            if has_next and not end_cursor:
                raise WizApiError(
                    f"{self.log_type}: hasNextPage without an endCursor; the API is "
                    "misbehaving, the window will be retried next run"
                )
            following: tuple[datetime, datetime] | None = None
            transition: Callable[[CursorState], CursorState]
            if has_next:
                assert end_cursor is not None
                seen_at = trail.first_page_of(end_cursor)
                if seen_at is not None:
                    self._cycle(pages, answer, start, end, page, after, part, nodes, end_cursor, seen_at)
                trail = trail.add(end_cursor, page)
                transition = functools.partial(CursorState.next_page, after=end_cursor, trail=trail)
            else:
                following = self._next_window(end)
                if following is None or self.budget.remaining() < 1.0:
                    transition = CursorState.close_window
                else:
                    transition = functools.partial(
                        CursorState.close_and_open, start=following[0], end=following[1]
                    )
            if nodes:
                pages.submit(self._archiver(answer, start, end, page, after, part, nodes), transition)
            else:
                pages.save(transition)
            logger.debug("page fetched", extra={**log, "page": page, "records": nodes, "has_next": has_next})
            if has_next:
                page += 1
                after = end_cursor or ""
                continue
            self.outcome.windows += 1
            logger.info("window complete", extra={**log, "pages": page})
            if following is None:
                pages.wait()
                return  # caught up to now - settle
            if transition is CursorState.close_window:
                pages.wait()
                self.budget.check(1.0, "opening a new window")
            floor, (start, end) = end, following
            page, after, part = 1, "", ""
            trail = CursorTrail()
            log = self._log(start, end)

    def _cycle(
        self,
        pages: _PageWriter,
        answer: Answer,
        start: datetime,
        end: datetime,
        page: int,
        after: str,
        part: str,
        nodes: int,
        end_cursor: str,
        seen_at: int,
    ) -> None:
        """Page ``page`` returned a cursor page ``seen_at`` already returned: fail the window.

        The page's records are archived (the cursor stays where it is, so the next run asks for
        this page again: one request per run until the API pages forward again).
        """
        if nodes:
            pages.submit(self._archiver(answer, start, end, page, after, part, nodes), lambda s: s)
        self.p.metrics.add(self.log_type, m.API_ERRORS)
        raise cycle_error(
            self.log_type, windows.rfc3339(start), windows.rfc3339(end), page, end_cursor, seen_at
        )

    def _archiver(
        self, answer: Answer, start: datetime, end: datetime, page: int, after: str, part: str, records: int
    ) -> Callable[[], None]:
        key = raw_key(self.log_type, start, end, page, part)
        meta = writer.page_metadata(
            log_type=self.log_type,
            window_start=start,
            window_end=end,
            page=page,
            cursor=after,
            request_time=answer.request_time,
            request_id=answer.request_id,
            record_count=records,
            invocation_id=self.invocation_id,
        )
        bucket, metrics, outcome, log_type = self.s.raw_bucket, self.p.metrics, self.outcome, self.log_type

        def archive() -> None:
            writer.put_page(bucket, key, answer.body, meta)
            metrics.add(log_type, m.PAGES_ARCHIVED)
            metrics.add(log_type, m.RECORDS_ARCHIVED, records)
            outcome.pages += 1
            outcome.records += records

        return archive


def _connection(answer: Answer, spec: QuerySpec) -> tuple[int, bool, str | None, int | None]:
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


_MS = timedelta(milliseconds=1)


def _split_window(
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


# --- the invocation ---------------------------------------------------------------------------

_poller: tuple[str, Poller] | None = None


def get_poller(settings: PollerSettings, clock: Clock | None = None) -> Poller:
    """The container's Poller, rebuilt only if the configuration (or a given clock) changed."""
    global _poller
    key = repr(settings)
    if _poller is None or _poller[0] != key or (clock is not None and _poller[1].clock is not clock):
        _poller = (key, Poller.build(settings, clock))
    return _poller[1]


def snapshot_streams(settings: PollerSettings) -> list[str]:
    """The snapshot streams that run beside the per-type schedules (each takes a budget share)."""
    return [t for t in settings.snapshot_log_types if t in settings.log_types]


def _selected(event: Any, settings: PollerSettings) -> list[str]:
    wanted = event.get("log_type") if isinstance(event, dict) else None
    if wanted is None:
        return list(settings.log_types)
    if wanted not in SPECS:
        raise ConfigError(f"event log_type {wanted!r} is not one of {', '.join(SPECS)}")
    return [wanted]


_ACTIONS = {
    WizCredentialsError: "fix the client id/secret in WIZ_CREDENTIALS_SECRET (or WIZ_AUDIENCE)",
    WizTokenError: "check WIZ_TOKEN_URL is Wiz's OAuth token endpoint",
    WizAuthenticationError: "the token was rejected twice: check the service account still exists",
    ConfigError: "fix the configuration named above",
}


def _poll_one(
    poller: Poller,
    log_type: str,
    budget: TimeBudget,
    invocation_id: str,
    make_run: Callable[[Poller, QuerySpec, TimeBudget, str], Any] = LogTypeRun,
) -> Outcome:
    """Run one stream (``make_run``: incremental windows, or a snapshot) and map its failures."""
    run = make_run(poller, poller.settings.query_spec(log_type), budget, invocation_id)
    outcome: Outcome = run.outcome
    stream: str = getattr(run, "stream", log_type)  # the metrics' LogType dimension
    extra: dict[str, Any] = {"log_type": stream}
    try:
        run.run()
        poller.metrics.heartbeat(stream)
    except TimeBudgetExceeded as exc:
        extra.update(run.position)
        outcome.status = "budget"
        poller.metrics.heartbeat(stream)
        logger.info(
            "stopped for the time budget; the cursor is saved and the next run resumes",
            extra={**extra, "reason": str(exc)},
        )
    except LeaseHeldError as exc:
        outcome.status = "skipped"
        logger.info(str(exc), extra=extra)
    except StaleStateError as exc:
        extra.update(run.position)
        outcome.status = "lost_lease"
        logger.warning(str(exc), extra=extra)
    except CursorCycleError as exc:
        extra.update(run.position)
        outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
        logger.error(
            "log type stopped: the API's page cursors loop",
            extra={**extra, "cursor": exc.cursor[:300], "first_seen_page": exc.first_page, "error": str(exc)},
        )
    except WizAuthorizationError as exc:
        extra.update(run.position)
        outcome.status, outcome.error = "error", str(exc)
        logger.error("log type stopped: missing permission", extra={**extra, "error": str(exc)})
    except WizwatchError as exc:
        extra.update(run.position)
        outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
        action = next((a for t, a in _ACTIONS.items() if isinstance(exc, t)), None)
        logger.error(
            "log type failed; its cursor is unchanged and the next run retries",
            extra={**extra, "error": outcome.error, **({"action": action} if action else {})},
        )
    except Exception as exc:
        extra.update(run.position)
        outcome.status, outcome.error = "error", f"{type(exc).__name__}: {exc}"
        logger.exception("log type failed unexpectedly; the next run retries", extra=extra)
    return outcome


def _cannot_poll(poller: Poller, log_types: list[str], exc: WizwatchError) -> dict[str, Any]:
    """No credentials or no token: every selected log type fails with one log line, no heartbeat.

    Checked once per invocation before any query, so a broken secret or token endpoint costs one
    token request per run at most (a placeholder secret: none), not one per log type or query.
    """
    error = f"{type(exc).__name__}: {exc}"
    fields: dict[str, Any] = {"log_types": log_types, "error": error}
    if isinstance(exc, SecretNotSetError):
        message = "Wiz credentials secret not set: nothing polled"
        fields.update(secret=exc.secret_id, action=put_secret_command(exc.secret_id))
    else:
        message = "no Wiz token: nothing polled; the next run retries"
        action = next((a for t, a in _ACTIONS.items() if isinstance(exc, t)), None)
        fields.update({"action": action} if action else {})
    logger.error(message, extra=fields)
    poller.metrics.flush(log_types)  # the counters, and no PollHeartbeat: the heartbeat alarms fire
    return {
        "ok": False,
        "log_types": {lt: Outcome(status="error", error=error).as_dict() for lt in log_types},
    }


def preflight(poller: Poller, streams: list[str], budget: TimeBudget) -> dict[str, Any] | None:
    """Credentials and a token before any query: None to go on, else the run's (failed) result."""
    try:
        poller.tokens.get(budget)  # reads the secret first: a placeholder never reaches Wiz
    except TimeBudgetExceeded:
        return None  # no time left for a token: each stream stops for the budget at its first request
    except WizwatchError as exc:
        return _cannot_poll(poller, streams, exc)
    return None


def handle(event: Any, context: Any) -> dict[str, Any]:
    """Poll the selected log types within the Lambda's remaining time; never raises for one type."""
    configure_logging()
    settings = load_settings()
    poller = get_poller(settings)
    log_types = _selected(event, settings)
    budget = TimeBudget.from_context(context, settings.time_reserve_seconds, clock=poller.clock.now)
    failed = preflight(poller, log_types, budget)
    if failed is not None:
        return failed
    # The budget is shared by all configured log types: an invocation for one of n types (the
    # per-type schedules run concurrently) gets 1/n of it, so together they stay within it.
    share = len(log_types) / max(len(settings.log_types) + len(snapshot_streams(settings)), len(log_types))
    poller.limiter.set_rate(settings.requests_per_second * share)
    invocation_id = str(getattr(context, "aws_request_id", "") or uuid.uuid4())
    outcomes: dict[str, Outcome] = {}
    try:
        for i, log_type in enumerate(log_types):
            # A fair share of what is left, so one slow log type cannot use up the whole run.
            share_budget = budget.sub(budget.remaining() / (len(log_types) - i))
            outcomes[log_type] = _poll_one(poller, log_type, share_budget, invocation_id)
        for log_type in log_types:
            if outcomes[log_type].status == "budget" and budget.remaining() > 5:
                more = _poll_one(poller, log_type, budget, invocation_id)
                first = outcomes[log_type]
                more.windows += first.windows
                more.pages += first.pages
                more.records += first.records
                more.committed_end = more.committed_end or first.committed_end
                outcomes[log_type] = more
    finally:
        poller.metrics.flush(log_types)
    result = {lt: o.as_dict() for lt, o in outcomes.items()}
    logger.info("poll finished", extra={"outcomes": result})
    return {
        "ok": all(o.status in ("ok", "budget", "skipped") for o in outcomes.values()),
        "log_types": result,
    }
