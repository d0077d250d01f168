"""The simulated tenant's data: every version of every record, and when each became visible.

Wiz shows a record some time after its timestamp (ingestion lag), and issues/findings change
status over time (a new version with a later ``statusChangedAt`` / ``updatedAt``). The store
keeps each version with its own ``visible_at``; the API serves, per record id, the newest
version visible at the request's time. ``records()`` is the ground truth completeness tests
compare the poller's archive with.

The clock is expected to move forwards; if it moves backwards the visible set is rebuilt.
"""

from __future__ import annotations

import heapq
import random
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, DETECTIONS, ISSUES, VULNERABILITY_FINDING
from wizwatch_tools.simulator.datagen import actors, audit, configuration, issues, vulnerabilities
from wizwatch_tools.simulator.defend_store import DefendRecords, public_detection
from wizwatch_tools.simulator.schema import format_datetime, parse_datetime

Clock = Callable[[], datetime]

LOG_TYPES = (AUDIT, ISSUES, VULNERABILITY_FINDING, CLOUD_CONFIGURATION_FINDING, DETECTIONS)

#: The node field each log type is windowed on (the poller's delta field).
TIME_FIELD = {
    AUDIT: "timestamp",
    ISSUES: "statusChangedAt",
    VULNERABILITY_FINDING: "updatedAt",
    DETECTIONS: "updatedAt",
    # A re-assessment moves only analyzedAt: a new version with the same updatedAt.
    CLOUD_CONFIGURATION_FINDING: "updatedAt",
}
#: Date fields a filter can name, per log type: filter key -> node field.
DATE_FILTERS = {
    AUDIT: {"timestamp": "timestamp"},
    ISSUES: {"statusChangedAt": "statusChangedAt", "createdAt": "createdAt", "resolvedAt": "resolvedAt"},
    VULNERABILITY_FINDING: {
        "updatedAt": "updatedAt",
        "firstSeenAt": "firstDetectedAt",
        "resolvedAt": "resolvedAt",
    },
    DETECTIONS: {"updatedAt": "updatedAt", "createdAt": "createdAt"},
    CLOUD_CONFIGURATION_FINDING: {
        "updatedAt": "updatedAt",
        "analyzedAt": "analyzedAt",
        "firstSeenAt": "firstSeenAt",
    },
}

#: Events per hour of the traffic generator (``seed_history`` / ``generate``).
DEFAULT_RATES: dict[str, float] = {
    "audit": 240.0,
    "integration_change": 1 / 3,  # SUCCESS Update/DeleteIntegration: Wiz.Integration.Updated.Or.Deleted
    "revoke_sessions": 1 / 4,  # SUCCESS RevokeUserSessions: Wiz.Revoke.User.Sessions
    "near_miss": 1 / 3,  # the same actions FAILED / ACCESS_DENIED: must not alert
    "issue": 6.0,
    "issue_change": 4.0,
    "finding": 20.0,
    "finding_change": 8.0,
    "detection": 3.0,  # Wiz Defend detections (some later updated: linked to a threat)
    "detection_update": 1.0,
    "config_finding": 20.0,
    "config_change": 8.0,
    "config_reanalysis": 30.0,  # a re-assessment with the same outcome: only analyzedAt moves
}

_NEXT_ISSUE_STATUS = {
    "OPEN": (("IN_PROGRESS", 4), ("RESOLVED", 4), ("REJECTED", 1)),
    "IN_PROGRESS": (("RESOLVED", 5), ("OPEN", 1)),
    "RESOLVED": (("OPEN", 1),),
    "REJECTED": (("OPEN", 1),),
}
_NEXT_CONFIG_STATUS = {
    "OPEN": (("RESOLVED", 6), ("IN_PROGRESS", 1), ("REJECTED", 1)),
    "IN_PROGRESS": (("RESOLVED", 3), ("OPEN", 1)),
    "RESOLVED": (("OPEN", 1),),  # the misconfiguration came back
    "REJECTED": (("OPEN", 1),),
}
_NEXT_FINDING_STATUS = {
    "OPEN": (("RESOLVED", 6), ("IN_PROGRESS", 1), ("REJECTED", 1)),
    "IN_PROGRESS": (("RESOLVED", 1),),
    "RESOLVED": (("OPEN", 1),),
    "REJECTED": (("OPEN", 1),),
}


