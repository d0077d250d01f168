"""The GraphQL client: one place that turns Wiz's answers into data or a typed error.

Wiz reports errors both as HTTP statuses and as ``errors[]`` on HTTP 200, so every answer is
classified by :func:`classify` (pure, unit-tested) before anything else looks at it. Requests go
through the shared limiter; retryable failures are retried with back-off inside the time budget;
an UNAUTHENTICATED answer refreshes the token once and retries the same request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import requests

from wizwatch import __version__
from wizwatch.errors import (
    CursorInvalidError,
    TimeBudgetExceeded,
    WizApiError,
    WizAuthenticationError,
    WizAuthorizationError,
    WizBadRequestError,
    WizRetryableError,
)
from wizwatch.poll.auth import TokenProvider
from wizwatch.poll.limiter import RateLimiter
from wizwatch.poll.retry import TRANSIENT_HTTP_ERRORS, Backoff, TimeBudget, parse_retry_after

USER_AGENT = f"wizwatch/{__version__} (+https://github.com/wizwatch/wizwatch)"

#: The scope each log type needs; named in the error when Wiz answers UNAUTHORIZED.
REQUIRED_SCOPES = {
    "Wiz.Audit": "admin:audit",
    "Wiz.Issues": "read:issues",
    "Wiz.VulnerabilityFinding": "read:vulnerabilities",
    "Wiz.CloudConfigurationFinding": "read:cloud_configuration",
}

_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_CURSOR_CODES = frozenset({"INVALID_CURSOR", "CURSOR_EXPIRED", "EXPIRED_CURSOR"})


@dataclass(frozen=True)
class Answer:
    """One successful GraphQL answer: the exact body bytes (archived as-is) and its parse."""

    body: bytes
    payload: dict[str, Any]
    request_id: str
    request_time: str


@dataclass
class CallStats:
    """Callbacks the runner uses to count requests, throttles and errors per log type."""

    on_request: Callable[[], None] = lambda: None
    on_throttle: Callable[[], None] = lambda: None
    on_error: Callable[[], None] = lambda: None


def _first_error(payload: Any) -> tuple[str, str] | None:
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if not errors:
        return None
    first = errors[0] if isinstance(errors, list) and errors else {}
    if not isinstance(first, dict):
        return ("", str(first)[:300])
    ext = first.get("extensions") or {}
    code = str(ext.get("code") or "") if isinstance(ext, dict) else ""
    return code.upper(), str(first.get("message") or "")[:300]


def classify(status: int, headers: Mapping[str, str], payload: Any) -> WizApiError | None:
    """None for a usable answer, otherwise the error it represents (not raised)."""
    retry_after = parse_retry_after(headers.get("Retry-After"))
    err = _first_error(payload)
    code, message = err if err else ("", "")
    where = f"HTTP {status}" + (f", {code}" if code else "") + (f": {message}" if message else "")

    if code in _CURSOR_CODES or (code in ("BAD_USER_INPUT", "") and "cursor" in message.lower()):
        return CursorInvalidError(f"the page cursor was rejected ({where})", code=code, status=status)
    if status == 401 or code == "UNAUTHENTICATED":
        return WizAuthenticationError(f"token rejected ({where})", code=code, status=status)
    if status == 403 or code in ("UNAUTHORIZED", "FORBIDDEN", "FORBIDDEN_IP"):
        return WizAuthorizationError(where, code=code, status=status)
    if status == 429 or code == "RATE_LIMIT_EXCEEDED":
        return WizRetryableError(
            f"throttled ({where})", code=code or "RATE_LIMIT_EXCEEDED", status=status, retry_after=retry_after
        )
    if status in _RETRYABLE_STATUS or code in ("INTERNAL", "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
        return WizRetryableError(f"server error ({where})", code=code, status=status, retry_after=retry_after)
    if code in ("BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "NOT_FOUND") or (
        status == 400
    ):
        return WizBadRequestError(f"the API rejected the query ({where})", code=code, status=status)
    if err is not None:
        # An unknown code: retrying blindly could loop, so stop this log type and say what came back.
        return WizApiError(f"unexpected GraphQL error ({where})", code=code, status=status)
    if status != 200:
        return (
            WizRetryableError(f"unexpected HTTP status ({where})", status=status)
            if status >= 500
            else (WizApiError(f"unexpected HTTP status {status}", status=status))
        )
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), dict):
        return WizRetryableError("HTTP 200 without a data object (truncated answer?)", status=status)
    return None


class GraphQLClient:
    """Sends queries to the tenant's endpoint with the shared limiter, token and retries."""

    def __init__(
        self,
        *,
        api_url: str,
        tokens: TokenProvider,
        limiter: RateLimiter,
        session: requests.Session,
        backoff: Backoff,
        max_attempts: int,
        http_timeout: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_url = api_url
        self._sleep = sleep
        self._tokens = tokens
        self._limiter = limiter
        self._session = session
        self._backoff = backoff
        self._max_attempts = max_attempts
        self._http_timeout = http_timeout

    def execute(
        self,
        query: str,
        variables: dict[str, Any],
        *,
        budget: TimeBudget,
        log_type: str,
        stats: CallStats | None = None,
    ) -> Answer:
        """Run ``query``; retries what is worth retrying, raises a typed WizApiError otherwise."""
        stats = stats or CallStats()
        body = orjson.dumps({"query": query, "variables": variables})
        attempt = 0
        refreshed = False
        while True:
            attempt += 1
            token = self._tokens.get(budget)
            if not self._limiter.acquire(deadline=budget.deadline - 1.0):
                raise TimeBudgetExceeded("stopping: no request slot left within the time budget")
            if budget.remaining() < 1.0:
                raise TimeBudgetExceeded("stopping: not enough time left for another request")
            timeout = min(self._http_timeout, budget.remaining())
            request_id = str(uuid.uuid4())
            request_time = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            stats.on_request()
            error: WizApiError | None
            try:
                resp = self._session.post(
                    self.api_url,
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token.value}",
                        "Content-Type": "application/json",
                        "Accept": "application/json",
                        "User-Agent": USER_AGENT,
                        "X-Request-Id": request_id,
                    },
                    timeout=timeout,
                )
                content = resp.content
                try:
                    payload: Any = orjson.loads(content) if content else None
                except orjson.JSONDecodeError:
                    payload = None
                error = classify(resp.status_code, resp.headers, payload)
                request_id = (
                    resp.headers.get("X-Request-Id") or resp.headers.get("x-amzn-requestid") or request_id
                )
            except TRANSIENT_HTTP_ERRORS as exc:
                error = WizRetryableError(f"no complete answer within {timeout:.0f}s ({type(exc).__name__})")
            if error is None:
                return Answer(content, payload, request_id, request_time)
            if isinstance(error, WizAuthenticationError) and not refreshed:
                # Expired or revoked token: fetch a new one and retry this request once.
                refreshed = True
                self._tokens.invalidate(token)
                attempt -= 1
                continue
            if isinstance(error, WizAuthorizationError):
                scope = REQUIRED_SCOPES.get(log_type, "the scope for this query")
                stats.on_error()
                raise WizAuthorizationError(
                    f"{log_type}: the service account is not allowed to read this ({error}); add the "
                    f"{scope!r} scope to the Wiz service account (audit also needs a tenant-wide, not "
                    "project-scoped, account). This log type is stopped until then.",
                    code=error.code,
                    status=error.status,
                )
            if not isinstance(error, WizRetryableError):
                stats.on_error()
                raise error
            if error.status == 429 or error.code == "RATE_LIMIT_EXCEEDED":
                stats.on_throttle()
            else:
                stats.on_error()
            if attempt >= self._max_attempts:
                raise WizRetryableError(
                    f"{log_type}: giving up after {attempt} attempts: {error}",
                    code=error.code,
                    status=error.status,
                )
            delay = self._backoff.delay(attempt, error.retry_after)
            if budget.remaining() < delay + 1.0:
                raise TimeBudgetExceeded(f"stopping: a {delay:.1f}s back-off would pass the time budget")
            self._sleep(delay)
