"""Back-off policy and the run's time budget.

Retries use exponential back-off with jitter ("equal jitter": half fixed, half random, so no
retry comes back immediately) and honour ``Retry-After`` when Wiz sends one. Every wait is
clipped to the time the Lambda has left: a run that cannot finish a request stops cleanly with its
cursor saved rather than being killed mid-write.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from wizwatch.errors import TimeBudgetExceeded

#: Failures of the transport worth another try: no answer, or an answer cut off mid-body.
TRANSIENT_HTTP_ERRORS: tuple[type[Exception], ...] = (
    requests.Timeout,
    requests.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class Clock:
    """The monotonic clock the poller measures its budget and request spacing with, and its sleep.

    One object so tests can hand the runner a manual clock: waits then advance it instead of
    passing real time, and a budget runs out after a known amount of work, whatever the CPU load.
    """

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class TimeBudget:
    """A deadline on the monotonic clock, derived from the Lambda context."""

    deadline: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def from_context(
        cls,
        context: object,
        reserve_seconds: float,
        default_ms: int = 300_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> TimeBudget:
        """Deadline = now + remaining Lambda time - ``reserve_seconds`` for the final writes."""
        getter = getattr(context, "get_remaining_time_in_millis", None)
        remaining_ms = getter() if callable(getter) else default_ms
        return cls(clock() + remaining_ms / 1000.0 - reserve_seconds, clock)

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def sub(self, seconds: float) -> TimeBudget:
        """A budget ending ``seconds`` from now, never after this one."""
        return TimeBudget(min(self.deadline, self.clock() + seconds), self.clock)

    def check(self, needed: float = 0.0, what: str = "another request") -> None:
        if self.remaining() < needed:
            raise TimeBudgetExceeded(f"stopping before {what}: {self.remaining():.1f}s of budget left")


#: Longest ``Retry-After`` honoured; beyond it the run would rather stop and resume next time.
RETRY_AFTER_CAP = 300.0


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with equal jitter, capped."""

    base: float = 1.0
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Delay before retry number ``attempt`` (1 = first retry)."""
        if retry_after is not None and retry_after >= 0:
            # The server said when: wait that long (the time budget still bounds it), plus a little
            # jitter so parallel pollers do not re-synchronise.
            return min(RETRY_AFTER_CAP, retry_after) + self.rng.uniform(0, min(1.0, self.base))
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
