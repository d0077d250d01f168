"""The simulated tenant's traffic generator: Poisson event streams and status changes over time.

Mixed into :class:`wizwatch_tools.simulator.store.RecordStore` (it uses the store's ``add_*``,
``_put``, ``change_status``, ``reanalyze``, ``records``, ``_tables`` and ``_lock``). Each
stream has its own random source, so the traffic is deterministic for a seed.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, ISSUES, VULNERABILITY_FINDING
from wizwatch_tools.simulator.datagen import audit, configuration, issues, vulnerabilities
from wizwatch_tools.simulator.datagen.actors import Actors
from wizwatch_tools.simulator.versions import Version, VersionTable, as_utc

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


class EventStream:
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


class TrafficGenerator:
    """Realistic traffic over time, seed-rule matches included (a mixin of RecordStore)."""

    if TYPE_CHECKING:  # provided by RecordStore (and DefendRecords)
        seed: int
        rates: dict[str, float]
        actors: Actors
        _lock: threading.RLock
        _tables: dict[str, VersionTable]
        _streams: list[EventStream] | None
        _generated_until: datetime | None

        def _put(
            self,
            log_type: str,
            record: dict[str, Any],
            visible_at: datetime | str | None = None,
            delay: float | None = None,
        ) -> dict[str, Any]: ...

        def add_audit(
            self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
        ) -> dict[str, Any]: ...

        def add_issue(
            self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
        ) -> dict[str, Any]: ...

        def add_finding(
            self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
        ) -> dict[str, Any]: ...

        def add_configuration_finding(
            self, *, visible_at: datetime | str | None = None, delay: float | None = None, **fields: Any
        ) -> dict[str, Any]: ...

        def reanalyze(
            self, record_id: str, at: datetime | str | None = None, *, delay: float | None = None
        ) -> dict[str, Any]: ...

        def change_status(
            self,
            log_type: str,
            record_id: str,
            status: str,
            at: datetime | str | None = None,
            *,
            visible_at: datetime | str | None = None,
            delay: float | None = None,
        ) -> dict[str, Any]: ...

        def records(
            self,
            log_type: str,
            start: datetime | str | None = None,
            end: datetime | str | None = None,
            visible_only: bool = True,
            now: datetime | None = None,
            time_field: str | None = None,
        ) -> list[dict[str, Any]]: ...

        def _seed_detections(self, start: datetime, now: datetime) -> int: ...

        def _emit_detection(self, name: str, rng: random.Random, at: datetime, delay: float) -> int: ...

    def _delay(self, rng: random.Random) -> float:
        """Ingestion lag: mostly seconds, sometimes minutes (records that show up late)."""
        roll = rng.random()
        if roll < 0.85:
            return rng.uniform(0, 20)
        if roll < 0.97:
            return rng.uniform(20, 180)
        return rng.uniform(300, 1200)

    # --- the traffic generator -------------------------------------------------------------

    def seed_history(self, now: datetime, hours: float = 24.0, rates: dict[str, float] | None = None) -> int:
        """Generate realistic traffic for ``hours`` before ``now`` (incl. seed-rule matches)."""
        now = as_utc(now)
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
            self._streams = [EventStream(name, self.seed, rate, start) for name, rate in self.rates.items()]
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
        until = as_utc(until)
        with self._lock:
            if self._streams is None:
                self._streams = [EventStream(n, self.seed, r, until) for n, r in self.rates.items()]
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

    def _emit(self, stream: EventStream, at: datetime) -> int:
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