#: How far back a request's clock may be behind the last one before the visible set is rebuilt.
_CLOCK_JITTER = timedelta(seconds=1)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return parse_datetime(value)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
    return value.astimezone(UTC)


def _public(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deep copies as the API shows them (the union's ``__typename`` is only a type tag here)."""
    out: list[dict[str, Any]] = orjson.loads(orjson.dumps(records))
    for rec in out:
        asset = rec.get("vulnerableAsset")
        if isinstance(asset, dict):
            asset.pop("__typename", None)
        for key in [k for k in rec if k.startswith("_")]:
            del rec[key]  # private to the simulator (e.g. what only a webhook carries)
        public_detection(rec)
    return out


@dataclass(slots=True)
class Version:
    """One version of a record as the API would serve it, and from when it is visible."""

    record: dict[str, Any]
    rid: str
    time: datetime
    visible_at: datetime
    seq: int
    dates: dict[str, datetime | None] = field(default_factory=dict)

    def newer_than(self, other: Version) -> bool:
        return (self.time, self.seq) > (other.time, other.seq)


class _Table:
    """All versions of one log type, plus the set visible at ``applied_at``."""

    def __init__(self, log_type: str) -> None:
        self.log_type = log_type
        self.time_field = TIME_FIELD[log_type]
        self.date_fields = DATE_FILTERS[log_type]
        self.versions: list[Version] = []
        self.latest: dict[str, Version] = {}
        self.visible: dict[str, Version] = {}
        self.pending: list[tuple[datetime, int, Version]] = []
        self.applied_at: datetime | None = None
        self.generation = 0  # bumped whenever what the API serves changes

    def add(self, version: Version) -> None:
        self.versions.append(version)
        cur = self.latest.get(version.rid)
        if cur is None or version.newer_than(cur):
            self.latest[version.rid] = version
        heapq.heappush(self.pending, (version.visible_at, version.seq, version))

    def advance(self, now: datetime) -> None:
        if self.applied_at is not None and now < self.applied_at:
            # Concurrent requests read the clock a hair apart: serving one of them a few
            # milliseconds "ahead" is harmless; a clock really set back rebuilds the view.
            if self.applied_at - now > _CLOCK_JITTER:
                self._rebuild(now)
            return
        self.applied_at = now
        changed = False
        while self.pending and self.pending[0][0] <= now:
            _, _, version = heapq.heappop(self.pending)
            cur = self.visible.get(version.rid)
            if cur is None or version.newer_than(cur):
                self.visible[version.rid] = version
                changed = True
        if changed:
            self.generation += 1

    def _rebuild(self, now: datetime) -> None:
        self.visible = {}
        self.pending = []
        self.applied_at = None
        for version in self.versions:
            heapq.heappush(self.pending, (version.visible_at, version.seq, version))
        self.generation += 1
        self.advance(now)


class _Stream:
    """One Poisson event stream of the generator, with its own random source."""

    def __init__(self, name: str, seed: int, rate_per_hour: float, start: datetime) -> None:
        self.name = name
        self.rng = random.Random(f"{seed}:{name}")
        self.rate = rate_per_hour
        self.next_time = self._step(start)

    def _step(self, after: datetime) -> datetime:
        if self.rate <= 0:
            return datetime.max.replace(tzinfo=UTC)
        gap = self.rng.expovariate(self.rate / 3600.0)
        return after + timedelta(microseconds=max(1, int(gap * 1_000_000)))

    def advance(self) -> None:
        self.next_time = self._step(self.next_time)


class RecordStore(DefendRecords):
    """The tenant's audit log, issues and findings, deterministic for a seed."""

    def __init__(self, seed: int = 0, clock: Clock | None = None, default_delay_seconds: float = 0.0) -> None:
        self.seed = seed
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.default_delay_seconds = default_delay_seconds
        self.rates = dict(DEFAULT_RATES)
        self._lock = threading.RLock()
        self._tables = {lt: _Table(lt) for lt in LOG_TYPES}
        self._seq = 0
        self._rng = random.Random(f"{seed}:manual")
        self.actors = actors.Actors(random.Random(f"{seed}:actors"))
        self._streams: list[_Stream] | None = None
        self._generated_until: datetime | None = None
        self._cache: dict[Hashable, tuple[int, list[Version]]] = {}

    # --- adding data ---------------------------------------------------------------------

    def _delay(self, rng: random.Random) -> float:
        """Ingestion lag: mostly seconds, sometimes minutes (records that show up late)."""
        roll = rng.random()
        if roll < 0.85:
            return rng.uniform(0, 20)
        if roll < 0.97:
            return rng.uniform(20, 180)
        return rng.uniform(300, 1200)

    def _put(
        self,
        log_type: str,
        record: dict[str, Any],
        visible_at: datetime | str | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        table = self._tables[log_type]
        dates: dict[str, datetime | None] = {}
        for node_field in table.date_fields.values():
            raw = record.get(node_field)
            dates[node_field] = _utc(raw) if raw else None
        time = dates[table.time_field]
        if time is None:
            raise ValueError(f"{log_type} record without {table.time_field}: {record.get('id')}")
        if visible_at is not None:
            shown = _utc(visible_at)
        else:
            shown = time + timedelta(seconds=self.default_delay_seconds if delay is None else delay)
        with self._lock:
            self._seq += 1
            table.add(Version(record, str(record["id"]), time, shown, self._seq, dates))
        return record

    @staticmethod
    def _copy(record: dict[str, Any]) -> dict[str, Any]:
        """A caller's copy: stored versions are immutable (the API caches their JSON)."""
        return _public([record])[0]

    @staticmethod
    def _ts(value: Any) -> str:
        return format_datetime(_utc(value)) if isinstance(value, datetime) else str(value)

    def add_audit(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one audit entry; unspecified fields are drawn realistically. Returns the record."""
        ts = _utc(fields.pop("timestamp", None) or self.clock())
        record = audit.audit_entry(
            self._rng, self.actors, ts, fields.pop("action", None), fields.pop("status", None)
        )
        record.update(fields)
        return self._copy(self._put(AUDIT, record, visible_at, delay))

    def add_issue(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one issue (a new record, or a new version when ``id`` is reused)."""
        created = _utc(fields.get("createdAt") or fields.get("statusChangedAt") or self.clock())
        record = issues.issue(self._rng, created, fields.get("status", "OPEN"))
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        record.setdefault("statusChangedAt", record["createdAt"])
        return self._copy(self._put(ISSUES, record, visible_at, delay))

    def add_finding(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one vulnerability finding (a new version when ``id`` is reused)."""
        detected = _utc(fields.get("firstDetectedAt") or fields.get("updatedAt") or self.clock())
        record = vulnerabilities.finding(self._rng, detected, fields.get("status", "OPEN"))
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        return self._copy(self._put(VULNERABILITY_FINDING, record, visible_at, delay))

    def add_configuration_finding(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one cloud configuration finding (a new version when ``id`` is reused)."""
        seen = _utc(fields.get("firstSeenAt") or fields.get("analyzedAt") or self.clock())
        record = configuration.configuration_finding(
            self._rng, seen, fields.get("status"), fields.get("result"), fields.pop("rule", None)
        )
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        return self._copy(self._put(CLOUD_CONFIGURATION_FINDING, record, visible_at, delay))

    def reanalyze(
        self, record_id: str, at: datetime | str | None = None, *, delay: float | None = None
    ) -> dict[str, Any]:
        """Wiz assessed a configuration finding again with the same outcome: analyzedAt moves."""
        when = _utc(at or self.clock())
        with self._lock:
            current = self._tables[CLOUD_CONFIGURATION_FINDING].latest.get(record_id)
            if current is None:
                raise KeyError(f"no {CLOUD_CONFIGURATION_FINDING} record {record_id!r}")
            record = orjson.loads(orjson.dumps(current.record))
        record["analyzedAt"] = format_datetime(when)
        shown = when + timedelta(seconds=self.default_delay_seconds if delay is None else delay)
        return self._copy(self._put(CLOUD_CONFIGURATION_FINDING, record, visible_at=shown))

    def change_status(
        self,
        log_type: str,
        record_id: str,
        status: str,
        at: datetime | str | None = None,
        *,
        visible_at: datetime | str | None = None,
        delay: float | None = None,
    ) -> dict[str, Any]:
        """A new version of an issue/finding in ``status``, bumping its delta field to ``at``."""
        if log_type not in (ISSUES, VULNERABILITY_FINDING, CLOUD_CONFIGURATION_FINDING):
            raise ValueError(f"only issues and findings change status, not {log_type}")
        when = _utc(at or self.clock())
        with self._lock:
            current = self._tables[log_type].latest.get(record_id)
            if current is None:
                raise KeyError(f"no {log_type} record {record_id!r}")
            record = orjson.loads(orjson.dumps(current.record))
        ts = format_datetime(when)
        record["status"] = status
        record["updatedAt"] = ts
        if log_type == CLOUD_CONFIGURATION_FINDING:
            # Wiz's configuration findings carry no resolvedAt: the new assessment says it all.
            record["analyzedAt"] = ts
            if status in ("OPEN", "RESOLVED"):
                record["result"] = "FAIL" if status == "OPEN" else "PASS"
            return self._copy(self._put(log_type, record, visible_at, delay))
        record["resolvedAt"] = ts if status == "RESOLVED" else None
        if log_type == ISSUES:
            record["statusChangedAt"] = ts
        else:
            record["resolutionReason"] = "Fixed" if status == "RESOLVED" else None
        return self._copy(self._put(log_type, record, visible_at, delay))

    def new_id(self) -> str:
        """A UUID from the store's deterministic random source."""
        with self._lock:
            return actors.rand_uuid(self._rng)

    # --- the traffic generator -------------------------------------------------------------

    def seed_history(self, now: datetime, hours: float = 24.0, rates: dict[str, float] | None = None) -> int:
        """Generate realistic traffic for ``hours`` before ``now`` (incl. seed-rule matches)."""
        now = _utc(now)
        if rates:
            self.rates.update(rates)
        start = now - timedelta(hours=hours)
        # Issues and findings that already existed before the window, so changes have targets.
        rng = random.Random(f"{self.seed}:backlog")
        for _ in range(max(5, int(self.rates["issue"] * 4))):
            self.add_issue(createdAt=start - timedelta(hours=rng.uniform(1, 24 * 30)), delay=0)
        for _ in range(max(5, int(self.rates["finding"] * 4))):
            self.add_finding(firstDetectedAt=start - timedelta(hours=rng.uniform(1, 24 * 30)), delay=0)
        for _ in range(max(5, int(self.rates["config_finding"] * 4))):
            self.add_configuration_finding(
                firstSeenAt=start - timedelta(hours=rng.uniform(1, 24 * 30)), delay=0
            )
        with self._lock:
            self._streams = [_Stream(name, self.seed, rate, start) for name, rate in self.rates.items()]
            self._generated_until = start
        added = self.generate(now)
        # Guarantee at least one match of each seed rule, whatever the rates and span.
        hits = {
            a["action"]
            for a in self.records(AUDIT, start, now, visible_only=False)
            if a["status"] == "SUCCESS"
        }
        mid = start + (now - start) / 2
        if not hits & set(audit.INTEGRATION_ACTIONS):
            self.add_audit(action="DeleteIntegration", status="SUCCESS", timestamp=mid, delay=5)
            added += 1
        if audit.REVOKE_ACTION not in hits:
            self.add_audit(action=audit.REVOKE_ACTION, status="SUCCESS", timestamp=mid, delay=5)
            added += 1
        added += self._seed_detections(start, now)
        return added

    def generate(self, until: datetime) -> int:
        """Add the generator's events up to ``until`` (a no-op before ``seed_history`` or twice)."""
        until = _utc(until)
        with self._lock:
            if self._streams is None:
                self._streams = [_Stream(n, self.seed, r, until) for n, r in self.rates.items()]
                self._generated_until = until
                return 0
            count = 0
            while True:
                stream = min(self._streams, key=lambda s: s.next_time)
                if stream.next_time > until:
                    break
                count += self._emit(stream, stream.next_time)
                stream.advance()
            self._generated_until = max(self._generated_until or until, until)
            return count

    def _emit(self, stream: _Stream, at: datetime) -> int:
        rng = stream.rng
        delay = self._delay(rng)
        name = stream.name
        if name == "audit":
            record = audit.audit_entry(rng, self.actors, at)
        elif name == "integration_change":
            record = audit.audit_entry(rng, self.actors, at, rng.choice(audit.INTEGRATION_ACTIONS), "SUCCESS")
        elif name == "revoke_sessions":
            record = audit.audit_entry(rng, self.actors, at, audit.REVOKE_ACTION, "SUCCESS")
        elif name == "near_miss":
            action = rng.choice([*audit.INTEGRATION_ACTIONS, audit.REVOKE_ACTION, "CreateIntegration"])
            status = "SUCCESS" if action == "CreateIntegration" else rng.choice(["FAILED", "ACCESS_DENIED"])
            record = audit.audit_entry(rng, self.actors, at, action, status)
        elif name == "issue":
            self._put(ISSUES, issues.issue(rng, at), delay=delay)
            return 1
        elif name == "finding":
            self._put(VULNERABILITY_FINDING, vulnerabilities.finding(rng, at), delay=delay)
            return 1
        elif name == "config_finding":
            self._put(CLOUD_CONFIGURATION_FINDING, configuration.configuration_finding(rng, at), delay=delay)
            return 1
        elif name == "config_reanalysis":
            table = self._tables[CLOUD_CONFIGURATION_FINDING]
            if not table.latest:
                return 0
            ids = list(table.latest)
            self.reanalyze(ids[rng.randrange(len(ids))], at, delay=delay)
            return 1
        elif name.startswith("detection"):
            return self._emit_detection(name, rng, at, delay)
        else:
            log_type = {
                "issue_change": ISSUES,
                "finding_change": VULNERABILITY_FINDING,
                "config_change": CLOUD_CONFIGURATION_FINDING,
            }[name]
            return self._random_change(log_type, rng, at, delay)
        self._put(AUDIT, record, delay=delay)
        return 1

    def _random_latest(self, log_type: str, rng: random.Random, at: datetime) -> Version | None:
        """A random record's newest version, if it is older than ``at`` (a change can follow it)."""
        table = self._tables[log_type]
        if not table.latest:
            return None
        ids = list(table.latest)
        current = table.latest[ids[rng.randrange(len(ids))]]
        return current if current.time < at else None

    def _random_change(self, log_type: str, rng: random.Random, at: datetime, delay: float) -> int:
        current = self._random_latest(log_type, rng, at)
        if current is None:
            return 0
        options = {
            ISSUES: _NEXT_ISSUE_STATUS,
            VULNERABILITY_FINDING: _NEXT_FINDING_STATUS,
            CLOUD_CONFIGURATION_FINDING: _NEXT_CONFIG_STATUS,
        }[log_type][current.record["status"]]
        status = rng.choices([s for s, _ in options], [w for _, w in options])[0]
        self.change_status(log_type, current.rid, status, at, delay=delay)
        return 1

    # --- reading ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return _utc(self.clock())

    def served(
        self,
        log_type: str,
        key: Hashable,
        predicate: Callable[[Version], bool],
        sort_key: Callable[[Version], Any],
        now: datetime | None = None,
    ) -> list[Version]:
        """The versions the API serves at ``now`` that match, sorted; cached per (key, data)."""
        with self._lock:
            table = self._tables[log_type]
            table.advance(now or self.now())
            cached = self._cache.get((log_type, key))
            if cached is not None and cached[0] == table.generation:
                return cached[1]
            result = sorted((v for v in table.visible.values() if predicate(v)), key=sort_key)
            if len(self._cache) > 256:
                self._cache.clear()
            self._cache[(log_type, key)] = (table.generation, result)
            return result

    def records(
        self,
        log_type: str,
        start: datetime | str | None = None,
        end: datetime | str | None = None,
        visible_only: bool = True,
        now: datetime | None = None,
        time_field: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ground truth: the current version of each record whose delta time is in [start, end).

        ``visible_only`` limits it to what the API shows at ``now`` (default: the clock); without
        it every record counts, including late ones not visible yet. ``time_field`` windows on
        another date field than the log type's delta field. Newest first. Copies.
        """
        lo = _utc(start) if start is not None else None
        hi = _utc(end) if end is not None else None
        with self._lock:
            table = self._tables[log_type]
            if visible_only:
                table.advance(now or self.now())
                chosen: Iterable[Version] = list(table.visible.values())
            else:
                chosen = list(table.latest.values())

            def at(v: Version) -> datetime | None:
                return v.time if time_field is None else v.dates.get(time_field)

            picked = [
                v
                for v in chosen
                if (t := at(v)) is not None and (lo is None or t >= lo) and (hi is None or t < hi)
            ]
        picked.sort(key=lambda v: (v.time, v.rid), reverse=True)
        return _public([v.record for v in picked])

    def count(self, log_type: str) -> int:
        """How many distinct records (ids) exist, visible or not."""
        with self._lock:
            return len(self._tables[log_type].latest)
