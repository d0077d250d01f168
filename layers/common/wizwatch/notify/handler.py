"""The notifier's Lambda entry: alerts fanned out to their destinations, deliveries made.

Two SQS sources feed it. An alert-queue message (the contract's alert) is routed
(``wizwatch.notify.fanout``) and becomes one delivery message per destination on the delivery
queue; a delivery message is delivered (``wizwatch.notify.deliver``). Without
``DELIVERY_QUEUE_URL`` the alert's destinations are delivered in the same invocation instead
(any failure retries the alert; the ledger skips the destinations that already have it).
Failed messages are reported back to SQS (``batchItemFailures``) and end in their DLQ.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from wizwatch import aws
from wizwatch import metric_names as mn
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.config import load, setting
from wizwatch.errors import ConfigError, DeliveryPending, InvalidAlert
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.notify.base import DeliveryEnv
from wizwatch.notify.deliver import Deliverer, DeliveryPolicy
from wizwatch.notify.destinations import Destinations
from wizwatch.notify.fanout import InvalidDelivery, destinations_for, enqueue, is_delivery, parse_delivery
from wizwatch.notify.http import HttpPoster
from wizwatch.notify.ledger import DeliveryLedger
from wizwatch.notify.records import DeliveryRecords
from wizwatch.notify.secrets import DestinationSecrets
from wizwatch.notify.validate import validate_alert
from wizwatch.poll.retry import TimeBudget


@dataclass(frozen=True)
class NotifierConfig:
    alert_topic_arn: str = setting("ALERT_TOPIC_ARN", "SNS topic ARN of the 'sns' destination (the default)")
    ledger_table: str | None = setting(
        "DEDUP_TABLE",
        "DynamoDB table holding the delivery ledger (the detector's dedup table); without it an alert"
        " delivered twice by SQS is delivered twice",
        default=None,
    )
    destinations_file: str = setting(
        "DESTINATIONS_FILE", "destinations document (YAML/JSON); default: every alert to SNS", default=""
    )
    destinations_secret: str = setting(
        "DESTINATIONS_SECRET",
        "Secrets Manager id/ARN of the destinations' credentials (JSON keyed by destination)",
        default="",
    )
    delivery_queue_url: str = setting(
        "DELIVERY_QUEUE_URL",
        "SQS queue of per-destination deliveries; without it all are delivered in the alert's invocation",
        default="",
    )
    records_bucket: str = setting(
        "RAW_BUCKET", "bucket where delivery records are kept under deliveries/ (default: none)", default=""
    )
    max_attempts: int = setting(
        "DELIVERY_MAX_ATTEMPTS",
        "attempts per (alert, destination) before it goes to the DLQ (the queue's maxReceiveCount)",
        default=10,
    )
    request_timeout: float = setting(
        "DELIVERY_TIMEOUT_SECONDS", "longest wait for one destination's answer", default=10.0
    )
    inline_wait: float = setting(
        "DELIVERY_INLINE_WAIT_SECONDS",
        "longest Retry-After/back-off waited inside one invocation; longer waits go back to the queue",
        default=5.0,
    )
    backoff_base: float = setting(
        "DELIVERY_BACKOFF_BASE_SECONDS", "first retry delay (doubles each try)", default=30.0
    )
    backoff_max: float = setting(
        "DELIVERY_BACKOFF_MAX_SECONDS", "longest delay between tries", default=3600.0
    )
    allow_loopback_http: bool = setting(
        "DESTINATIONS_ALLOW_LOOPBACK_HTTP",
        "allow http:// to 127.0.0.1/localhost (local test receivers only; the template never sets it)",
        default=False,
    )

    def __post_init__(self) -> None:
        if not self.alert_topic_arn.startswith("arn:"):
            raise ConfigError(f"ALERT_TOPIC_ARN={self.alert_topic_arn!r} is not an SNS topic ARN")
        if self.max_attempts < 1:
            raise ConfigError("DELIVERY_MAX_ATTEMPTS must be at least 1")

    def policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            max_attempts=self.max_attempts,
            request_timeout=self.request_timeout,
            inline_wait=self.inline_wait,
            backoff_base=self.backoff_base,
            backoff_max=self.backoff_max,
        )


@functools.lru_cache(maxsize=4)
def destinations_from(config: NotifierConfig) -> Destinations:
    """The container's destinations (the document is checked once, at the cold start)."""
    env = DeliveryEnv(
        secrets=DestinationSecrets(config.destinations_secret),
        http=HttpPoster(allow_loopback_http=config.allow_loopback_http),
        region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", ""),
        alert_topic_arn=config.alert_topic_arn,
        sns_client=lambda: aws.client("sns"),
    )
    return Destinations.load(config.destinations_file or None, env)


