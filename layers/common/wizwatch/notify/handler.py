"""The notifier's Lambda entry: each alert-queue message -> one SNS publish; failures retried."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from wizwatch import aws
from wizwatch import metric_names as mn
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.config import load, setting
from wizwatch.errors import ConfigError
from wizwatch.notify.ledger import PublishLedger
from wizwatch.notify.publish import build_publish, parse_alert

log = logging.getLogger(__name__)


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
    config = load(NotifierConfig)
    sns = aws.client("sns")
    ledger = PublishLedger(aws.client("dynamodb"), config.ledger_table) if config.ledger_table else None
    metrics = MetricCounts()

    def record_handler(record: SQSRecord) -> None:
        try:
            alert = parse_alert(record.body)
            claim = ledger.claim(alert["alert_id"], time.time()) if ledger else None
            if ledger and claim is None:
                log.info("alert %s was already published; duplicate message dropped", alert["alert_id"])
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
                    log.exception("alert %s published but not marked in the ledger", alert["alert_id"])
        except Exception:
            metrics.add(mn.PUBLISH_FAILURES)
            log.exception("could not publish alert message %s", record.message_id)
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
