"""The rule engine: every enabled rule for a log type, run on each event in production mode.

Speed comes from not running rules that cannot match. Each rule's *selectors* (necessary
conditions derived at load time from its ``InlineFilters``, ``Detection`` and its own ``rule()``
code: ``wizwatch.detect.selection``) say which values of a field it can produce a result for; per
log type the engine files each rule under its most selective selector. An event then costs one
lookup per indexed field (remembered per combination of values) plus the rules with no selector.
The index only skips rules that would have returned False without raising, so results are the
same as running every rule (``tests/unit/detect/test_selection.py`` checks this).
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
from wizwatch.detect.selection import MISSING, UNKNOWN, Term, field_key
from wizwatch.detect.spec import Rule
from wizwatch.errors import InvalidPage, RuleLoadError


class _LogTypeIndex:
    """Rules of one log type filed by the value their selector asks of one field."""

    def __init__(self, runners: list[RuleRunner]) -> None:
        # A field is more selective the more distinct values the rules ask of it (``action``:
        # dozens; ``status``: one or two), so each rule is filed under its most selective term.
        distinct: dict[tuple[str, ...], set[Any]] = {}
        for r in runners:
            for t in r.selectors:
                distinct.setdefault(t.path, set()).update(t.values)
        counts: Counter[tuple[str, ...]] = Counter({k: len(v) for k, v in distinct.items()})
        self.always: list[RuleRunner] = []
        tables: dict[tuple[str, ...], _PathTable] = {}
        for r in runners:
            if not r.selectors:
                self.always.append(r)
                continue
            term = max(r.selectors, key=lambda t: (counts[t.path], -len(t.values), not t.missing))
            tables.setdefault(term.path, _PathTable()).add(r, term)
        self.paths = tuple(tables)
        self.tables = tuple(tables.values())
        # The candidates depend only on the indexed fields' values, and events repeat a few
        # (action, status) pairs: remember each combination's plan. When every indexed field is
        # a top-level key, an event holding each under its exact name is answered from the memo
        # by one itemgetter (its values equal a remembered key tuple only if they are those values).
        names = [p[0] for p in self.paths if len(p) == 1]
        self._names = tuple(names) if len(names) == len(self.paths) else None
        self._values: Callable[[dict[str, Any]], Any] | None = None
        if self._names:
            getter = operator.itemgetter(*self._names)
            self._values = getter if len(self._names) > 1 else (lambda e: (getter(e),))
        self._memo: dict[Any, Plan] = {}
        #: The plan when nothing is indexed (every rule runs): built once, read-only.
        self._always_plan = _plan(self.always)

    def candidates(self, event: dict[str, Any]) -> Plan:
        """(rule, prefilter still to check) for the rules that may match, in load order.

        The prefilter is None when the rule has none, or when it reads only indexed keys and was
        decided once for these values (rules it rejects are left out).
        """
        if not self.paths:
            return self._always_plan
        values_of = self._values
        if values_of is not None:
            try:
                return self._memo[values_of(event)]
            except (KeyError, TypeError):  # absent / other case / unhashable / not seen yet
                pass
        key = [field_key(event, p) for p in self.paths]
        # Remembered by type too (True == 1 == 1.0, but a prefilter may tell them apart); only
        # str values are remembered bare, so an itemgetter hit above is always a str match.
        memo_key = tuple([k if type(k) is str or k is MISSING or k is UNKNOWN else (type(k), k) for k in key])
        found = self._memo.get(memo_key)
        if found is None:
            found = self._decide(key)
            if len(self._memo) < _MEMO_MAX:
                self._memo[memo_key] = found
        return found

    def _decide(self, key: list[Any]) -> Plan:
        """The plan for events whose indexed fields have these index keys.

        A prefilter that reads only top-level keys indexed here, each present with a scalar
        value, gives the same answer on a dict of just those keys (keys are read exact-name
        first, and the index key of a key present only in another case is UNKNOWN), so it is
        decided here once.
        """
        runners: list[RuleRunner] = []
        sources = 0
        for table, k in zip(self.tables, key, strict=True):
            hit = table.lookup(k)
            if hit:
                sources += 1
                runners.extend(hit)
        if self.always:
            sources += 1
            runners.extend(self.always)
        if sources > 1:
            runners.sort(key=_ordinal)
        known = {
            p[0]: k
            for p, k in zip(self.paths, key, strict=True)
            if len(p) == 1 and k is not MISSING and k is not UNKNOWN
        }
        plan: Plan = []
        for r in runners:
            pre = r.prefilter
            if pre is not None and r.prefilter_keys is not None and r.prefilter_keys <= known.keys():
                if not pre(known):
                    continue
                pre = None
            plan.append((r, pre))
        return plan if plan else _NO_PLAN


class _PathTable:
    """The rules filed under one field: by accepted value, on a missing field, and all of them."""

    def __init__(self) -> None:
        self.by_value: dict[Any, list[RuleRunner]] = {}
        self.on_missing: list[RuleRunner] = []
        self.every: list[RuleRunner] = []

    def add(self, runner: RuleRunner, term: Term) -> None:
        for v in term.values:
            self.by_value.setdefault(v, []).append(runner)
        if term.missing:
            self.on_missing.append(runner)
        self.every.append(runner)

    def lookup(self, key: Any) -> list[RuleRunner]:
        if key is UNKNOWN:
            return self.every
        if key is MISSING:
            return self.on_missing
        return self.by_value.get(key, _NONE)


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
