"""Raw Wiz record -> the event rules see: the record plus Panther's ``p_`` fields.

Validation has three paths that must agree, fastest first:

1. Wiz.Audit's hand-written check of the API shape (``parse.audit``): every audit record in
   practice.
2. The compiled plan of the log type's schema (``parse.plan``): one pass over the record's keys,
   no per-record type introspection. It only says "certainly valid".
3. Pydantic (``parse.schemas``, the reference), for whatever the plan cannot decide: it accepts
   (case variants, lax-but-valid shapes) or gives the reason for :class:`InvalidRecord`.

Why the plan exists: the previous general path re-derived each field's type with
``typing.get_args`` for every field of every record, 60-65% of the detector's time on Wiz.Issues
and Wiz.VulnerabilityFinding (14-21x the gunzip + JSON floor; see ``parse.plan``). The event is
the record itself on every path, so which path validated a record never changes the output;
``tests/unit/parse/test_normalize_equivalence.py`` compares this module with a copy of the
previous implementation over the benchmark corpus and mutated records.

A record is never modified when its normalisation fails (``copy=False`` included), so the
caller can quarantine it as it came.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from wizwatch import logtypes
from wizwatch.errors import InvalidRecord
from wizwatch.parse import timestamps
from wizwatch.parse.audit import _audit_page, _fast_audit
from wizwatch.parse.indicators import INDICATORS, Indicators, Paths, _ci_get, indicators, values_at
from wizwatch.parse.plan import canonical, panther_time, plan_for, reason
from wizwatch.parse.records import UnreadableRecord
from wizwatch.parse.schemas import MODELS

__all__ = [
    "EVENT_TIME_FIELDS",
    "INDICATORS",
    "Normalizer",
    "_ci_get",
    "_fast_audit",
    "indicators",
    "new_row_id",
    "values_at",
]

#: Where each log type keeps its event time, first present wins (dotted paths).
EVENT_TIME_FIELDS: dict[str, tuple[str, ...]] = {
    logtypes.AUDIT: ("timestamp",),
    logtypes.ISSUES: ("statusChangedAt", "updatedAt", "createdAt"),
    logtypes.VULNERABILITY_FINDING: ("updatedAt", "lastDetectedAt", "firstDetectedAt"),
    logtypes.ISSUES_WEBHOOK: ("issue.created",),
    logtypes.DETECTIONS: ("createdAt", "updatedAt"),
    # The delta field first (updatedAt by default; analyzedAt where a record has no updatedAt).
    logtypes.CLOUD_CONFIGURATION_FINDING: ("updatedAt", "analyzedAt", "firstSeenAt"),
}

_ROW_PREFIX = os.urandom(7).hex()
_ROW_LOCK = threading.Lock()
_ROW_NEXT = [1]

#: The last three hex digits of a row id, so a page's ids are one concatenation each.
_HEX3 = [f"{i:03x}" for i in range(4096)]


def _reserve_row_ids(n: int) -> list[str]:
    """n fresh row ids (``f"{_ROW_PREFIX}{i:016x}"``), formatted in one go (the page hot path)."""
    with _ROW_LOCK:
        start = _ROW_NEXT[0]
        _ROW_NEXT[0] = start + n
    out: list[str] = []
    i, end = start, start + n
    while i < end:
        high = i >> 12
        stop = min(end, (high + 1) << 12)
        head = f"{_ROW_PREFIX}{high:013x}"
        out += [head + low for low in _HEX3[i & 0xFFF : ((stop - 1) & 0xFFF) + 1]]
        i = stop
    return out


def new_row_id() -> str:
    """30 hex characters, unique within a process and random across processes (like Panther's)."""
    return _reserve_row_ids(1)[0]


def reserve_row_ids(n: int) -> list[str]:
    """n fresh row ids taken under one lock (for callers that normalise a page themselves)."""
    return _reserve_row_ids(n)


class Normalizer:
    """Validates records of one log type and adds Panther's standard fields."""

    def __init__(
        self, log_type: str, *, source_id: str = "wizwatch", source_label: str | None = None
    ) -> None:
        if log_type not in MODELS:
            raise ValueError(f"unknown log type {log_type!r}; known: {', '.join(MODELS)}")
        self.log_type = log_type
        self.model = MODELS[log_type]
        self.source_id = source_id
        self.source_label = source_label or log_type
        self._time_fields = EVENT_TIME_FIELDS[log_type]
        self._plan = plan_for(self.model)
        self._times = Paths(self.model, self._time_fields)
        self._time_indexes = range(len(self._time_fields))
        self._indicators = Indicators(log_type, self.model)
        self._tail: dict[str, str] = self._tail_for("")
        self._fast: Callable[[dict[str, Any], bool], dict[str, Any] | None] | None = (
            _fast_audit if log_type == logtypes.AUDIT else None
        )
        #: Gives pushed and polled detections one shape (before indicators are computed).
        self._reconcile: Callable[[dict[str, Any]], None] | None = None
        if log_type == logtypes.DETECTIONS:
            from wizwatch.parse.detections import reconcile

            self._reconcile = reconcile

    def validate(self, record: Any) -> None:
        """Raise InvalidRecord(reason) unless the record fits the log type's model."""
        if record.__class__ is dict and self._plan.accepts(record) is not None:
            return
        self._validate_pydantic(record)

    def _validate_pydantic(self, record: Any) -> None:
        if not isinstance(record, dict):
            if isinstance(record, UnreadableRecord):
                raise InvalidRecord(record.reason)
            raise InvalidRecord(f"record is a JSON {type(record).__name__}, expected an object")
        try:
            self.model.model_validate(canonical(self.model, record))
        except ValidationError as exc:
            raise InvalidRecord(reason(exc)) from None

    def event_time(self, record: dict[str, Any], clean: bool = False) -> str | None:
        """The first time field that holds a timestamp (schemas validate the ones they type;
        free-text ones, e.g. a webhook's ``issue.created``, are skipped when they are not).
        ``clean``: the compiled plan accepted the record (see ``parse.indicators.Paths``)."""
        values = self._times.values
        for i in self._time_indexes:
            for value in values(i, record, clean):
                if isinstance(value, str) and value:
                    try:
                        return panther_time(value)
                    except timestamps.TimestampError:
                        continue
        return None

    def normalize(
        self, record: Any, parse_time: str | None = None, *, copy: bool = True, row_id: str | None = None
    ) -> dict[str, Any]:
        """The record's own keys plus ``p_`` fields; raises InvalidRecord.

        ``copy=False`` lets the event be ``record`` itself, fields added in place (for callers
        that own the record); a record that fails is left as it was either way. ``row_id``: one
        the caller reserved (:func:`reserve_row_ids`), else a fresh one.
        """
        parse_time = parse_time or timestamps.now_panther()
        event = None
        if record.__class__ is dict:
            if self._fast is not None:
                event = self._fast(record, copy)
            if event is None:
                event = self._planned(record, copy, parse_time)
        if event is None:
            event = self._general(record, parse_time)
        tail = self._tail
        if tail["p_parse_time"] != parse_time:
            tail = self._tail = self._tail_for(parse_time)
        event.update(tail)
        event["p_row_id"] = row_id or _reserve_row_ids(1)[0]
        return event

    def _planned(self, record: dict[str, Any], copy: bool, parse_time: str) -> dict[str, Any] | None:
        """The event of a record the compiled plan accepts (None: the plan cannot decide).

        Everything that can fail runs before the record is touched.
        """
        extra = self._plan.accepts(record)
        if extra is None:
            return None
        own = [k for k in extra if k.startswith("p_any_")]  # indicators are ours to compute
        try:
            if self._reconcile is not None:
                event = dict(record)
                for key in own:
                    del event[key]
                self._reconcile(event)
                found = self._indicators(event, True)
            else:
                found = self._indicators(record, True)  # no indicator path reads a p_any_ key
                event = dict(record) if copy else record
                for key in own:
                    del event[key]
            when = self.event_time(record, True)
        except Exception as exc:  # whatever an odd record trips over is its own problem
            raise InvalidRecord(f"normalisation failed: {type(exc).__name__}: {exc}") from exc
        event.update(found)
        event["p_event_time"] = when or parse_time
        return event

    def _general(self, record: Any, parse_time: str) -> dict[str, Any]:
        """The pydantic path (see the module docstring); works on a copy so failures change nothing."""
        self._validate_pydantic(record)
        try:
            event = dict(record)
            for key in [k for k in event if isinstance(k, str) and k.startswith("p_any_")]:
                del event[key]  # indicators are ours to compute, never the source's
            if self._reconcile is not None:
                self._reconcile(event)
            event.update(indicators(self.log_type, event))
            event["p_event_time"] = self.event_time(record) or parse_time
        except Exception as exc:  # whatever an odd record trips over is its own problem
            raise InvalidRecord(f"normalisation failed: {type(exc).__name__}: {exc}") from exc
        return event

    def normalize_page(
        self, records: list[Any], parse_time: str
    ) -> tuple[list[dict[str, Any] | None], dict[int, str]]:
        """Normalise a page's records (copy=False): (events with None for invalid ones, reasons
        by index). Same result as :meth:`normalize` per record; row ids are taken in one go."""
        row_ids = _reserve_row_ids(len(records))
        if self.log_type == logtypes.AUDIT:
            return _audit_page(records, self._tail_for(parse_time), self.normalize, row_ids)
        normalize = self.normalize
        events: list[dict[str, Any] | None] = []
        append = events.append
        invalid: dict[int, str] = {}
        for i, record in enumerate(records):
            try:
                append(normalize(record, parse_time, copy=False, row_id=row_ids[i]))
            except InvalidRecord as exc:
                invalid[i] = exc.reason
                append(None)
        return events, invalid

    def _tail_for(self, parse_time: str) -> dict[str, str]:
        """The p_ fields every event of one parse shares (set with one dict update)."""
        return {
            "p_log_type": self.log_type,
            "p_parse_time": parse_time,
            "p_source_id": self.source_id,
            "p_source_label": self.source_label,
        }
