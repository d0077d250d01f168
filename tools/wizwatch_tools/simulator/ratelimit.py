"""A tenant-wide token bucket: Wiz throttles per tenant/service account (stay under ~3 req/s).

Off by default; with ``sim.rate_limit_per_second`` set, requests beyond the bucket get HTTP 429
RATE_LIMIT_EXCEEDED (with ``Retry-After`` only if ``retry_after`` is set, since whether Wiz
sends one is not known), so a poller's own limiter can be shown to keep it under the limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(
        self,
        rate_per_second: float,
        burst: float | None = None,
        retry_after: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be > 0")
        self.rate = rate_per_second
        self.burst = burst if burst is not None else max(1.0, rate_per_second)
        self.retry_after = retry_after
        self._monotonic = monotonic
        self._tokens = self.burst
        self._last = monotonic()
        self._lock = threading.Lock()
        self.throttled = 0

    def allow(self) -> bool:
        """Take one request's token if there is one."""
        with self._lock:
            now = self._monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            self.throttled += 1
            return False
