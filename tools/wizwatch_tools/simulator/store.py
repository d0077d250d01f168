"""The simulated tenant's data: every version of every record, added by hand or by the generator.

The store adds records (drawn by :mod:`wizwatch_tools.simulator.datagen`, fields overridable) and
status changes as new versions, and reads back what the API serves at a time: per record id, the
newest version visible then (:mod:`wizwatch_tools.simulator.versions`). ``records()`` is the
ground truth completeness tests compare the poller's archive with. The traffic generator
(:mod:`wizwatch_tools.simulator.traffic`) and Wiz Defend's detections
(:mod:`wizwatch_tools.simulator.defend_store`) are mixed in.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, ISSUES, VULNERABILITY_FINDING
from wizwatch_tools.simulator.datagen import actors, audit, configuration, issues, vulnerabilities
from wizwatch_tools.simulator.defend_store import DefendRecords, public_detection
from wizwatch_tools.simulator.timestamps import format_datetime
from wizwatch_tools.simulator.traffic import DEFAULT_RATES, EventStream, TrafficGenerator
from wizwatch_tools.simulator.versions import LOG_TYPES, Version, VersionTable, as_utc

Clock = Callable[[], datetime]


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


class RecordStore(TrafficGenerator, DefendRecords):
    """The tenant's audit log, issues and findings, deterministic for a seed."""

    def __init__(self, seed: int = 0, clock: Clock | None = None, default_delay_seconds: float = 0.0) -> None:
        self.seed = seed
        self.clock: Clock = clock or (lambda: datetime.now(UTC))
        self.default_delay_seconds = default_delay_seconds
        self.rates = dict(DEFAULT_RATES)
        self._lock = threading.RLock()
        self._tables = {lt: VersionTable(lt) for lt in LOG_TYPES}
        self._seq = 0
        self._rng = random.Random(f"{seed}:manual")
        self.actors = actors.Actors(random.Random(f"{seed}:actors"))
        self._streams: list[EventStream] | None = None
        self._generated_until: datetime | None = None
        self._cache: dict[Hashable, tuple[int, list[Version]]] = {}

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
            dates[node_field] = as_utc(raw) if raw else None
        time = dates[table.time_field]
        if time is None:
            raise ValueError(f"{log_type} record without {table.time_field}: {record.get('id')}")
        if visible_at is not None:
            shown = as_utc(visible_at)
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
        return format_datetime(as_utc(value)) if isinstance(value, datetime) else str(value)

    def add_audit(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one audit entry; unspecified fields are drawn realistically. Returns the record."""
        ts = as_utc(fields.pop("timestamp", None) or self.clock())
        record = audit.audit_entry(
            self._rng, self.actors, ts, fields.pop("action", None), fields.pop("status", None)
        )
        record.update(fields)
        return self._copy(self._put(AUDIT, record, visible_at, delay))

    def add_issue(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one issue (a new record, or a new version when ``id`` is reused)."""
        created = as_utc(fields.get("createdAt") or fields.get("statusChangedAt") or self.clock())
        record = issues.issue(self._rng, created, fields.get("status", "OPEN"))
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        record.setdefault("statusChangedAt", record["createdAt"])
        return self._copy(self._put(ISSUES, record, visible_at, delay))

    def add_finding(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one vulnerability finding (a new version when ``id`` is reused)."""
        detected = as_utc(fields.get("firstDetectedAt") or fields.get("updatedAt") or self.clock())
        record = vulnerabilities.finding(self._rng, detected, fields.get("status", "OPEN"))
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        return self._copy(self._put(VULNERABILITY_FINDING, record, visible_at, delay))

    def add_configuration_finding(
        self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
    ) -> dict[str, Any]:
        """Add one cloud configuration finding (a new version when ``id`` is reused)."""
        seen = as_utc(fields.get("firstSeenAt") or fields.get("analyzedAt") or self.clock())
        record = configuration.configuration_finding(
            self._rng, seen, fields.get("status"), fields.get("result"), fields.pop("rule", None)
        )
        record.update({k: self._ts(v) if k.endswith("At") and v else v for k, v in fields.items()})
        return self._copy(self._put(CLOUD_CONFIGURATION_FINDING, record, visible_at, delay))

    def reanalyze(
        self, record_id: str, at: datetime | str | None = None, *, delay: float | None = None
    ) -> dict[str, Any]:
        """Wiz assessed a configuration finding again with the same outcome: analyzedAt moves."""
        when = as_utc(at or self.clock())
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
        when = as_utc(at or self.clock())
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

    # --- reading ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return as_utc(self.clock())

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
        lo = as_utc(start) if start is not None else None
        hi = as_utc(end) if end is not None else None
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
