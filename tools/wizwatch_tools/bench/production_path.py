"""The detector's production path, timed page by page against the parse floor.

What one page costs is :meth:`wizwatch.alerts.detector.Detector.process` of one S3 notification
(:class:`ObjectRef`): read the object, parse, normalise, every enabled rule, dedup planning and
the dedup store's requests, alert and matches rendering, the lake copy, alerts queued. The
Detector is assembled exactly as the Lambda assembles it (``wizwatch.alerts.handler.assemble``,
correlation rules included), with the in-memory AWS clients of ``wizwatch replay``
(:mod:`wizwatch_tools.lake.memaws`) instead of boto3: no network, no moto, the request shapes and
conditions checked as DynamoDB would.

The floor is what any detector must do with the same bytes: gunzip + JSON parse (orjson, as
production). The process's collector is set as the Lambda's cold start sets it
(:func:`wizwatch.alerts.heap.settle`). Each page is timed floor then detector, alternating, in CPU
time of the process (``time.process_time``), so both see the same machine state.

Passes, each over every page of the type:

* ``first``: a fresh dedup store and the process's first look at the log type (rule indexes,
  normaliser plans and every other cache cold); the pages as the corpus has them.
* ``warm``: the same Detector again (store with its windows open, caches warm) on copies of the
  pages whose records have new ids and whose objects have new keys, so nothing is skipped as a
  duplicate: every event is counted, every marker written, as new traffic would be.
"""

from __future__ import annotations

import gc
import gzip
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from wizwatch.alerts import heap
from wizwatch.alerts.handler import assemble
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.archive.keys import raw_key
from wizwatch.detect.engine import Engine
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"
T0 = datetime(2026, 11, 22, 0, 0, tzinfo=UTC)
BUCKET = "wizwatch-bench"
TABLE = "wizwatch-bench-dedup"
QUEUE_URL = "https://sqs.bench.invalid/000000000000/alerts"
PAGES_PER_WINDOW = 5


