"""``wizwatch debug RULE TEST``: run one test and show every function's output or error.

Like ``panther_analysis_tool debug``: the test's log, then each step in the order the engine
takes them (InlineFilters, the overrides' allow-list, ``rule``, then every defined optional
function) with its return value or its full traceback, then the test's verdict. For a
correlation rule: the test's signals per member and the matches found.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.correlation_testing import run_correlation_test, signals_of
from wizwatch.detect.event import PantherEvent
from wizwatch.detect.runner import OPTIONAL_FUNCTIONS
from wizwatch.detect.selection import accepts, field_key
from wizwatch.detect.spec import Rule
from wizwatch.detect.testing import mocks_applied, run_test

from .paths import load_or_report


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rule_id", metavar="RULE", help="the RuleID")
    parser.add_argument("test_name", metavar="TEST", help="the test's Name")
    parser.add_argument("--rules", type=Path, default=None, help="rule folder (default: the bundled rules)")


def _show(value: Any) -> str:
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _step(out: TextIO, label: str, fn: Any, event: Any) -> Any:
    try:
        value = fn(event)
    except Exception:
        print(f"[{label}] ERROR", file=out)
        print("\t" + traceback.format_exc().rstrip().replace("\n", "\n\t"), file=out)
        return None
    print(f"[{label}] {_show(value)}", file=out)
    return value


def _selection(out: TextIO, runner: Any, event: dict[str, Any]) -> None:
    """Each derived selector and whether this log meets it (in production a rule whose selector
    rejects the event is not run at all: it would have returned False)."""
    terms = getattr(runner, "selectors", [])
    if not terms:
        print("[selection] none derived: the rule runs on every event", file=out)
    for term in terms:
        ok = accepts(term, field_key(event, term.path))
        print(
            f"[selection] {term.describe()}: {'met' if ok else 'NOT met (skipped in production)'}", file=out
        )


def debug_rule(rule: Rule, test_name: str, out: TextIO) -> int:
    candidates = [(rule.unmodified or rule, t) for t in (rule.unmodified or rule).tests]
    candidates += [(rule, t) for t in rule.override_tests]
    found = [(r, t) for r, t in candidates if t.name == test_name]
    if not found:
        names = ", ".join(t.name for _, t in candidates) or "none"
        print(f"error: {rule.rule_id} has no test {test_name!r} (tests: {names})", file=sys.stderr)
        return 2
    target, test = found[0]
    runner = target.runner
    print(f"Rule: {target.rule_id} ({target.path})", file=out)
    print(f"Test: {test.name} (ExpectedResult: {str(test.expected).lower()})", file=out)
    print(f"Log: {_show(test.log)}", file=out)
    _selection(out, runner, dict(test.log))  # outside the mocks: they are not the rule's code
    with mocks_applied(target, test.mocks):
        event = dict(test.log)
        wrapped = PantherEvent(event)
        if runner.filter is not None:
            _step(out, "InlineFilters", runner.filter.predicate, event)
        if runner.allow is not None:
            passed = _step(out, "AllowList passes", runner.allow.predicate, event)
            if passed is False:
                print("\t(an allow-list entry matches: the rule is not run on this event)", file=out)
        if runner.detection is not None:
            _step(out, "Detection", runner.detection.predicate, event)
        elif "rule" in runner.functions:
            _step(out, "rule", runner.functions["rule"], wrapped)
        for name in OPTIONAL_FUNCTIONS:
            if name in runner.functions:
                _step(out, name, runner.functions[name], wrapped)
    outcome = run_test(target, test)
    print(f"Result: {'PASS' if outcome.passed else 'FAIL'}", file=out)
    for problem in outcome.problems:
        print(f"\t{problem}", file=out)
    return 0 if outcome.passed else 1


def debug_correlation(rule: CorrelationRule, test_name: str, out: TextIO) -> int:
    test = next((t for t in rule.tests if t.name == test_name), None)
    if test is None:
        names = ", ".join(t.name for t in rule.tests) or "none"
        print(f"error: {rule.rule_id} has no test {test_name!r} (tests: {names})", file=sys.stderr)
        return 2
    print(f"Correlation rule: {rule.rule_id} ({rule.path})", file=out)
    print(f"Test: {test.name} (ExpectedResult: {str(test.expected).lower()})", file=out)
    for m in rule.members:
        mark = " (Absence)" if m.absent else f" (MinMatchCount {m.min_count})"
        print(f"[member] {m.id} <- {m.rule_id}{mark}", file=out)
        for s in sorted((s for s in signals_of(test) if s.member == m.id), key=lambda s: s.time):
            print(f"\t{s.time:.0f}s {dict(s.values)}", file=out)
    outcome = run_correlation_test(rule, test)
    for match in outcome.matches:
        print(f"[match] key {_show(match.key)}, span {match.last - match.first:.0f}s", file=out)
    print(f"Result: {'PASS' if outcome.passed else 'FAIL'}", file=out)
    for problem in outcome.problems:
        print(f"\t{problem}", file=out)
    return 0 if outcome.passed else 1


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    found = load_or_report(args.rules)
    if found is None:
        return 2
    for rule in found.rules:
        if rule.rule_id == args.rule_id:
            return debug_rule(rule, args.test_name, out)
    for corr in found.correlations:
        if corr.rule_id == args.rule_id:
            return debug_correlation(corr, args.test_name, out)
    broken = [b for b in found.broken if b.rule_id == args.rule_id]
    if broken:
        print(f"error: {args.rule_id} failed to load:", file=sys.stderr)
        for err in broken[0].errors:
            print(f"\t{err}", file=sys.stderr)
        return 1
    print(f"error: no rule {args.rule_id!r}", file=sys.stderr)
    return 2
