"""Archives for the lake tests: raw pages run through the real Detector (in-memory clients), every
object it writes (lake/, matches/, quarantine/) kept in a folder laid out like the bucket."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from detector_fixtures import audit

from wizwatch.alerts import clock
from wizwatch.alerts.detector import Detector
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.archive.keys import raw_key
from wizwatch.dedup.store import DedupStore
from wizwatch.detect.engine import Engine
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

#: The README's "alerts not delivered" examples, verbatim (test_deliveries_posture checks the README).
NOT_DELIVERED = """\
WITH alerted AS (
  SELECT p_alert_id, min(p_event_time) AS first_event, count(*) AS matched_events
  FROM alerts WHERE dt >= '2026-11-01' GROUP BY p_alert_id
)
SELECT d.p_alert_id, d.p_rule_id, a.first_event, a.matched_events, d.destination, d.status,
       d.attempts, d.http_status, d.error, d.updated_at
FROM (SELECT * FROM deliveries WHERE dt >= '2026-11-01') d
LEFT JOIN alerted a ON a.p_alert_id = d.p_alert_id
WHERE d.status <> 'delivered'
ORDER BY a.first_event, d.p_alert_id, d.destination"""
NEVER_RECORDED = """\
SELECT p_rule_id, p_alert_id, min(p_event_time) AS first_event, count(*) AS matched_events
FROM alerts a
WHERE dt >= '2026-11-01'
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.dt >= '2026-11-01' AND d.p_alert_id = a.p_alert_id)
GROUP BY p_rule_id, p_alert_id
ORDER BY first_event"""


def audit_record(
    id_: str, at: datetime, action: str = "DeleteUser", status: str = "SUCCESS", **extra: Any
) -> dict[str, Any]:
    """detector_fixtures.audit at another time."""
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
    return {**audit(id_, action=action, status=status), "timestamp": stamp, **extra}


def graphql_page(records: list[Any], connection: str = "auditLogEntries") -> bytes:
    return gzip.compress(json.dumps({"data": {connection: {"nodes": records}}}).encode())


def audit_key(start: datetime, page: int = 1, minutes: int = 15) -> str:
    return raw_key("Wiz.Audit", start, start + timedelta(minutes=minutes), page)


class ArchiveBuilder:
    """Writes raw pages into ``root`` and runs the detector over each, as the pipeline would."""

    def __init__(self, root: Path, rules: Path) -> None:
        self.root = root
        self.alerts: list[dict[str, Any]] = []
        self.detector = Detector(
            Engine.from_directory(rules),
            DedupStore(MemoryDynamoDB({"dedup": ("pk", "sk")}), "dedup"),
            s3=MemoryS3(on_put=self._write),
            sqs=MemorySQS(on_message=lambda _q, body: self.alerts.append(json.loads(body))),
            alert_queue_url="https://sqs.invalid/alerts",
            kept_bucket="bucket",
        )

    def _write(self, _bucket: str, key: str, body: bytes, _meta: dict[str, str]) -> None:
        path = self.root / key
        if path.exists() and key.startswith("lake/"):
            raise AssertionError(f"two lake writes to {key}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)

    def add(
        self, key: str, body: bytes, *, processed_at: datetime, archived_at: datetime | None = None
    ) -> Any:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        stamp = (archived_at or processed_at).timestamp()
        os.utime(path, (stamp, stamp))
        saved = clock.now
        clock.now = lambda: processed_at  # type: ignore[assignment]
        try:
            s3 = self.detector.s3
            s3.serve("bucket", key, body)
            return self.detector.process(ObjectRef("bucket", key))
        finally:
            clock.now = saved  # type: ignore[assignment]
