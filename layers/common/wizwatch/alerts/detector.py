"""The detector: one archived page in, matches kept, windows counted, alerts queued.

Per object: read -> parse -> normalise -> evaluate every rule -> group hits by (rule, dedup) ->
one dedup-store call (counts each event once, decides which alerts to send) -> matches/ and
quarantine/ written -> alerts queued -> outbox cleared. Every step is safe to repeat, so a failed
object is simply retried by SQS (and ends in the dead-letter queue if it keeps failing).

One bad record never costs another: a record that is not JSON, does not fit its schema, or makes
normalisation fail in any way is quarantined on its own (index, reason, the record or its raw
text) while every other record is evaluated (``wizwatch.parse.pages``); rendering degrades one
event's copy, never the page (``wizwatch.render``). Only an object that is not a page at all
(corrupt gzip, over ``MAX_PAGE_MB`` inflated, no ``data``) is quarantined whole.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from wizwatch import metric_names as mn
from wizwatch.alerts import clock, rule_health
from wizwatch.alerts.correlate import Correlator
from wizwatch.alerts.groups import AlertGroups, Collect
from wizwatch.alerts.message import MAX_EVENTS
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.alerts.queue import send_alerts
from wizwatch.alerts.routing import Router
from wizwatch.archive import kept, lake
from wizwatch.archive.keys import RAW_PREFIX, is_pushed_key, log_type_of
from wizwatch.archive.reader import read_raw
from wizwatch.dedup.model import RULE, RULE_ERROR, GroupKey, Hit
from wizwatch.dedup.store import DedupStore
from wizwatch.errors import InvalidPage, InvalidRecord
from wizwatch.logs import logger
from wizwatch.parse.identity import event_identity
from wizwatch.parse.inflate import DEFAULT_MAX_INFLATED_BYTES
from wizwatch.parse.pages import Page, UnreadableRecord, read_page, read_records
from wizwatch.render import dumps_row

if TYPE_CHECKING:
    from wizwatch.parse.normalize import Normalizer


class RuleEngine(Protocol):
    def evaluate(self, log_type: str, event: dict[str, Any]) -> list[Any]: ...


def rfc3339(panther_time: str | None) -> str | None:
    """``2026-11-22 10:00:00.123456789`` (Panther's stored form) -> ``2026-11-22T10:00:00.123Z``."""
    if not panther_time:
        return None
    t = panther_time
    if len(t) >= 19 and t[10] in " T":
        frac = t[20:23] if len(t) > 20 and t[19] == "." else "000"
        return f"{t[:10]}T{t[11:19]}.{frac.ljust(3, '0')}Z"
    return t


@dataclass
class ObjectReport:
    """What happened to one object (for logs, tests and the benchmark)."""

    key: str
    events: int = 0
    matches: int = 0  # hits evaluated in this object, re-reads included
    rule_errors: int = 0
    counted_matches: int = 0  # hits counted for the first time (what the metrics report)
    counted_rule_errors: int = 0
    quarantined: int = 0
    repaired: int = 0  # records evaluated after a repair (p_parse_repairs)
    duplicates: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    skipped: str | None = None


class Detector:
    """Processes objects; one per warm container (clients, engine and store are reused)."""

    def __init__(
        self,
        engine: RuleEngine,
        store: DedupStore,
        *,
        s3: Any,
        sqs: Any,
        alert_queue_url: str,
        kept_bucket: str = "",
        metrics: MetricCounts | None = None,
        correlator: Correlator | None = None,
        max_page_bytes: int = DEFAULT_MAX_INFLATED_BYTES,
        router: Router | None = None,
    ) -> None:
        self.engine = engine
        self.correlator = correlator
        self.store = store
        self.s3 = s3
        self.sqs = sqs
        self.alert_queue_url = alert_queue_url
        self.kept_bucket = kept_bucket
        self.metrics = metrics or MetricCounts()
        self.max_page_bytes = max_page_bytes
        self.router = router
        self.groups = AlertGroups(router=router, kept_bucket=kept_bucket)
        self.s3_requests = 0
        self.sqs_requests = 0

    # ------------------------------------------------------------------ evaluation

    def _evaluate(
        self,
        ref: ObjectRef,
        log_type: str,
        records: list[Any],
        report: ObjectReport,
        parse_time: str,
        events: list[dict[str, Any]],
    ) -> tuple[dict[GroupKey, Collect], list[dict[str, Any]]]:
        identities, work = _identities(log_type, records)
        # One call for the page: row ids taken in one go, records normalised in place (the page
        # is ours; a record that fails is left as it came, so its quarantine line is the original).
        normalized, invalid = _normalizer(log_type).normalize_page(work, parse_time)
        groups: dict[GroupKey, Collect] = {}
        bad: list[dict[str, Any]] = []
        evaluate = self.engine.evaluate
        keep = events.append
        for index, event in enumerate(normalized):
            if event is None:
                bad.append(_quarantine_row(index, records[index], InvalidRecord(invalid[index]), ref.uri))
                continue
            identity = identities[index]
            if not isinstance(identity, str):
                bad.append(_quarantine_row(index, records[index], identity, ref.uri))
                continue
            keep(event)
            for result in evaluate(log_type, event):
                rule = result.rule
                if result.error is not None:
                    report.rule_errors += 1
                    dedup = result.dedup or f"{rule.rule_id}:{result.error.type}"
                    key = GroupKey(RULE_ERROR, rule.rule_id, dedup)
                elif result.matched:
                    if self.correlator is not None:
                        self.correlator.observe(result, event, identity, ref.uri)
                    if not rule.create_alert:
                        continue  # CreateAlert: false — a signal for correlation rules only
                    report.matches += 1
                    key = GroupKey(RULE, rule.rule_id, result.dedup)
                else:
                    continue
                group = groups.get(key)
                if group is None:
                    group = groups[key] = Collect(key=key, first=result)
                group.hits.append(
                    Hit(
                        identity=identity, event_time=rfc3339(event.get("p_event_time")), unique=result.unique
                    )
                )
                if len(group.events) < MAX_EVENTS:
                    group.events.append(event)
                group.rows.append((identity, event))
        report.events += len(normalized) - len(bad)
        return groups, bad

    # ------------------------------------------------------------------ one object

    def process(self, ref: ObjectRef) -> ObjectReport:
        """Everything for one object; raises (so the message is retried) on anything transient."""
        report = ObjectReport(key=ref.key)
        if not ref.key.startswith(RAW_PREFIX):
            report.skipped = "not under raw/ (matches/ and quarantine/ are the detector's own output)"
            logger.warning("skipping %s: %s", ref.uri, report.skipped)
            return report
        log_type = log_type_of(ref.key)  # ValueError: an unknown log type is retried, then DLQ'd
        bucket = self.kept_bucket or ref.bucket
        now: datetime = clock.now()
        today = f"{now:%Y-%m-%d}"
        self.s3_requests += 1
        raw = read_raw(self.s3, ref)
        try:
            page = self._read(ref.key, raw.body)
        except InvalidPage as exc:
            self.s3_requests += 1
            where = kept.quarantine_page(
                self.s3, bucket, ref.bucket, log_type, ref.key, today, str(exc), version_id=ref.version_id
            )
            logger.error("quarantined unreadable page %s -> %s: %s", ref.uri, where, exc)
            report.quarantined = 1
            report.skipped = f"invalid page: {exc}"
            self._count_quarantined(1, log_type)
            return report
        if page.fallback:
            report.repaired = page.repaired
            logger.warning(
                "page %s is not valid JSON as a whole (%s): parsed record by record, "
                "%d unreadable, %d repaired (p_parse_repairs)",
                ref.uri,
                page.fallback,
                page.unreadable,
                page.repaired,
            )
        parse_time = now.strftime("%Y-%m-%d %H:%M:%S.") + f"{now.microsecond:06d}000"
        events: list[dict[str, Any]] = []
        collected, bad = self._evaluate(ref, log_type, page.records, report, parse_time, events)
        for key, result, hit in rule_health.load_error_hits(self.engine, log_type, ref.key):
            collected[key] = Collect(key=key, first=result, hits=[hit])  # a broken rule: alerted
        if self.correlator is not None:
            for key, result, hit, correlated in self.correlator.hits(int(now.timestamp())):
                c = collected.setdefault(key, Collect(key=key, first=result))
                c.hits.append(hit)
                c.events.extend(correlated[: MAX_EVENTS - len(c.events)])
        if bad:
            self.s3_requests += 1
            where = kept.quarantine_records(self.s3, bucket, log_type, ref.key, today, bad)
            logger.warning("quarantined %d records of %s -> %s", len(bad), ref.uri, where)
            report.quarantined = len(bad)

        sources: dict[str, Any] = {}  # rule id -> its alerts' "source" (one per rule and page)
        groups = [self.groups.build(c, ref, log_type, today, sources) for c in collected.values()]
        outcomes = self.store.record(groups, source=ref.key, version_id=ref.version_id)

        rows_by_rule: dict[str, list[dict[str, Any]]] = {}
        for c in collected.values():
            outcome = outcomes[c.key]
            report.duplicates += len(outcome.duplicates)
            if c.key.alert_type == RULE:
                report.counted_matches += len(outcome.counted)
            else:
                report.counted_rule_errors += len(outcome.counted)
            for identity, event in c.rows:
                if not outcome.counted_from(identity, ref.key):
                    continue  # counted (and kept) from another object: an overlapping poll
                rows_by_rule.setdefault(c.key.rule_id, []).append(
                    {
                        **event,
                        "p_alert_id": outcome.alert_id_of(identity),
                        "p_rule_id": c.key.rule_id,
                        "p_alert_type": c.key.alert_type,
                    }
                )
        matched: list[dict[str, Any]] = []
        matched_bodies: list[bytes] = []
        for rule_id, rows in rows_by_rule.items():
            bodies = [dumps_row(row) for row in rows]  # once, for matches/ and lake/alerts/
            self.s3_requests += 1
            kept.write_matches(self.s3, bucket, rule_id, ref.key, today, rows, bodies)
            matched += rows
            matched_bodies += bodies
        self._write_lake(bucket, log_type, ref.key, events, matched, matched_bodies)

        to_send = [alert for c in collected.values() for alert in outcomes[c.key].alerts]
        if to_send:
            self.sqs_requests += send_alerts(self.sqs, self.alert_queue_url, to_send, outcomes.rendered)
        # One receipt for the page's alerts (and, rarely, a window taken over from another object).
        self.store.mark_sent(outcomes.receipt)
        report.alerts = to_send
        self._count(report, log_type)
        return report

    def _write_lake(
        self,
        bucket: str,
        log_type: str,
        raw_key: str,
        events: list[dict[str, Any]],
        matched: list[dict[str, Any]],
        matched_bodies: list[bytes],
    ) -> None:
        """The lake copy (``wizwatch.archive.lake``): every event, and the kept matches again."""
        keys = lake.write(self.s3, bucket, lake.table_of(log_type), raw_key, events)
        keys += lake.write(self.s3, bucket, lake.ALERTS_TABLE, raw_key, matched, matched_bodies)
        self.s3_requests += len(keys)

    def _read(self, key: str, body: bytes) -> Page:
        """The object's records: a webhook body (``raw/<LogType>/dt=.../pushed/<sha256>``: one
        record or an array) in any shape, else a GraphQL page. By key, not log type: Wiz.Detections
        is both pushed and polled."""
        if is_pushed_key(key):
            return read_records(body, self.max_page_bytes)
        return read_page(body, self.max_page_bytes)

    def _count_quarantined(self, n: int, log_type: str) -> None:
        """Per log type (dashboard) and in total, whatever the type (the one alarm watches it)."""
        self.metrics.add(mn.RECORDS_QUARANTINED, n, **{mn.LOG_TYPE: log_type})
        self.metrics.add(mn.RECORDS_QUARANTINED, n)

    def _count(self, report: ObjectReport, log_type: str) -> None:
        dims = {mn.LOG_TYPE: log_type}
        self.metrics.add(mn.EVENTS_PROCESSED, report.events, **dims)
        # Matched events once each: overlapping polls and redeliveries re-read the same events.
        self.metrics.add(mn.RULE_MATCHES, report.counted_matches, **dims)
        self.metrics.add(mn.RULE_ERRORS, report.counted_rule_errors, **dims)
        self._count_quarantined(report.quarantined, log_type)
        for alert in report.alerts:
            self.metrics.add(mn.ALERTS_QUEUED, 1, **{mn.SEVERITY: alert["severity"]})
            self.metrics.add(mn.ALERTS_QUEUED, 1, **{mn.RULE_ID: alert["rule_id"]})


def _quarantine_row(index: int, record: Any, exc: Exception, source: str) -> dict[str, Any]:
    """The quarantine line of a record that cannot be evaluated (see kept.quarantine_records)."""
    if isinstance(exc, InvalidRecord):
        reason = exc.reason
    elif isinstance(exc, ValueError):
        reason = str(exc)
    else:
        reason = f"normalisation failed: {type(exc).__name__}: {exc}"
        logger.error("record %d of %s: %s", index, source, reason, exc_info=exc)
    if isinstance(record, UnreadableRecord):
        return {"index": index, "reason": reason, "record": None, "raw": record.raw, "source": source}
    return {"index": index, "reason": reason, "record": record, "source": source}


@functools.cache
def _normalizer(log_type: str) -> Normalizer:
    """One per log type and process (its schema plan is compiled once; see wizwatch.parse.plan).

    Imported here, not at the top: the schemas are pydantic models, and importing pydantic and
    building them is ~70 ms CPU that the detector's cold start (issue 14) does not need to load
    and validate rules. A container's first page of any type pays it once instead (the
    production-path bench's first pass includes it; the start-up bench reports it apart).
    """
    from wizwatch.parse.normalize import Normalizer

    return Normalizer(log_type)


def _identities(log_type: str, records: list[Any]) -> tuple[list[str | Exception], list[Any]]:
    """Each record's identity (or why it has none), and the records to normalise: the page's own
    list, except that a record without an identity is normalised on a copy (the quarantine line
    keeps the record as it came, as when each event was a copy)."""
    out: list[str | Exception] = []
    work = records
    for index, record in enumerate(records):
        try:
            out.append(event_identity(log_type, record))
        except Exception as exc:  # any failure is this record's alone
            out.append(exc)
            if isinstance(record, dict):
                if work is records:
                    work = list(records)
                work[index] = dict(record)
    return out, work