def notifier_from_env() -> tuple[NotifierConfig, Destinations]:
    """Config and destinations; a misconfiguration raises ConfigError naming what to fix."""
    config = load(NotifierConfig)
    return config, destinations_from(config)


def _attempt(record: SQSRecord) -> int:
    try:
        return max(1, int(record.attributes.approximate_receive_count))
    except (TypeError, ValueError, KeyError):
        return 1


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None  # not JSON: validate_alert says so


def _queue_name(url_or_arn: str) -> str:
    return url_or_arn.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Route or deliver every message of the batch; failed ones are reported back to SQS."""
    configure_logging()
    config, destinations = notifier_from_env()
    metrics = MetricCounts()
    ledger = DeliveryLedger(aws.client("dynamodb"), config.ledger_table) if config.ledger_table else None
    deliverer = Deliverer(
        destinations,
        ledger,
        DeliveryRecords(aws.client("s3"), config.records_bucket),
        metrics,
        config.policy(),
    )
    budget = TimeBudget.from_context(context, reserve_seconds=0.0, default_ms=60_000)

    def deliver(record: SQSRecord, doc: dict[str, Any]) -> None:
        name, alert = parse_delivery(doc)
        outcome = deliverer.deliver(alert, name, attempt=_attempt(record), budget=budget)
        if outcome.status in ("delivered", "duplicate"):
            return
        # Back to SQS: visible again after the back-off (Retry-After when the destination said),
        # or at once after the last attempt so the redrive policy moves it to the DLQ.
        if config.delivery_queue_url and _queue_name(record.event_source_arn) == _queue_name(
            config.delivery_queue_url
        ):
            try:
                aws.client("sqs").change_message_visibility(
                    QueueUrl=config.delivery_queue_url,
                    ReceiptHandle=record.receipt_handle,
                    VisibilityTimeout=outcome.delay,
                )
            except Exception:
                logger.exception("could not set the retry delay", extra={"message_id": record.message_id})
        raise DeliveryPending(f"{name}: {outcome.status}")

    def route(record: SQSRecord, body: str) -> None:
        alert = validate_alert(body)
        names = destinations_for(alert, destinations.router)
        if not names:
            logger.info(
                "alert routes to no destination",
                extra={"alert_id": alert["alert_id"], "severity": alert.get("severity")},
            )
        if config.delivery_queue_url:
            enqueue(aws.client("sqs"), config.delivery_queue_url, alert, names)
        else:
            pending = [
                name
                for name in names
                if deliverer.deliver(alert, name, attempt=_attempt(record), budget=budget).status
                not in ("delivered", "duplicate")
            ]
            if pending:
                raise DeliveryPending(f"alert {alert['alert_id']} not yet delivered to {pending}")
        metrics.add(mn.ALERTS_PUBLISHED)

    def record_handler(record: SQSRecord) -> None:
        body = record.body
        try:
            doc = _json(body)
            if is_delivery(doc):
                deliver(record, doc)
            else:
                route(record, body)
        except DeliveryPending:
            raise
        except (InvalidAlert, InvalidDelivery) as exc:
            # One line, no traceback: SQS retries it, then moves it to its DLQ (and that alarm).
            metrics.add(mn.PUBLISH_FAILURES)
            logger.error(
                "message rejected; it goes to the DLQ after its last retry",
                extra={
                    "message_id": record.message_id,
                    "receive_count": record.attributes.approximate_receive_count,
                    "reason": str(exc),
                },
            )
            raise
        except Exception:
            metrics.add(mn.PUBLISH_FAILURES)
            logger.exception("could not handle message", extra={"message_id": record.message_id})
            raise

    try:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )
    finally:
        metrics.flush("notifier")
