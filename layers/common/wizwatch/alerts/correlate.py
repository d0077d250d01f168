"""Correlation rules in the detector: input-rule matches become signals, signals become alerts.

Panther runs correlation rules as scheduled queries over its signals table; Wizwatch evaluates
them as signals arrive. For each page: every match of a rule some correlation rule names is a
signal (``CreateAlert: false`` rules too: they exist to feed correlations); signals are written
to the dedup table (``wizwatch.dedup.signals``) per value of the criterion all members share;
each touched partition is read back (the lookback window of its newest signal) and judged by
``wizwatch.detect.correlation.evaluate`` — the same function ``wizwatch test`` runs on the rules'
``RuleOutputs`` tests. A match that uses at least one of this page's signals becomes a hit of a
RULE alert for the correlation rule (dedup string: the shared values), through the same dedup
windows, outbox and queue as every other alert.

Absence: a match whose absent member could still appear (its window is not over in event time)
waits; a later signal for the same key re-evaluates it. No timer fires on its own (documented
limitation: a correlation with Absence alerts only once a later signal for that key arrives).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from wizwatch.dedup.model import RULE, GroupKey, Hit
from wizwatch.dedup.signals import SignalStore, partition
from wizwatch.detect.correlation import CorrelationMatch, Signal, absence_decided_at, evaluate
from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.result import RuleResult
from wizwatch.detect.simple import lookup
from wizwatch.detect.spec import Rule
from wizwatch.parse.timestamps import TimestampError, parse

CONTEXT_PREFIX = "p_alert_context."


@dataclass
class _Pending:
    rule: CorrelationRule
    pk: str
    signals: list[Signal] = field(default_factory=list)
    events: dict[str, dict[str, Any]] = field(default_factory=dict)  # identity -> event


def _event_seconds(event: dict[str, Any]) -> float | None:
    value = event.get("p_event_time")
    if not isinstance(value, str):
        return None
    try:
        return parse(value).timestamp()
    except TimestampError:
        return None


def _value(path: str, event: dict[str, Any], result: RuleResult) -> Any:
    if path.startswith(CONTEXT_PREFIX):
        return lookup(result.alert_context, path[len(CONTEXT_PREFIX) :])
    return lookup(event, path)


class Correlator:
    """Per page: collects signals (``observe``), then stores and judges them (``hits``)."""

    def __init__(self, rules: list[CorrelationRule], store: SignalStore) -> None:
        self.rules = [r for r in rules if r.enabled and (r.primary is not None or not r.criteria)]
        self.store = store
        #: input RuleID -> [(correlation rule, member id)]
        self.by_input: dict[str, list[tuple[CorrelationRule, str]]] = {}
        for r in self.rules:
            for m in r.members:
                self.by_input.setdefault(m.rule_id, []).append((r, m.id))
        self._pending: dict[str, _Pending] = {}

    @property
    def input_rules(self) -> set[str]:
        return set(self.by_input)

    def observe(self, result: RuleResult, event: dict[str, Any], identity: str, source: str) -> None:
        """Note one match of an input rule (cheap: nothing is written until ``hits``)."""
        for rule, member in self.by_input.get(result.rule.rule_id, ()):
            when = _event_seconds(event)
            if when is None:
                continue
            values = {path for paths in rule.criteria.values() for m, path in paths.items() if m == member}
            pairs = tuple((p, _value(p, event, result)) for p in sorted(values))
            info = {"rule_id": result.rule.rule_id, "title": result.title, "source": source}
            signal = Signal(member, when, pairs, identity=f"{result.rule.rule_id}#{identity}", info=info)
            primary = rule.primary
            keys: list[Any] = ["*"]
            if primary is not None:
                keys = sorted(signal.value_set(rule.criteria[primary][member]), key=repr)
            for key in keys:
                pk = partition(rule.rule_id, key)
                pending = self._pending.setdefault(pk, _Pending(rule, pk))
                pending.signals.append(signal)
                pending.events[signal.identity] = event

    def hits(self, now_s: int) -> list[tuple[GroupKey, RuleResult, Hit, list[dict[str, Any]]]]:
        """Store this page's signals, judge every touched key; the hits of new matches."""
        pending, self._pending = self._pending, {}
        if not pending:
            return []
        self.store.put(
            [(p.pk, s, p.rule.lookback_minutes * 60) for p in pending.values() for s in p.signals], now_s
        )
        out = []
        for p in pending.values():
            rule = p.rule
            waits = any(m.absent for m in rule.members)
            reach = rule.lookback_minutes * 60
            if waits:  # a match may be decided only now, a window after its first signal
                reach += rule.lookback_minutes * 60 + max(rule.within.values(), default=0) * 60
            since = min(s.time for s in p.signals) - reach
            stored = self.store.read(p.pk, since, now_s)
            for match in _new_matches(rule, stored, {s.identity for s in p.signals}):
                out.append(self._hit(match, p))
        return out

    def _hit(
        self, match: CorrelationMatch, p: _Pending
    ) -> tuple[GroupKey, RuleResult, Hit, list[dict[str, Any]]]:
        rule = p.rule
        used = sorted(s.identity for s in match.signals)
        identity = "corr#" + hashlib.sha256("\n".join(used).encode()).hexdigest()[:32]
        stand_in = as_rule(rule)
        context = {
            "correlation_key": match.key,
            "signals": [{"member": s.member, "event_time": s.time, **(s.info or {})} for s in match.signals],
        }
        title = f"{rule.display_name or rule.rule_id}: {match.dedup}"
        result = RuleResult(
            rule=stand_in,
            matched=True,
            title=title,
            dedup=match.dedup,
            severity=rule.severity,
            alert_context=context,
            description=rule.description,
            reference=rule.reference,
            runbook=rule.runbook,
            destinations=None if rule.create_alert else [],
        )
        events = [p.events[s.identity] for s in match.signals if s.identity in p.events]
        when = max(s.time for s in match.signals)
        return GroupKey(RULE, rule.rule_id, match.dedup), result, Hit(identity, _rfc3339(when)), events


