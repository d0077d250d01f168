"""The rule engine: every enabled rule for a log type, run on each event in production mode.

Speed comes from not running rules that cannot match. Each rule's ``InlineFilters`` /
``Detection`` yields *index terms* (a top-level key that must equal one of a few values); per log
type the engine picks, for each rule, the most widely shared such key and files the rule under
the values it accepts. An event then costs one dict lookup per index key plus the rules with no
index term. The index only skips rules whose own filters would reject the event, so results are
the same as running every rule (``tests/unit/detect`` checks this).
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizwatch.detect.event import PantherEvent
from wizwatch.detect.loader import BrokenRule, RuleSet, load_tree
from wizwatch.detect.result import RuleResult
from wizwatch.detect.runner import RuleRunner
from wizwatch.detect.simple import ci_get
from wizwatch.detect.spec import Rule
from wizwatch.errors import InvalidPage, RuleLoadError

_MISSING = object()


class _LogTypeIndex:
    """Rules of one log type filed by the value of their index key."""

    def __init__(self, runners: list[RuleRunner]) -> None:
        # A key is more selective the more distinct values the rules ask of it (``action``: dozens;
        # ``status``: one or two), so each rule is filed under its most selective key.
        distinct: dict[str, set[Any]] = {}
        for r in runners:
            for key, values in r.index_terms:
                distinct.setdefault(key, set()).update(values)
        counts: Counter[str] = Counter({k: len(v) for k, v in distinct.items()})
        self.by_key: dict[str, dict[Any, list[RuleRunner]]] = {}
        self.always: list[RuleRunner] = []
        for r in runners:
            if not r.index_terms:
                self.always.append(r)
                continue
            key, values = max(r.index_terms, key=lambda t: (counts[t[0]], -len(t[1])))
            table = self.by_key.setdefault(key, {})
            for v in values:
                table.setdefault(v, []).append(r)
        self.keys = tuple(self.by_key.items())
        # The candidates depend only on the index keys' values, and events repeat a few
        # (action, status) pairs: remember each pair's answer. Only events holding every index key
        # under its exact name use it (the case-insensitive fallback stays in _lookup).
        self._names = names = tuple(self.by_key)
        self._values: Callable[[dict[str, Any]], Any] | None = operator.itemgetter(*names) if names else None
        self._memo: dict[Any, Plan] = {}

    def candidates(self, event: dict[str, Any]) -> Plan:
        """(rule, prefilter still to check) for the rules that may match, in load order.

        The prefilter is None when the rule has none, or when it reads only index keys and was
        decided once for these values (rules it rejects are left out).
        """
        values_of = self._values
        if values_of is None:
            return _plan(self.always)
        try:
            values = values_of(event)
        except KeyError:  # an index key absent or in another case
            return _plan(self._lookup(event))
        try:
            return self._memo[values]
        except KeyError:
            pass
        except TypeError:  # unhashable value (a list or dict): nothing to remember
            return _plan(self._lookup(event))
        found = self._decide(self._lookup(event), values)
        if len(self._memo) < _MEMO_MAX:
            self._memo[values] = found
        return found

    def _decide(self, runners: list[RuleRunner], values: Any) -> Plan:
        """The plan for an event holding every index key exactly, with these values.

        A prefilter that reads only index keys gives the same answer on a dict of just those
        keys (keys are read exact-name first), so it is decided here once.
        """
        names = self._names
        known = dict(zip(names, values, strict=True)) if len(names) > 1 else {names[0]: values}
        plan: Plan = []
        for r in runners:
            pre = r.prefilter
            if pre is not None and r.prefilter_keys is not None and r.prefilter_keys <= known.keys():
                if not pre(known):
                    continue
                pre = None
            plan.append((r, pre))
        return plan if plan else _NO_PLAN

    def _lookup(self, event: dict[str, Any]) -> list[RuleRunner]:
        result: list[RuleRunner] | None = None
        sources = 0
        for key, table in self.keys:
            value = event.get(key, _MISSING)
            if value is _MISSING:
                value = ci_get(event, key)
            try:
                hit = table.get(value)
            except TypeError:  # unhashable (a list or dict): no Equals/IsIn term can match it
                continue
            if hit:
                sources += 1
                result = hit if result is None else result + hit
        if self.always:
            sources += 1
            result = self.always if result is None else result + self.always
        if result is None:
            return _NONE
        if sources > 1:
            result = sorted(result, key=_ordinal)
        return result


_NONE: list[RuleRunner] = []
#: (rule, prefilter still to run or None) per candidate rule of an event.
Plan = list[tuple[RuleRunner, Callable[[Any], bool] | None]]
_NO_PLAN: Plan = []


def _plan(runners: list[RuleRunner]) -> Plan:
    return [(r, r.prefilter) for r in runners] if runners else _NO_PLAN


#: Distinct index-key value combinations remembered per log type (bounded against odd input).
_MEMO_MAX = 4096


def _ordinal(r: RuleRunner) -> int:
    return r.rule.ordinal


@dataclass
class PageOutcome:
    """A page's records after normalisation and rules.

    ``events[i]`` is record i's normalised event (None when invalid, with the reason in
    ``invalid[i]``); ``results`` holds only the records some rule matched or failed on. Sparse on
    purpose: most records match nothing, and building an object per record would cost more than
    the rules themselves.
    """

    events: list[dict[str, Any] | None]
    results: dict[int, list[RuleResult]] = field(default_factory=dict)
    invalid: dict[int, str] = field(default_factory=dict)
    connection: str | None = None


class Engine:
    """Loaded rules, indexed per log type.

    ``ruleset`` is everything the loader found: correlation rules, the rules that failed to load
    (``ruleset.broken``: disabled, for the detector to report as rule errors) and every problem.
    """

    def __init__(self, rules: list[Rule], ruleset: RuleSet | None = None) -> None:
        self.ruleset = ruleset or RuleSet(rules=list(rules))
        self.rules = sorted(rules, key=lambda r: r.ordinal)
        for i, r in enumerate(self.rules):
            r.ordinal = i
            if r.runner is None:
                r.runner = RuleRunner(r)
        self._indexes: dict[str, _LogTypeIndex] = {}
        self._normalizers: dict[str, Any] = {}

    @classmethod
    def from_directory(cls, path: str | Path, *, strict: bool = False) -> Engine:
        """Load every rule under path (overrides applied).

        A rule that fails to load is left out and listed in ``ruleset.broken``: the others run.
        ``strict``: raise instead when anything failed, with every problem listed (tools that
        must not run a partial rule set, e.g. the benchmark).
        """
        found = load_tree(Path(path))
        if strict and found.errors:
            first = found.errors[0]
            if len(found.errors) > 1:
                more = "\n".join(f"  - {e}" for e in found.errors[1:])
                raise RuleLoadError(
                    first.path,
                    first.key,
                    f"{first.problem}\n{len(found.errors) - 1} more:\n{more}",
                    line=first.line,
                )
            raise first
        return cls(found.rules, found)

    @property
    def broken_rules(self) -> list[BrokenRule]:
        """Rules that failed to load and are not disabled (each deserves a rule-error alert)."""
        return [b for b in self.ruleset.broken if b.enabled]

    def rules_for(self, log_type: str) -> list[Rule]:
        """The enabled rules for a log type, in load order."""
        return [r for r in self.rules if r.enabled and log_type in r.log_types]

    def _index(self, log_type: str) -> _LogTypeIndex:
        index = self._indexes.get(log_type)
        if index is None:
            index = _LogTypeIndex([r.runner for r in self.rules_for(log_type)])
            self._indexes[log_type] = index
        return index

    def evaluate(self, log_type: str, event: dict[str, Any]) -> list[RuleResult]:
        """Results of the rules that matched or failed on a normalised event (production mode)."""
        candidates = self._index(log_type).candidates(event)
        if not candidates:
            return []
        return self._run(candidates, event)

    @staticmethod
    def _run(candidates: Plan, event: dict[str, Any]) -> list[RuleResult]:
        out: list[RuleResult] = []
        wrapped: PantherEvent | None = None
        for runner, pre in candidates:
            if pre is not None and not pre(event):
                continue
            if wrapped is None:
                wrapped = PantherEvent(event)
            result = runner.run(event, wrapped, prefiltered=True)
            if result is not None:
                out.append(result)
        return out

    def evaluate_page(self, log_type: str, body: bytes, parse_time: str | None = None) -> PageOutcome:
        """Gzip (or plain) page bytes -> normalised events and rule results; raises InvalidPage.

        Records that fail validation are reported in ``invalid`` with their reason, never dropped.
        """
        from wizwatch.parse.normalize import Normalizer
        from wizwatch.parse.pages import read_page
        from wizwatch.parse.timestamps import now_panther

        page = read_page(body)
        normalizer = self._normalizers.get(log_type)
        if normalizer is None:
            normalizer = self._normalizers[log_type] = Normalizer(log_type)
        parse_time = parse_time or now_panther()
        candidates_of = self._index(log_type).candidates
        run = self._run
        events, invalid = normalizer.normalize_page(page.records, parse_time)
        results: dict[int, list[RuleResult]] = {}
        for i, event in enumerate(events):
            if event is None:
                continue
            candidates = candidates_of(event)
            if candidates:
                found = run(candidates, event)
                if found:
                    results[i] = found
        return PageOutcome(events=events, results=results, invalid=invalid, connection=page.connection)


__all__ = ["Engine", "InvalidPage", "PageOutcome"]
