"""Delivery records: what happened to each (alert, destination), kept in the archive bucket.

``deliveries/dt=<alert's created_at date>/<alert_id>/<destination>.json.gz`` holds one JSON line
(gzip, like ``matches/``), overwritten at every attempt, so the object always says the latest
state: ``delivered``, ``retrying`` (an attempt failed, another will come) or ``failed`` (the last
attempt failed; the delivery message is on its way to DeliveryDLQ). Fields: ``p_alert_id``,
``p_rule_id``, ``alert_type``, ``severity``, ``destination``, ``destination_type``, ``status``,
``attempts``, ``failure_class`` (rejected | unavailable), ``http_status``, ``error`` (redacted),
``external_id`` (Jira issue key, PagerDuty dedup key, SNS message id), ``updated_at``,
``delivered_at``. Nothing secret is written: errors pass the secret redaction first.

A record is bookkeeping: failing to write one is logged and never fails or repeats a delivery.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from wizwatch.archive.kept import json_lines_gz
from wizwatch.archive.keys import DELIVERIES_PREFIX
from wizwatch.logs import logger

DELIVERED = "delivered"
RETRYING = "retrying"
FAILED = "failed"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class DeliveryRecord:
    p_alert_id: str
    p_rule_id: str
    alert_type: str
    severity: str
    destination: str
    destination_type: str
    status: str
    attempts: int
    updated_at: str
    failure_class: str | None = None
    http_status: int | None = None
    error: str | None = None
    external_id: str | None = None
    delivered_at: str | None = None

    @classmethod
    def for_alert(
        cls, alert: dict[str, Any], destination: str, destination_type: str, **kw: Any
    ) -> DeliveryRecord:
        return cls(
            p_alert_id=str(alert.get("alert_id")),
            p_rule_id=str(alert.get("rule_id")),
            alert_type=str(alert.get("alert_type")),
            severity=str(alert.get("severity")),
            destination=destination,
            destination_type=destination_type,
            updated_at=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            **kw,
        )


def record_key(alert: dict[str, Any], destination: str) -> str:
    created = str(alert.get("created_at") or "")
    date = created[:10] if _DATE.match(created) else f"{datetime.now(UTC):%Y-%m-%d}"
    return f"{DELIVERIES_PREFIX}dt={date}/{alert['alert_id']}/{destination}.json.gz"


class DeliveryRecords:
    """Writes records to ``bucket`` (no bucket: records are only logged)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def write(self, alert: dict[str, Any], record: DeliveryRecord) -> None:
        if not self.bucket:
            return
        try:
            self.s3.put_object(
                Bucket=self.bucket,
                Key=record_key(alert, record.destination),
                Body=json_lines_gz([asdict(record)]),
                ContentType="application/json",
                ContentEncoding="gzip",
            )
        except Exception:
            logger.exception(
                "delivery record for %s -> %s not written", record.p_alert_id, record.destination
            )
