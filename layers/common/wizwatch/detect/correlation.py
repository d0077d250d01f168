"""Deciding whether a correlation rule's signals make a match (pure logic, no I/O).

A *signal* is one match of an input rule: the member it counts for, its event time, and the
values of the member's match fields. The same function decides production (signals read back
from the dedup table) and Panther's offline tests (``RuleOutputs``), so both agree.

For each candidate key (a value per match criterion, taken from the signals), a rule matches when
there is a span of at most ``LookbackWindowMinutes`` in which

* every present member has at least ``MinMatchCount`` (and at most ``MaxMatchCount``) signals
  with that key (with a Group-level ``MinMatchCount``, that many members suffice); in a
  ``Sequence`` each member's signals come at or after the previous member's (earliest choice
  first: if any ordering fits, this finds one) and a transition's ``WithinTimeFrameMinutes``
  bounds the gap between its two members;
* no ``Absence`` member has a signal with that key: for a Group anywhere from ``lookback`` before
  the last used signal to ``lookback`` after the first (where a signal could still share a window
  with them); for a Sequence within the transition's time frame after its ``From`` member.

A value that is a list (``p_any_emails``) offers each element as a key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from wizwatch.detect.correlation_spec import CorrelationRule, Member


@dataclass(frozen=True)
class Signal:
    member: str
    time: float  # epoch seconds (event time)
    #: match field path -> value (a list offers each element)
    values: tuple[tuple[str, Any], ...] = ()
    identity: str = ""
    info: Any = field(default=None, compare=False, hash=False)

    def value_set(self, path: str) -> set[Any]:
        for p, v in self.values:
            if p == path:
                items = v if isinstance(v, list | tuple) else [v]
                return {_hashable(x) for x in items if x is not None}
        return set()


@dataclass
class CorrelationMatch:
    rule: CorrelationRule
    key: dict[str, Any]  # criterion -> value
    signals: list[Signal]  # the signals that made it (per present member, in member order)
    first: float
    last: float

    @property
    def dedup(self) -> str:
        """The alert's dedup string: the shared values, in criterion order."""
        return ":".join(str(v) for _, v in sorted(self.key.items())) or self.rule.rule_id


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _keys(rule: CorrelationRule, signals: list[Signal]) -> Iterable[dict[str, Any]]:
    """Candidate keys: every combination of criterion values that some present signal offers."""
    names = sorted(rule.criteria)
    if not names:
        yield {}
        return
    options: dict[str, set[Any]] = {n: set() for n in names}
    for s in signals:
        for n in names:
            path = rule.criteria[n].get(s.member)
            if path is not None:
                options[n] |= s.value_set(path)
    if any(not v for v in options.values()):
        return
    for combo in itertools.product(*(sorted(options[n], key=repr) for n in names)):
        yield dict(zip(names, combo, strict=True))


def _fits(rule: CorrelationRule, s: Signal, key: dict[str, Any]) -> bool:
    for name, value in key.items():
        path = rule.criteria[name].get(s.member)
        if path is not None and value not in s.value_set(path):
            return False
    return True


def evaluate(rule: CorrelationRule, signals: list[Signal]) -> list[CorrelationMatch]:
    """Every key for which the signals make a match (the earliest such span per key)."""
    present = [m for m in rule.members if not m.absent]
    absent = [m for m in rule.members if m.absent]
    lookback = rule.lookback_minutes * 60
    found = []
    for key in _keys(rule, [s for s in signals if any(s.member == m.id for m in present)]):
        mine = sorted((s for s in signals if _fits(rule, s, key)), key=lambda s: s.time)
        by_member = {m.id: [s for s in mine if s.member == m.id] for m in rule.members}
        starts = sorted({s.time for m in present for s in by_member[m.id]})
        for start in starts:
            used = _pick(rule, present, by_member, start, start + lookback)
            if used is None:
                continue
            first = min(s.time for s in used)
            last = max(s.time for s in used)
            if any(_absent_seen(rule, a, by_member[a.id], used, first, last, lookback) for a in absent):
                continue
            found.append(CorrelationMatch(rule, key, used, first, last))
            break
    return found


def _pick(
    rule: CorrelationRule,
    present: list[Member],
    by_member: dict[str, list[Signal]],
    start: float,
    end: float,
) -> list[Signal] | None:
    used: list[Signal] = []
    cursor = start
    previous: tuple[str, float] | None = None  # (member, time of its last used signal)
    missing = 0
    allowed_missing = len(present) - (rule.min_members or len(present))
    for m in present:
        floor = cursor if rule.ordered else start
        inside = [s for s in by_member[m.id] if floor <= s.time <= end]
        picks = inside[: m.min_count]
        if len(picks) < m.min_count or (m.max_count is not None and len(inside) > m.max_count):
            missing += 1
            if missing > allowed_missing or rule.ordered:
                return None
            continue
        if rule.ordered:
            limit = rule.within.get((previous[0], m.id)) if previous is not None else None
            if previous is not None and limit is not None and picks[-1].time - previous[1] > limit * 60:
                return None
            cursor = picks[-1].time
            previous = (m.id, cursor)
        used.extend(picks)
    return used


def _absent_seen(
    rule: CorrelationRule,
    member: Member,
    signals: list[Signal],
    used: list[Signal],
    first: float,
    last: float,
    lookback: float,
) -> bool:
    for (a, b), minutes in rule.within.items():
        if b == member.id:  # Sequence: "A not followed by B within N minutes"
            after = [s.time for s in used if s.member == a]
            if after:
                t = max(after)
                return any(t <= s.time <= t + minutes * 60 for s in signals)
    return any(last - lookback <= s.time <= first + lookback for s in signals)


def absence_decided_at(rule: CorrelationRule, match_first: float, match_last: float) -> float:
    """The event time after which no signal can still undo a match (absences are then final)."""
    horizon = match_first + rule.lookback_minutes * 60
    for (_a, b), minutes in rule.within.items():
        if any(m.id == b and m.absent for m in rule.members):
            horizon = max(horizon, match_last + minutes * 60)
    return horizon
