"""The detector's settings, read from its environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from wizwatch.config import setting
from wizwatch.errors import ConfigError


@dataclass(frozen=True)
class DetectorConfig:
    dedup_table: str = setting("DEDUP_TABLE", "DynamoDB table for dedup windows and event markers")
    alert_queue_url: str = setting("ALERT_QUEUE_URL", "SQS queue URL the detector sends alerts to")
    raw_bucket: str = setting(
        "RAW_BUCKET",
        "bucket for matches/ and quarantine/ (default: the bucket of the notified object)",
        default="",
    )
    rules_dir: str = setting(
        "RULES_DIR", "directory of Panther-format rules (default: rules/ beside the handler)", default=""
    )
    destinations_file: str = setting(
        "DESTINATIONS_FILE",
        "destinations document (YAML/JSON) used to route alerts; rules naming a destination it lacks"
        " fail the start-up (default: every alert to the SNS destination)",
        default="",
    )
    idempotency_hours: int = setting(
        "IDEMPOTENCY_HOURS",
        "how long an event's 'already counted' marker is kept (cover SQS retention and DLQ redrives)",
        default=14 * 24,
    )

    def __post_init__(self) -> None:
        if self.idempotency_hours < 1:
            raise ConfigError("IDEMPOTENCY_HOURS must be at least 1")
        if not self.alert_queue_url.startswith(("https://", "http://")):
            raise ConfigError(f"ALERT_QUEUE_URL={self.alert_queue_url!r} is not a queue URL (https://sqs...)")
