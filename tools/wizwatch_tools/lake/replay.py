"""``wizwatch replay``'s engine: the detector's production path over archived pages.

Each page goes through :meth:`wizwatch.alerts.detector.Detector.process`, the code the Lambda
runs (parse, normalise, every rule, dedup windows and thresholds in the dedup store, matches and
alert rendering), with the in-memory clients of :mod:`memaws` instead of AWS: nothing is
published, no live table is written, each replay has its own private dedup store.

Pages are processed in time order, and the detector's clock (``wizwatch.alerts.clock.now``, the
only "now" of the detector and its store) is set to each page's time, so dedup windows and
thresholds are measured in that time instead of the replay's own:

* ``event`` (default): when the page's events happened. A polled page's time is the end of the
  poll window its key names (every record in it was indexed by then: what a poller running
  continuously would have fetched); a pushed body's is when it was received (S3's LastModified,
  a file's mtime). This answers "what would these rules have fired, had they run all along".
* ``archive``: when the page was archived (the poller's ``request-time`` / the webhook's
  ``received-at`` metadata, else LastModified). The live detector processes a page seconds after
  it is archived, so this reproduces what the deployed pipeline did, also for a backfill (a
  first poll reaching back a day archives a day of events at once: processing time, which dedup
  windows use live, is then the same for all of them).

Memory stays flat: pages are listed (keys only), then fetched a few at a time as they are
processed; the dedup store holds what DynamoDB would (its expired items are swept as TTL would).
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson

from wizwatch.alerts import clock
from wizwatch.alerts.handler import assemble
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.archive.keys import MATCHES_PREFIX, RAW_PREFIX, parse_raw_key
from wizwatch.dedup.model import RULE, RULE_ERROR
from wizwatch.detect.engine import Engine
from wizwatch.logtypes import ALL_LOG_TYPES
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS
from wizwatch_tools.lake.sources import Archive

CLOCKS = ("event", "archive")
BUCKET = "wizwatch-replay"
TABLE = "wizwatch-replay-dedup"
QUEUE_URL = "https://sqs.replay.invalid/000000000000/alerts"
#: Replay time between two sweeps of expired dedup items (DynamoDB's TTL, played).
SWEEP_EVERY_S = 3600


@dataclass(frozen=True)
class PageRef:
    """One raw object to replay, with the times it can be replayed at."""

    key: str
    log_type: str
    event_time: datetime
    archived: datetime
    polled: bool

    def order(self, clock_kind: str) -> tuple[datetime, str]:
        return (self.event_time if clock_kind == "event" else self.archived, self.key)


def _metadata_time(meta: dict[str, str]) -> datetime | None:
    for name in ("request-time", "received-at"):
        value = meta.get(name)
        if value:
            try:
                t = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return t if t.tzinfo else t.replace(tzinfo=UTC)
    return None


def list_pages(
    archive: Archive,
    *,
    log_types: list[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    clock_kind: str = "event",
) -> list[PageRef]:
    """Every raw object of the chosen log types whose ``dt`` is within [start, end], in replay order."""
    wanted = log_types or [lt for lt in archive.folders(RAW_PREFIX) if lt in ALL_LOG_TYPES]
    pages: list[PageRef] = []
    for log_type in wanted:
        prefix = f"{RAW_PREFIX}{log_type}/"
        for folder in archive.folders(prefix):
            try:
                day = date.fromisoformat(folder.removeprefix("dt="))
            except ValueError:
                continue
            if (start and day < start) or (end and day > end):
                continue
            for info in archive.objects(f"{prefix}{folder}/"):
                try:
                    raw = parse_raw_key(info.key)
                except ValueError:  # a pushed body: keyed by its digest, timed by its arrival
                    pages.append(PageRef(info.key, log_type, info.last_modified, info.last_modified, False))
                    continue
                pages.append(PageRef(info.key, log_type, raw.window_end, info.last_modified, True))
    pages.sort(key=lambda p: p.order(clock_kind))
    return pages


@dataclass
class Tally:
    """What one replay found (the contract's JSON, plus per-rule matched events)."""

    pages: int = 0
    events: int = 0
    invalid: int = 0
    alerts: Counter[str] = field(default_factory=Counter)
    rule_errors: Counter[str] = field(default_factory=Counter)  # events a rule raised on (once each)
    error_alerts: Counter[str] = field(default_factory=Counter)
    matches: Counter[str] = field(default_factory=Counter)  # matched events (once each)
    alert_ids: dict[str, set[str]] = field(default_factory=dict)  # rule -> RULE alert ids

    def summary(self) -> dict[str, Any]:
        return {
            "pages": self.pages,
            "events": self.events,
            "invalid": self.invalid,
            "alerts": dict(sorted(self.alerts.items())),
            "rule_errors": dict(sorted(self.rule_errors.items())),
        }


class Replayer:
    """One rules tree, its own detector, dedup store and in-memory clients."""

    def __init__(self, engine: Engine, *, idempotency_ttl_s: int = 14 * 86_400) -> None:
        self.tally = Tally()
        self._swept_at = 0
        self.dynamodb = MemoryDynamoDB({TABLE: ("pk", "sk")})
        self.s3 = MemoryS3(on_put=self._kept)
        self.sqs = MemorySQS(on_message=self._queued)
        self.detector = assemble(
            engine,
            dynamodb=self.dynamodb,
            s3=self.s3,
            sqs=self.sqs,
            table=TABLE,
            alert_queue_url=QUEUE_URL,
            kept_bucket=BUCKET,
            idempotency_ttl_s=idempotency_ttl_s,
        )

    def _kept(self, bucket: str, key: str, body: bytes, metadata: dict[str, str]) -> None:
        if not key.startswith(MATCHES_PREFIX):
            return  # lake/ and quarantine/ copies: written by the detector, dropped here
        for line in gzip.decompress(body).splitlines():
            row = orjson.loads(line)
            rule = str(row.get("p_rule_id"))
            if row.get("p_alert_type") == RULE_ERROR:
                self.tally.rule_errors[rule] += 1
            else:
                self.tally.matches[rule] += 1

    def _queued(self, queue_url: str, body: str) -> None:
        alert = orjson.loads(body)
        rule = str(alert.get("rule_id"))
        if alert.get("alert_type") == RULE:
            self.tally.alerts[rule] += 1
            self.tally.alert_ids.setdefault(rule, set()).add(str(alert.get("alert_id")))
        else:
            self.tally.error_alerts[rule] += 1

    def process(self, key: str, body: bytes, metadata: dict[str, str]) -> None:
        self.s3.serve(BUCKET, key, body, metadata)
        try:
            report = self.detector.process(ObjectRef(BUCKET, key))
        finally:
            self.s3.forget(BUCKET, key)
        self.tally.pages += 1
        self.tally.events += report.events
        self.tally.invalid += report.quarantined
        now_s = int(clock.now().timestamp())
        if now_s - self._swept_at >= SWEEP_EVERY_S:
            self._swept_at = now_s
            self.dynamodb.expire(now_s)


class _Clock:
    """Replaces ``wizwatch.alerts.clock.now`` while a replay runs; restores it after."""

    def __init__(self) -> None:
        self.at = datetime.now(UTC)
        self._saved: Callable[[], datetime] | None = None

    def __enter__(self) -> _Clock:
        self._saved = clock.now
        clock.now = lambda: self.at
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._saved is not None
        clock.now = self._saved


def load_engine(rules: str | Path) -> Engine:
    """The rules of a tree (RuleLoadError lists every broken rule)."""
    return Engine.from_directory(rules)


def replay(
    archive: Archive,
    pages: list[PageRef],
    replayers: list[Replayer],
    *,
    clock_kind: str = "event",
    progress: Callable[[PageRef], None] | None = None,
    workers: int = 8,
) -> Iterator[PageRef]:
    """Feed every page, in order, to every replayer (each page is read once); yields each page done."""
    if clock_kind not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}")
    by_key = {p.key: p for p in pages}
    if archive.is_local:
        workers = 1  # reading a file is quicker than handing it over between threads
    with _Clock() as fake:
        for key, body, meta in archive.get_many([p.key for p in pages], workers=workers):
            page = by_key[key]
            if clock_kind == "event":
                fake.at = page.event_time
            else:
                fake.at = (_metadata_time(meta) if page.polled or meta else None) or page.archived
            for r in replayers:
                r.process(key, body, meta)
            if progress is not None:
                progress(page)
            yield page


def run_all(archive: Archive, pages: list[PageRef], replayers: list[Replayer], **kwargs: Any) -> None:
    for _ in replay(archive, pages, replayers, **kwargs):
        pass