def _new_matches(rule: CorrelationRule, stored: list[Signal], fresh: set[str]) -> list[CorrelationMatch]:
    """The matches this page's signals complete (or, with Absence, make final), per key.

    ``evaluate`` gives the earliest match per key; one this page did not cause was judged when its
    signals arrived, so its earliest signal is set aside and the key looked at again (a later
    match on the same key may use this page's signals).
    """
    waits = any(m.absent for m in rule.members)
    latest = max((s.time for s in stored), default=0.0)
    before = max((s.time for s in stored if s.identity not in fresh), default=float("-inf"))
    pool = sorted(stored, key=lambda s: s.time)
    found: dict[str, CorrelationMatch] = {}
    settled: set[str] = set()
    for _ in range(len(pool) + 1):
        progressed = False
        for match in evaluate(rule, pool):
            key = match.dedup
            if key in settled:
                continue
            uses_fresh = bool(fresh & {s.identity for s in match.signals})
            if waits:
                horizon = absence_decided_at(rule, match.first, match.last)
                if horizon > latest:
                    settled.add(key)  # an absent member could still turn up: wait for a later signal
                    continue
                if uses_fresh or horizon > before:
                    found[key] = match
                    settled.add(key)
                    continue
            elif uses_fresh:
                found[key] = match
                settled.add(key)
                continue
            pool.remove(min(match.signals, key=lambda s: s.time))
            progressed = True
        if not progressed:
            break
    return list(found.values())


def _rfc3339(seconds: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def as_rule(rule: CorrelationRule) -> Rule:
    """The alert path's view of a correlation rule (alert_type stays RULE)."""
    return Rule(
        rule_id=rule.rule_id,
        display_name=rule.display_name,
        enabled=rule.enabled,
        log_types=sorted(rule.log_types),
        severity=rule.severity,
        description=rule.description,
        runbook=rule.runbook,
        reference=rule.reference,
        reports=rule.reports,
        tags=rule.tags,
        dedup_period_minutes=rule.dedup_period_minutes,
        threshold=1,
        has_unique=False,
        path=rule.path,
        output_ids=list(rule.output_ids),
        create_alert=rule.create_alert,
        source=rule.source,
    )
