"""The notifier's Lambda entry: each alert-queue message -> one SNS publish; failures retried."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from wizwatch import aws
from wizwatch import metric_names as mn
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.config import load, setting
from wizwatch.errors import ConfigError, InvalidAlert
from wizwatch.logs import configure as configure_logging
from wizwatch.logs import logger
from wizwatch.notify.ledger import PublishLedger
from wizwatch.notify.publish import build_publish
from wizwatch.notify.validate import validate_alert


@dataclass(frozen=True)
class NotifierConfig:
    alert_topic_arn: str = setting("ALERT_TOPIC_ARN", "SNS topic ARN alerts are published to")
    ledger_table: str | None = setting(
        "DEDUP_TABLE",
        "DynamoDB table holding the publish ledger (the detector's dedup table); without it an alert"
        " delivered twice by SQS is published twice",
        default=None,
    )

    def __post_init__(self) -> None:
        if not self.alert_topic_arn.startswith("arn:"):
            raise ConfigError(f"ALERT_TOPIC_ARN={self.alert_topic_arn!r} is not an SNS topic ARN")


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Publish every alert of the batch; failed ones are reported back (then DLQ'd by SQS)."""
    configure_logging()
    config = load(NotifierConfig)
    sns = aws.client("sns")
    ledger = PublishLedger(aws.client("dynamodb"), config.ledger_table) if config.ledger_table else None
    metrics = MetricCounts()

    def record_handler(record: SQSRecord) -> None:
        try:
            alert = validate_alert(record.body)
        except InvalidAlert as exc:
            # One line, no traceback: SQS retries it, then moves it to the alert DLQ (its alarm).
            metrics.add(mn.PUBLISH_FAILURES)
            logger.error(
                "alert message rejected; it goes to the alert DLQ after its last retry",
                extra={
                    "message_id": record.message_id,
                    "receive_count": record.attributes.approximate_receive_count,
                    "reason": str(exc),
                },
            )
            raise
        try:
            claim = ledger.claim(alert["alert_id"], time.time()) if ledger else None
            if ledger and claim is None:
                logger.info(
                    "alert already published; duplicate message dropped",
                    extra={"alert_id": alert["alert_id"]},
                )
                metrics.add(mn.DUPLICATES_DROPPED)
                return
            try:
                sns.publish(**build_publish(config.alert_topic_arn, alert))
            except Exception:
                if ledger and claim:
                    ledger.release(claim)
                raise
            if ledger and claim:
                try:
                    ledger.published(claim, time.time())
                except Exception:
                    # SNS has the alert: failing the message now would make SQS redeliver it
                    # and, once the claim is stale, publish it again. The claim stays
                    # "publishing"; only a duplicate delivery could still re-publish it.
                    logger.exception(
                        "alert published but not marked in the ledger", extra={"alert_id": alert["alert_id"]}
                    )
        except Exception:
            metrics.add(mn.PUBLISH_FAILURES)
            logger.exception(
                "could not publish alert message",
                extra={"message_id": record.message_id, "alert_id": alert["alert_id"]},
            )
            raise
        metrics.add(mn.ALERTS_PUBLISHED)

    try:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )
    finally:
        metrics.flush("notifier")
