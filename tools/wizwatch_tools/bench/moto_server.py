"""AWS requests per 10,000 events of the real detector handler through a moto server.

Not the detector's speed figure (that is ``detector.per_log_type``, CPU time against the parse
floor with in-memory clients): here every AWS call goes through botocore, HTTP and moto, so the
``events_per_s`` below mostly measures moto. Kept for the request counts per operation.

The shared corpus is archived under ``raw/`` in a freshly provisioned local stack (its own
ThreadedMotoServer), S3 notifies the raw-object queue, and the real detector handler drains it
with the repository's rules. Requests are counted from the calls the handler made (the local
stack's recorder). Beside each figure is its floor, measured in the same run: one S3 GetObject
per page and zero DynamoDB requests (what any detector must at least do), and the in-process
rate of page read + normalisation + rules without any AWS call (wall clock, not a floor).
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from wizwatch.detect.engine import Engine
from wizwatch.logtypes import AUDIT, ISSUES, VULNERABILITY_FINDING
from wizwatch.parse.normalize import Normalizer
from wizwatch.parse.pages import read_page
from wizwatch_tools.bench.production_path import RULES, _pages

MOTO_LOG_TYPES = (AUDIT, ISSUES, VULNERABILITY_FINDING)


def _floor_rate(engine: Engine, pages: list[tuple[str, str, bytes]]) -> tuple[float, int, int]:
    """In-process read + normalise + evaluate: (events/s, events, matches)."""
    events = matches = 0
    started = time.perf_counter()
    for log_type, _, body in pages:
        normalizer = Normalizer(log_type)
        for record in read_page(body).records:
            try:
                event = normalizer.normalize(record)
            except Exception:
                continue
            events += 1
            matches += sum(1 for r in engine.evaluate(log_type, event) if r.matched or r.error)
    return events / (time.perf_counter() - started), events, matches


def run(corpus: Path) -> dict[str, Any]:
    from wizwatch_tools.localstack import LocalStack, MotoServer

    # moto's per-transaction whole-table copy is removed by MotoServer (localstack.moto_speedups).
    # The shared corpus's three types (as this figure always had): through moto, every extra
    # page costs seconds of moto's own work, and the per-type speeds are in ``detector``.
    pages = [p for p in _pages(corpus) if p[0] in MOTO_LOG_TYPES]
    floor_rate, events, matches = _floor_rate(Engine.from_directory(RULES, strict=True), pages)
    with MotoServer() as server:
        # The poller never runs here; its Wiz endpoints only have to be well-formed.
        stack = LocalStack.for_wiz(
            server.endpoint,
            wiz_api_url="http://127.0.0.1:9/graphql",
            wiz_token_url="http://127.0.0.1:9/oauth/token",
            wiz_audience="wiz-api",
            client_id="bench",
            client_secret="bench",
            reset=True,
            echo=False,
        )
        try:
            bucket = stack.resources["bucket"]
            for _, key, body in pages:
                stack.s3.put_object(Bucket=bucket, Key=key, Body=body)
            started = time.perf_counter()
            result = stack.run_detector()
            elapsed = time.perf_counter() - started
            alerts = int(stack.queue_depth("alert_queue_url"))
            calls = Counter(c.service for c in stack.recorder.calls.get("detector", []))
            ops = Counter(f"{c.service}:{c.operation}" for c in stack.recorder.calls.get("detector", []))
        finally:
            stack.close()
    per10k = 10_000 / max(1, events)
    return {
        "events": events,
        "pages": len(pages),
        "matches": matches,
        "alerts_queued": alerts,
        "detector_invocations": result.invocations,
        "failed_messages": result.failed,
        "dynamodb_requests_per_10k_events": round(calls["dynamodb"] * per10k, 1),
        "dynamodb_requests_floor_per_10k_events": 0,
        "s3_requests_per_10k_events": round(calls["s3"] * per10k, 1),
        "s3_requests_floor_per_10k_events": round(len(pages) * per10k, 1),
        "matches_per_10k_events": round(matches * per10k, 1),
        "requests_by_operation": dict(sorted(ops.items())),
        "label": "handler through a moto server (wall clock; not the production-path speed figure)",
        "events_per_s_through_moto_wall_clock": round(events / elapsed),
        "in_process_normalise_and_rules_events_per_s": round(floor_rate),
        "ratio_vs_in_process_wall_clock": round((events / elapsed) / floor_rate, 3),
    }
