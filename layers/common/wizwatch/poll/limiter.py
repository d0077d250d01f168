"""One request budget shared by every log type (and thread) of a poller container.

Wiz limits requests per service account, not per query, so the limiter is a single object; it
spaces request *starts* at least ``1/rate`` seconds apart (no bursts: a burst right after a cold
start is exactly what trips Wiz's limiter).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Blocks callers so that request starts are at least ``1/rate`` seconds apart."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self._interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0

    @property
    def rate(self) -> float:
        return 1.0 / self._interval

    def set_rate(self, rate: float) -> None:
        """Change the budget (a warm container may be invoked with a different share)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        with self._lock:
            self._interval = 1.0 / rate

    def delay(self) -> float:
        """Seconds until the next request may start (0 when it may start now)."""
        with self._lock:
            return max(0.0, self._next - self._clock())

    def acquire(self, deadline: float | None = None) -> bool:
        """Wait for a slot; False (and no slot taken) if it would not come before ``deadline``."""
        with self._lock:
            now = self._clock()
            start = max(now, self._next)
            if deadline is not None and start > deadline:
                return False
            self._next = start + self._interval
        wait = start - now
        if wait > 0:
            self._sleep(wait)
        return True
