"""Counting metrics during an invocation and emitting them once at its end (EMF via Powertools).

Detector metrics carry different dimension sets (LogType, Severity, RuleId), which one Powertools
``Metrics`` object cannot mix, so each (name, dimensions) pair is emitted as its own EMF blob.
"""

from __future__ import annotations

import os
from collections import Counter

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from wizwatch.metric_names import NAMESPACE


class MetricCounts:
    """Counters keyed by metric name and dimensions."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, tuple[tuple[str, str], ...]]] = Counter()

    def add(self, name: str, value: int = 1, **dimensions: str) -> None:
        self.counts[(name, tuple(sorted(dimensions.items())))] += value

    def total(self, name: str) -> int:
        return sum(v for (n, _), v in self.counts.items() if n == name)

    def flush(self, service: str | None = None) -> None:
        """Print every counter as EMF (CloudWatch ingests stdout) and reset."""
        service = service or os.environ.get("POWERTOOLS_SERVICE_NAME", "wizwatch")
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE)
        for (name, dims), value in sorted(self.counts.items()):
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=value,
                namespace=namespace,
                default_dimensions={"service": service, **dict(dims)},
            ):
                pass
        self.counts.clear()
