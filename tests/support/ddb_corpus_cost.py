"""DynamoDB WRU/RRU per matched event of the real detector over a corpus, per log type.

    .venv/bin/python tests/support/ddb_corpus_cost.py bench/corpus

Each corpus page is archived under ``raw/`` as the poller keys it and handed to
``Detector.process`` (the production path: parse, normalise, every enabled rule, dedup, alert
rendering and queueing) with memaws's in-memory clients; the dedup table is metered with
:mod:`ddb_capacity` (AWS's documented pricing). Pages of a log type are processed one after the
other, 20 s of clock apart, each type on a fresh table. Prints one JSON object.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from ddb_capacity import Metered

from wizwatch.alerts import clock
from wizwatch.alerts.handler import assemble
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.archive.keys import raw_key
from wizwatch.detect.engine import Engine
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "functions" / "detector" / "rules"
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
BUCKET = "raw-bucket"
TABLE = "dedup"


def measure(corpus: Path, engine: Engine, *, redeliver: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {}
    saved = clock.now
    current = {"t": T0}
    clock.now = lambda: current["t"]
    try:
        for type_dir in sorted(p for p in corpus.iterdir() if p.is_dir()):
            ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
            s3, sqs = MemoryS3(), MemorySQS()
            det = assemble(
                engine,
                dynamodb=ddb,
                s3=s3,
                sqs=sqs,
                table=TABLE,
                alert_queue_url="q",
                kept_bucket=BUCKET,
                idempotency_ttl_s=14 * 86_400,
            )
            matches = alerts = events = 0
            for n, page in enumerate(sorted(type_dir.glob("page-*.json.gz")), start=1):
                start = T0 + timedelta(minutes=15 * ((n - 1) // 5))
                key = raw_key(type_dir.name, start, start + timedelta(minutes=15), (n - 1) % 5 + 1)
                s3.serve(BUCKET, key, page.read_bytes())
                current["t"] = T0 + timedelta(seconds=20 * n)
                report = det.process(ObjectRef(BUCKET, key))
                matches += report.counted_matches
                alerts += len(report.alerts)
                events += report.events
                if redeliver:  # the same notification again: nothing new may be counted
                    again = det.process(ObjectRef(BUCKET, key))
                    assert again.counted_matches == 0 and not again.alerts, key
            usage = ddb.usage
            out[type_dir.name] = {
                "events": events,
                "matched_events": matches,
                "alerts": alerts,
                "wru": usage.wru,
                "rru": usage.rru,
                "items_written": usage.items_written,
                "transactions": usage.transactions,
                "calls": usage.calls,
                "wru_by_item_kind": usage.wru_by_kind,
                "wru_per_matched_event": round(usage.wru / matches, 3) if matches else None,
                "rru_per_matched_event": round(usage.rru / matches, 3) if matches else None,
            }
    finally:
        clock.now = saved
    return out


if __name__ == "__main__":
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "bench" / "corpus")
    result = measure(corpus, Engine.from_directory(RULES), redeliver="--redeliver" in sys.argv)
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")
