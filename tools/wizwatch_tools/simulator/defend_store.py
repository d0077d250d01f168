"""The record store's Wiz Defend part: detections, their updates, and what a webhook would push.

Mixed into :class:`wizwatch_tools.simulator.store.RecordStore` (it uses the store's ``_put``,
``_rng``, ``_lock``, ``_tables`` and ``clock``). Detections are windowed on ``updatedAt`` like
the poller's delta field; an update is a new version with a later ``updatedAt`` (Wiz linking the
detection to a threat), so polling with an overlap re-reads it and the detector must count it once.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from wizwatch.logtypes import DETECTIONS, ISSUES
from wizwatch_tools.simulator import defend
from wizwatch_tools.simulator.versions import as_utc

#: Curated detections every seeded history holds, so each Defend rule has something to find.
SEED_DETECTIONS: tuple[dict[str, Any], ...] = (
    {"rule": "Cryptocurrency mining related domain lookup", "production": True},
    {"rule": "UnauthorizedAccess:EC2/SSHBruteForce", "production": False, "reputation": "Malicious"},
    {"rule": "Service account token was accessed", "production": False, "severity": "HIGH"},
)


class DefendRecords:
    """Detections in the simulated tenant (a mixin of RecordStore)."""

    if TYPE_CHECKING:  # provided by RecordStore
        _rng: random.Random
        _lock: threading.RLock
        _tables: dict[str, Any]
        rates: dict[str, float]
        clock: Callable[[], datetime]

        def _put(
            self,
            log_type: str,
            record: dict[str, Any],
            visible_at: datetime | str | None = None,
            delay: float | None = None,
        ) -> dict[str, Any]: ...

        @staticmethod
        def _copy(record: dict[str, Any]) -> dict[str, Any]: ...

        def _random_latest(self, log_type: str, rng: random.Random, at: datetime) -> Any: ...

    def add_detection(
        self,
        *,
        created: datetime | str | None = None,
        rule: str | None = None,
        production: bool | None = None,
        reputation: str | None = None,
        detection_type: str | None = None,
        visible_at: datetime | str | None = None,
        delay: float | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add one detection (a new record); unspecified parts are drawn realistically."""
        at = as_utc(created or self.clock())
        record = defend.detection(
            self._rng,
            at,
            rule=defend.RULES_BY_NAME[rule] if rule else None,
            production=production,
            reputation=reputation,
            detection_type=detection_type,
        )
        record.update(fields)
        return self._copy(self._put(DETECTIONS, record, visible_at, delay))

    def update_detection(
        self,
        detection_id: str,
        at: datetime | str | None = None,
        *,
        visible_at: datetime | str | None = None,
        delay: float | None = None,
        link_threat: bool | None = None,
    ) -> dict[str, Any]:
        """A later version of a detection (``updatedAt`` bumped; linked to a threat when
        ``link_threat``, at random when None)."""
        record = self.stored(DETECTIONS, detection_id)
        new = defend.updated(record, as_utc(at or self.clock()), self._rng, link_threat)
        return self._copy(self._put(DETECTIONS, new, visible_at, delay))

    def stored(self, log_type: str, record_id: str) -> dict[str, Any]:
        """A deep copy of the newest version of a record, private members included."""
        with self._lock:
            current = self._tables[log_type].latest.get(record_id)
            if current is None:
                raise KeyError(f"no {log_type} record {record_id!r}")
            copy: dict[str, Any] = orjson.loads(orjson.dumps(current.record))
        return copy

    def webhook_body(self, log_type: str, record_id: str, *, rule_id: str) -> dict[str, Any]:
        """The body Wiz would push for a stored detection or issue (newest version)."""
        record = self.stored(log_type, record_id)
        if log_type == DETECTIONS:
            return defend.detection_webhook(record, rule_id=rule_id)
        if log_type == ISSUES:
            return defend.issue_webhook(record, rule_id=rule_id)
        raise ValueError(f"Wiz pushes only detections and issues, not {log_type}")

    def _emit_detection(self, name: str, rng: random.Random, at: datetime, delay: float) -> int:
        """One generator event of the ``detection`` / ``detection_update`` streams."""
        if name == "detection":
            self._put(DETECTIONS, defend.detection(rng, at), delay=delay)
            return 1
        current = self._random_latest(DETECTIONS, rng, at)
        if current is None:
            return 0
        record = orjson.loads(orjson.dumps(current.record))
        self._put(DETECTIONS, defend.updated(record, at, rng), delay=delay)
        return 1

    def _seed_detections(self, start: datetime, now: datetime) -> int:
        """The curated detections of :data:`SEED_DETECTIONS`, spread over the seeded history."""
        if self.rates.get("detection", 0) <= 0:
            return 0
        span = now - start
        for n, spec in enumerate(SEED_DETECTIONS, start=1):
            at = start + span * n / (len(SEED_DETECTIONS) + 2)
            extra = {"severity": spec["severity"]} if "severity" in spec else {}
            self.add_detection(
                created=at,
                rule=spec["rule"],
                production=spec["production"],
                reputation=spec.get("reputation"),
                detection_type="GENERATED_THREAT",
                delay=5,
                **extra,
            )
        return len(SEED_DETECTIONS)


def public_detection(record: dict[str, Any]) -> None:
    """Drop the store's private parts of a detection copy in place (type tags of event nodes)."""
    events = record.get("triggeringEvents")
    if isinstance(events, dict):
        for node in events.get("nodes") or ():
            if isinstance(node, dict):
                node.pop("__typename", None)
