"""One poller invocation: which streams to poll, each within its share of the Lambda's time.

The orchestration only: the container's :class:`Poller` (cached between invocations), the
credentials and token check before any query (:func:`preflight`), a fair time budget and
request-rate share per log type, and one :class:`Outcome` per log type whatever fails
(:func:`poll_one` maps each failure to a status and one log line). The work of one log type is
:class:`~wizwatch.poll.incremental.LogTypeRun` (windows) paging with
:func:`~wizwatch.poll.paging.fetch_listing`, whose page writer
(:class:`~wizwatch.poll.pagewriter.PageWriter`) keeps the order fetch -> S3 put -> cursor write.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from wizwatch.errors import (
    ConfigError,
    CursorCycleError,
    LeaseHeldError,
    SecretNotSetError,
    StaleStateError,
    TimeBudgetExceeded,
    WizAuthenticationError,
    WizAuthorizationError,
    WizCredentialsError,
    WizTokenError,
    WizwatchError,
)
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.poll.credentials import put_secret_command
from wizwatch.poll.incremental import LogTypeRun
from wizwatch.poll.poller import Poller
from wizwatch.poll.queries import SPECS, QuerySpec
from wizwatch.poll.retry import Clock, TimeBudget
from wizwatch.poll.settings import PollerSettings, load_settings
from wizwatch.poll.stream import Outcome, StreamRun

__all__ = [
    "Outcome",
    "Poller",
    "get_poller",
    "handle",
    "load_settings",
    "logger",
    "poll_one",
    "preflight",
    "snapshot_streams",
]

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


def poll_one(
    poller: Poller,
    log_type: str,
    budget: TimeBudget,
    invocation_id: str,
    make_run: Callable[[Poller, QuerySpec, TimeBudget, str], StreamRun] = LogTypeRun,
) -> Outcome:
    """Run one stream (``make_run``: incremental windows, or a snapshot) and map its failures."""
    run = make_run(poller, poller.settings.query_spec(log_type), budget, invocation_id)
    outcome = run.outcome
    stream = run.stream  # the metrics' LogType dimension
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
            outcomes[log_type] = poll_one(poller, log_type, share_budget, invocation_id)
        for log_type in log_types:
            if outcomes[log_type].status == "budget" and budget.remaining() > 5:
                more = poll_one(poller, log_type, budget, invocation_id)
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
