"""The detector's settings, read from its environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from wizwatch.config import setting
from wizwatch.errors import ConfigError
from wizwatch.parse.inflate import DEFAULT_MAX_INFLATED_BYTES

_MiB = 1024 * 1024


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
    max_page_mb: int = setting(
        "MAX_PAGE_MB",
        "largest inflated size (MiB) of one archived page the detector reads; a bigger object is "
        "quarantined whole, unread (decompression bombs). Sized for the 1,024 MB detector: raise "
        "it only with MemorySize (see wizwatch/parse/inflate.py)",
        default=DEFAULT_MAX_INFLATED_BYTES // _MiB,
    )

    def __post_init__(self) -> None:
        if self.idempotency_hours < 1:
            raise ConfigError("IDEMPOTENCY_HOURS must be at least 1")
        if not 1 <= self.max_page_mb <= 4096:
            raise ConfigError(f"MAX_PAGE_MB={self.max_page_mb} must be between 1 and 4096 (MiB)")
        if not self.alert_queue_url.startswith(("https://", "http://")):
            raise ConfigError(f"ALERT_QUEUE_URL={self.alert_queue_url!r} is not a queue URL (https://sqs...)")

    @property
    def max_page_bytes(self) -> int:
        return self.max_page_mb * _MiB
