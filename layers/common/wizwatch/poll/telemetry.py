"""Per-log-type counters, flushed as one EMF blob per log type at the end of a run.

Counting in memory and flushing once keeps the poller to a handful of log lines per run however
many pages it fetched; Powertools' EphemeralMetrics keeps each log type's dimensions separate.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from wizwatch import metric_names as m

SERVICE = "poller"


class PollMetrics:
    """Thread-safe counters (the archive thread counts pages while the main thread fetches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, float]] = defaultdict(dict)
        self._lag: dict[str, float] = {}
        self._heartbeat: set[str] = set()
        self._token_fetches = 0

    def add(self, log_type: str, name: str, value: float = 1) -> None:
        with self._lock:
            per = self._counts[log_type]
            per[name] = per.get(name, 0) + value

    def get(self, log_type: str, name: str) -> float:
        with self._lock:
            return self._counts.get(log_type, {}).get(name, 0)

    def token_fetched(self) -> None:
        with self._lock:
            self._token_fetches += 1

    def lag(self, log_type: str, seconds: float) -> None:
        with self._lock:
            self._lag[log_type] = seconds

    def heartbeat(self, log_type: str) -> None:
        with self._lock:
            self._heartbeat.add(log_type)

    def flush(self, log_types: list[str]) -> None:
        """Print the EMF blobs (stdout -> CloudWatch Logs -> metrics) and reset."""
        with self._lock:
            counts, lag, beats, tokens = self._counts, self._lag, self._heartbeat, self._token_fetches
            self._counts, self._lag, self._heartbeat, self._token_fetches = defaultdict(dict), {}, set(), 0
        for log_type in log_types:
            metrics = EphemeralMetrics(namespace=m.NAMESPACE, service=SERVICE)
            metrics.add_dimension(name=m.LOG_TYPE, value=log_type)
            per = counts.get(log_type, {})
            for name in (m.RECORDS_ARCHIVED, m.PAGES_ARCHIVED, m.API_REQUESTS, m.API_THROTTLES, m.API_ERRORS):
                metrics.add_metric(name=name, unit=MetricUnit.Count, value=per.get(name, 0))
            if per.get(m.SNAPSHOTS_COMPLETED):
                metrics.add_metric(
                    name=m.SNAPSHOTS_COMPLETED, unit=MetricUnit.Count, value=per[m.SNAPSHOTS_COMPLETED]
                )
            if log_type in beats:
                metrics.add_metric(name=m.POLL_HEARTBEAT, unit=MetricUnit.Count, value=1)
            if log_type in lag:
                metrics.add_metric(name=m.INGESTION_LAG, unit=MetricUnit.Seconds, value=lag[log_type])
            metrics.flush_metrics()
        if tokens:
            metrics = EphemeralMetrics(namespace=m.NAMESPACE, service=SERVICE)
            metrics.add_metric(name=m.TOKEN_FETCHES, unit=MetricUnit.Count, value=tokens)
            metrics.flush_metrics()
