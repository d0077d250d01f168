"""Delivering one alert to one destination: at most once (ledger) and at least once (retries).

One attempt per delivery-queue receive. Inside it, a short ``Retry-After`` or a transient
failure is waited out and retried (at most ``inline_retries`` times, never past the Lambda's
remaining time minus a reserve for the bookkeeping); anything longer is handed back to SQS: the
message's visibility is set to the wait (``Retry-After`` when the destination said, else
exponential back-off from ``backoff_base`` to ``backoff_max``), so a throttled or down
destination is retried later without holding a Lambda, and other destinations' messages are
never held up by it. After ``max_attempts`` receives the message goes to DeliveryDLQ (the
queue's redrive policy uses the same number). Rejections (bad credentials, a deleted webhook)
are retried the same way — an operator who fixes the configuration within the retry budget
gets the alert delivered without a redrive — and raise the rejection alarm meanwhile.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wizwatch import metric_names as mn
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.errors import DeliveryError, DeliveryRejected, DeliveryUnavailable
from wizwatch.logs import logger
from wizwatch.notify.base import Receipt
from wizwatch.notify.destinations import Destinations
from wizwatch.notify.ledger import DeliveryInProgress, DeliveryLedger
from wizwatch.notify.records import DELIVERED, FAILED, RETRYING, DeliveryRecord, DeliveryRecords
from wizwatch.notify.secrets import redact
from wizwatch.poll.retry import TimeBudget

#: SQS's longest visibility timeout (12 hours).
MAX_VISIBILITY = 43_200
#: How long to wait before retrying a delivery another notifier is in the middle of.
BUSY_DELAY = 60


@dataclass(frozen=True)
class DeliveryPolicy:
    max_attempts: int = 10
    request_timeout: float = 10.0
    inline_wait: float = 5.0
    inline_retries: int = 2
    backoff_base: float = 30.0
    backoff_max: float = 3600.0
    reserve: float = 3.0

    def defer_delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> int:
        """Seconds until the next attempt: exponential with equal jitter, never before Retry-After."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1))
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return int(min(MAX_VISIBILITY, max(1.0, delay)))


@dataclass
class Outcome:
    """``delivered`` | ``duplicate`` | ``deferred`` (retry after ``delay`` s) | ``failed`` (last try)."""

    status: str
    delay: int = 0
    error: DeliveryError | None = None
    receipt: Receipt | None = None


@dataclass
class Deliverer:
    destinations: Destinations
    ledger: DeliveryLedger | None
    records: DeliveryRecords
    metrics: MetricCounts
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)

    def deliver(self, alert: dict[str, Any], name: str, *, attempt: int, budget: TimeBudget) -> Outcome:
        destination = self.destinations.get(name)
        kind = destination.type_name if destination else "unknown"
        if destination is None:
            configured = ", ".join(self.destinations.names())
            error: DeliveryError = DeliveryRejected(
                f"destination {name!r} is not configured (have: {configured})"
            )
            return self._failed(alert, name, kind, attempt, error)
        claim = None
        if self.ledger is not None:
            try:
                claim = self.ledger.claim(str(alert["alert_id"]), destination.name, self.clock())
            except DeliveryInProgress as exc:
                logger.info("%s", exc)
                return Outcome("deferred", BUSY_DELAY)
            if claim is None:
                logger.info(
                    "alert %s already delivered to %s; duplicate dropped", alert["alert_id"], destination.name
                )
                self.metrics.add(mn.DUPLICATES_DROPPED)
                return Outcome("duplicate")
        try:
            receipt = self._attempt(alert, destination, budget)
        except DeliveryError as exc:
            if claim is not None:
                self._release(claim)
            if isinstance(exc, DeliveryRejected) and exc.status in (401, 403):
                self.env_secrets_refresh()
            return self._failed(alert, destination.name, kind, attempt, exc)
        if claim is not None:
            try:
                self.ledger.delivered(claim, self.clock(), receipt.external_id)  # type: ignore[union-attr]
            except Exception:
                # The destination has the alert: failing now would deliver it again once the
                # claim is stale. Only a duplicate receive could still repeat it.
                logger.exception(
                    "alert %s delivered to %s but not marked", alert["alert_id"], destination.name
                )
        now = self._now()
        self.records.write(
            alert,
            DeliveryRecord.for_alert(
                alert, destination.name, kind, status=DELIVERED, attempts=attempt,
                external_id=receipt.external_id or None, delivered_at=now,
            ),
        )  # fmt: skip
        self.metrics.add(mn.ALERTS_DELIVERED, 1, **{mn.DESTINATION: destination.name})
        logger.info("alert %s delivered to %s (attempt %d)", alert["alert_id"], destination.name, attempt)
        return Outcome("delivered", receipt=receipt)

    def _attempt(self, alert: dict[str, Any], destination: Any, budget: TimeBudget) -> Receipt:
        retries = 0
        while True:
            timeout = min(self.policy.request_timeout, budget.remaining() - self.policy.reserve)
            if timeout < 1.0:
                raise DeliveryUnavailable("not enough Lambda time left for another attempt")
            try:
                receipt: Receipt = destination.send(alert, timeout)
                return receipt
            except DeliveryUnavailable as exc:
                wait = exc.retry_after if exc.retry_after is not None else float(2**retries)
                fits = budget.remaining() - wait - self.policy.reserve >= 2.0
                if retries >= self.policy.inline_retries or wait > self.policy.inline_wait or not fits:
                    raise
                logger.info(
                    "%s unavailable (%s); retrying in %.1fs", destination.name, self._redact(str(exc)), wait
                )
                self.sleep(wait)
                retries += 1
            except DeliveryError:
                raise
            except Exception as exc:  # a bug or an odd answer: treated as transient, never lost
                raise DeliveryUnavailable(f"{type(exc).__name__}: {self._redact(str(exc))[:300]}") from None

    def _failed(
        self, alert: dict[str, Any], name: str, kind: str, attempt: int, error: DeliveryError
    ) -> Outcome:
        final = attempt >= self.policy.max_attempts
        message = self._redact(str(error))
        self.records.write(
            alert,
            DeliveryRecord.for_alert(
                alert, name, kind, status=FAILED if final else RETRYING, attempts=attempt,
                failure_class=error.failure_class, http_status=error.status, error=message,
            ),
        )  # fmt: skip
        self.metrics.add(mn.DELIVERY_FAILURES, 1, **{mn.FAILURE_CLASS: error.failure_class})
        self.metrics.add(mn.DELIVERY_FAILURES, 1, **{mn.DESTINATION: name})
        if final:
            logger.error(
                "alert %s -> %s failed for good after %d attempts: %s",
                alert["alert_id"],
                name,
                attempt,
                message,
            )
            return Outcome("failed", 0, error)
        delay = self.policy.defer_delay(attempt, error.retry_after, self.rng)
        logger.warning(
            "alert %s -> %s attempt %d/%d %s: %s; next try in %ds",
            alert["alert_id"], name, attempt, self.policy.max_attempts, error.failure_class, message, delay,
        )  # fmt: skip
        return Outcome("deferred", delay, error)

    def _release(self, claim: Any) -> None:
        try:
            self.ledger.release(claim)  # type: ignore[union-attr]
        except Exception:
            logger.exception(
                "claim on %s -> %s not released; it lapses after a while", claim.alert_id, claim.destination
            )

    def env_secrets_refresh(self) -> None:
        self.destinations.env.secrets.refresh()

    def _redact(self, text: str) -> str:
        return redact(text, self.destinations.env.secrets.redactions())

    def _now(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock()))
