"""The detector's Lambda entry: event shapes, partial batch failures, one Detector per container.

A message that fails is logged here, once, with the object's key, page and the reason, before it
is reported to SQS: every alarm's runbook sends the operator to this line.

Partial batch responses are built here (each failed message's id in ``batchItemFailures``, never
an exception for the batch), not with Powertools' ``BatchProcessor``: importing it (and the event
data classes and asyncio it pulls in) cost a sixth of ``import boto3`` on every cold start, for
a loop of a few lines.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from wizwatch import aws
from wizwatch import metric_names as mn
from wizwatch.alerts import heap, rule_health
from wizwatch.alerts.config import DetectorConfig
from wizwatch.alerts.correlate import Correlator
from wizwatch.alerts.detector import Detector
from wizwatch.alerts.notifications import ObjectRef, is_sqs_batch, objects_in_s3_notification
from wizwatch.alerts.routing import Router
from wizwatch.archive.keys import parse_raw_key
from wizwatch.config import load
from wizwatch.dedup.signals import SignalStore
from wizwatch.dedup.store import DedupStore
from wizwatch.errors import ConfigError
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.parse.inflate import DEFAULT_MAX_INFLATED_BYTES


@functools.lru_cache(maxsize=4)
def _build(config: DetectorConfig, rules_dir: str) -> Detector:
    from wizwatch.detect.engine import Engine  # the engine imports every rule: once per container

    if not Path(rules_dir).is_dir():
        raise FileNotFoundError(f"RULES_DIR={rules_dir!r} is not a directory of rules")
    engine = Engine.from_directory(rules_dir)  # a broken rule is left out, never fatal
    for err in engine.ruleset.errors:
        logger.error("rule problem (the rule is not running)", extra={"problem": str(err)})
    router = Router.from_file(config.destinations_file or None)
    unknown = router.check_rules([*engine.rules, *(r for r in engine.ruleset.correlations if r.enabled)])
    if unknown:  # a destination typo must stop the deployment, not lose alerts at delivery
        raise ConfigError(
            "rules route to destinations that are not configured:\n  - " + "\n  - ".join(unknown)
        )
    detector = assemble(
        engine,
        dynamodb=aws.LazyClient("dynamodb"),
        s3=aws.LazyClient("s3"),
        sqs=aws.LazyClient("sqs"),
        table=config.dedup_table,
        alert_queue_url=config.alert_queue_url,
        kept_bucket=config.raw_bucket,
        idempotency_ttl_s=config.idempotency_hours * 3600,
        max_page_bytes=config.max_page_bytes,
        router=router,
    )
    heap.settle()  # everything above lives as long as the container: out of the collector's way
    return detector


def assemble(
    engine: Any,
    *,
    dynamodb: Any,
    s3: Any,
    sqs: Any,
    table: str,
    alert_queue_url: str,
    kept_bucket: str,
    idempotency_ttl_s: int,
    max_page_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
    router: Router | None = None,
) -> Detector:
    """A Detector from its clients: the Lambda's (above), or ``wizwatch replay``'s in-memory ones
    (without a router: replayed alerts are routed nowhere)."""
    store = DedupStore(dynamodb, table, idempotency_ttl_s=idempotency_ttl_s)
    correlations = [r for r in engine.ruleset.correlations if r.enabled]
    correlator = Correlator(correlations, SignalStore(dynamodb, table)) if correlations else None
    return Detector(
        engine,
        store,
        correlator=correlator,
        s3=s3,
        sqs=sqs,
        alert_queue_url=alert_queue_url,
        kept_bucket=kept_bucket,
        max_page_bytes=max_page_bytes,
        router=router,
    )


def detector_from_env(default_rules_dir: str | Path) -> Detector:
    """The container's Detector; a misconfiguration raises ConfigError naming what to fix."""
    config = load(DetectorConfig)
    return _build(config, config.rules_dir or str(default_rules_dir))


def _page_of(key: str) -> int | None:
    try:
        return parse_raw_key(key).page
    except ValueError:
        return None  # a pushed (webhook) object, or not ours at all


def _process(detector: Detector, ref: ObjectRef, **where: str) -> None:
    """Process one object; on failure log it once (key, page, reason) and re-raise."""
    try:
        detector.process(ref)
    except Exception as exc:
        logger.exception(
            "object failed; it is retried and, if it keeps failing, dead-lettered",
            extra={
                "bucket": ref.bucket,
                "key": ref.key,
                "page": _page_of(ref.key),
                "reason": f"{type(exc).__name__}: {exc}",
                **where,
            },
        )
        raise


def _message(detector: Detector, body: Any, message_id: str) -> None:
    """One SQS message: every object of the S3 notification in its body."""
    try:
        refs = objects_in_s3_notification(body)
    except Exception as exc:
        logger.error(
            "message is not an S3 notification; it is retried and then dead-lettered",
            extra={"message_id": message_id, "reason": f"{type(exc).__name__}: {exc}"},
        )
        raise
    for ref in refs:
        _process(detector, ref, message_id=message_id)


def handle(event: dict[str, Any], context: Any, *, default_rules_dir: str | Path) -> dict[str, Any]:
    """SQS batch -> ``batchItemFailures``; a direct S3 event raises if any object failed."""
    configure_logging()
    detector = detector_from_env(default_rules_dir)
    try:
        if is_sqs_batch(event):
            failed: list[dict[str, str]] = []
            for record in event["Records"]:
                message_id = str(record.get("messageId", ""))
                try:
                    _message(detector, record.get("body"), message_id)
                except Exception:  # logged once in _message/_process; SQS retries the message
                    failed.append({"itemIdentifier": message_id})
            return {"batchItemFailures": failed}
        failures: list[BaseException] = []
        for ref in objects_in_s3_notification(event):
            try:
                _process(detector, ref)
            except Exception as exc:  # keep going: one bad object must not block the others
                failures.append(exc)
        if failures:
            # Direct (asynchronous) invocations are retried by Lambda, then go to its DLQ.
            raise failures[0]
        return {"batchItemFailures": []}
    finally:
        detector.metrics.add(mn.RULES_FAILED_TO_LOAD, len(rule_health.broken_rules(detector.engine)))
        detector.metrics.flush("detector")