def _pages(corpus: Path) -> list[tuple[str, str, bytes]]:
    """(log type, raw key, gzip body) for every corpus page, keyed as the poller would."""
    out = []
    for type_dir in sorted(p for p in corpus.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for n, page in enumerate(sorted(type_dir.glob("page-*.json.gz")), start=1):
            out.append((type_dir.name, page_key(type_dir.name, n, 0), page.read_bytes()))
    return out


def page_key(log_type: str, n: int, generation: int) -> str:
    """The raw key of page ``n`` (1-based) of a pass: windows of 5 pages, a day per generation."""
    start = T0 + timedelta(days=generation, minutes=15 * ((n - 1) // PAGES_PER_WINDOW))
    return raw_key(log_type, start, start + timedelta(minutes=15), (n - 1) % PAGES_PER_WINDOW + 1)


def pass_pages(log_type: str, bodies: list[bytes], generation: int) -> list[tuple[str, bytes]]:
    """(raw key, body) of every page of one pass: the corpus's own pages for generation 0, later
    generations :func:`renewed` (new ids) under keys a day on."""
    return [
        (page_key(log_type, n, generation), b if generation == 0 else renewed(b, generation))
        for n, b in enumerate(bodies, start=1)
    ]


def floor(body: bytes) -> int:
    """gunzip + JSON parse: what any detector does with the bytes. Returns the record count."""
    doc = orjson.loads(gzip.decompress(body))
    return sum(len(conn.get("nodes") or ()) for conn in doc["data"].values() if isinstance(conn, dict))


def _new_id(value: Any, generation: int) -> Any:
    if not isinstance(value, str):
        return value
    if len(value) == 36 and value[8] == "-":  # a UUID stays a UUID
        return f"{generation:08x}{value[8:]}"
    return f"{value}-g{generation}"


def renewed(body: bytes, generation: int) -> bytes:
    """The page with every record's ``id`` replaced by a new one (same shape, same size class):
    new events to the dedup store, identical work for the parser and the rules."""
    doc = orjson.loads(gzip.decompress(body))
    for conn in doc["data"].values():
        for node in conn.get("nodes") or ():
            if isinstance(node, dict) and "id" in node:
                node["id"] = _new_id(node["id"], generation)
    return gzip.compress(orjson.dumps(doc), 6, mtime=0)


@dataclass
class Bench:
    """One Detector with its in-memory clients (a fresh dedup store)."""

    engine: Engine
    dynamodb: Any = None
    s3: MemoryS3 = field(default_factory=MemoryS3)
    sqs: MemorySQS = field(default_factory=MemorySQS)
    detector: Any = None

    def __post_init__(self) -> None:
        if self.dynamodb is None:
            self.dynamodb = MemoryDynamoDB({TABLE: ("pk", "sk")})
        self.detector = assemble(
            self.engine,
            dynamodb=self.dynamodb,
            s3=self.s3,
            sqs=self.sqs,
            table=TABLE,
            alert_queue_url=QUEUE_URL,
            kept_bucket=BUCKET,
            idempotency_ttl_s=14 * 86_400,
        )


@dataclass
class PassTiming:
    events: int = 0
    floor_s: float = 0.0
    detector_s: float = 0.0
    matches: int = 0  # matched events counted (first time), what the WRU figure divides by
    alerts: int = 0
    quarantined: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "events": self.events,
            "floor_s": self.floor_s,
            "detector_s": self.detector_s,
            "matches": self.matches,
            "alerts": self.alerts,
            "quarantined": self.quarantined,
        }


def timed_pass(bench: Bench, pages: list[tuple[str, bytes]]) -> PassTiming:
    """Every page once: floor, then ``Detector.process`` of its notification, CPU time each."""
    for key, body in pages:
        bench.s3.serve(BUCKET, key, body)
    # What is alive before the pass (rules, earlier passes' in-memory DynamoDB items, which in
    # production live in DynamoDB, not in the Lambda's heap) is put out of the collector's reach,
    # so neither the floor nor the detector pays for traversing it. Collection stays on.
    gc.collect()
    gc.freeze()
    try:
        return time_pages(bench, pages)
    finally:
        gc.unfreeze()
        for key, _ in pages:
            bench.s3.forget(BUCKET, key)


def time_pages(bench: Bench, pages: list[tuple[str, bytes]]) -> PassTiming:
    """Floor then ``Detector.process`` of each page (already served), CPU time each, summed."""
    out = PassTiming()
    clock = time.process_time
    for key, body in pages:
        t0 = clock()
        records = floor(body)
        t1 = clock()
        report = bench.detector.process(ObjectRef(BUCKET, key))
        t2 = clock()
        out.floor_s += t1 - t0
        out.detector_s += t2 - t1
        out.events += report.events
        out.matches += report.counted_matches
        out.alerts += len(report.alerts)
        out.quarantined += report.quarantined
        if report.events + report.quarantined != records:
            raise RuntimeError(f"{key}: {records} records, {report.events} evaluated + {report.quarantined}")
    return out


def measure_type(
    log_type: str, bodies: list[bytes], *, warm_passes: int, rules: Path = RULES
) -> dict[str, Any]:
    """One round for one log type: the first pass, then ``warm_passes`` warm ones (same process)."""
    if not bodies:
        raise ValueError(f"no {log_type} pages")
    engine = Engine.from_directory(rules, strict=True)
    bench = Bench(engine)
    heap.settle()  # the collector setting the Lambda's cold start applies (``handler._build``)
    generations = [pass_pages(log_type, bodies, g) for g in range(warm_passes + 1)]
    first = timed_pass(bench, generations[0])
    warm = [timed_pass(bench, pages) for pages in generations[1:]]
    return {"log_type": log_type, "first": first.as_dict(), "warm": [w.as_dict() for w in warm]}


# ---------------------------------------------------------------------------------- workers


def run_worker(args: list[str], what: str, **options: Any) -> dict[str, Any]:
    """Run ``python ARGS`` in a fresh process; its last stdout line, a JSON object, is the result."""
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False, **options)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------- the table


def main(argv: list[str] | None = None) -> int:
    """Worker: ``python -m wizwatch_tools.bench.production_path TYPE CORPUS WARM`` prints one JSON
    line (a fresh process per round, so the first pass really is the first)."""
    from wizwatch_tools.bench.corpus import pages_of

    log_type, corpus, warm = (argv if argv is not None else sys.argv[1:])[:3]
    result = measure_type(log_type, pages_of(Path(corpus), log_type), warm_passes=int(warm))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
