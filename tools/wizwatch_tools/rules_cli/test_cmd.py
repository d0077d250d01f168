"""``wizwatch test``: run rule tests in Panther's test mode, with Panther-style output.

Options follow ``panther_analysis_tool test`` (``--path``, ``--filter``, ``--minimum-tests``,
``--test-names``, ``--show-failures-only``, ``--skip-disabled-tests``). Besides Panther's:
correlation rules' ``RuleOutputs`` tests run offline, ``.wizwatch.yml`` expected outputs are
checked, and tests listed in ``rules-overrides.yml`` run against the overridden rule (a rule's own
tests run against the rule as written, so tuning never breaks a managed rule's tests). A rule whose
``OutputIds`` (or a test whose ``destinations()`` result) names a destination the destinations
document lacks fails (``--destinations``; default ``$DESTINATIONS_FILE``, else the shipped
``config/destinations.yml``), as the detector's start-up would.

Exit status 1 when any rule fails to load, any test fails, or a rule has too few tests for
``--minimum-tests``; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from wizwatch.alerts.routing import Router
from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.correlation_testing import run_correlation_test
from wizwatch.detect.loader import RuleSet, load_tree
from wizwatch.detect.spec import Rule, RuleTest
from wizwatch.detect.testing import TestOutcome, check_minimum_tests, run_test
from wizwatch.errors import RuleLoadError, WizwatchError

from .paths import REPO, default_rules_dir

#: The destinations document the deployment ships (the config layer).
DEFAULT_DESTINATIONS = REPO / "config" / "destinations.yml"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="rule files or folders (default: the bundled rules)",
    )
    parser.add_argument(
        "--path", dest="more_paths", action="append", type=Path, default=[], metavar="PATH",
        help="a rule file or folder, as panther_analysis_tool takes it (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only rules whose spec KEY has VALUE (comma list = any of them); repeatable, ANDed",
    )
    parser.add_argument(
        "--minimum-tests",
        type=int,
        default=0,
        metavar="N",
        help="require N tests per rule (N>=2: a true and a false case)",
    )
    parser.add_argument(
        "--test-names", nargs="+", default=None, metavar="NAME", help="only run tests with these names"
    )
    parser.add_argument(
        "--show-failures-only", action="store_true", help="print only failed tests and the summary"
    )
    parser.add_argument("--skip-disabled-tests", action="store_true", help="skip the tests of disabled rules")
    parser.add_argument(
        "--destinations",
        type=Path,
        default=None,
        metavar="FILE",
        help="destinations document that OutputIds and destinations() must name "
        "(default: $DESTINATIONS_FILE, else config/destinations.yml)",
    )


def router_for(path: Path | None) -> Router:
    """The destinations rules may name; ConfigError if the document is invalid."""
    if path is None:
        env = os.environ.get("DESTINATIONS_FILE")
        path = Path(env) if env else (DEFAULT_DESTINATIONS if DEFAULT_DESTINATIONS.is_file() else None)
    return Router.from_file(path)


def unknown_destinations(router: Router, o: TestOutcome) -> None:
    """A test whose destinations() names an unconfigured destination fails, saying which."""
    missing = router.unknown(o.result.destinations or []) if o.result is not None else []
    if missing:
        known = ", ".join(sorted(router.specs))
        o.problems.append(f"destinations() returned {missing}, not configured (known: {known})")
        o.passed = False


def _destination_problems(router: Router, rule: Rule | CorrelationRule, tally: _Tally) -> list[str]:
    problems = router.check_rules([rule])
    if problems:
        tally.failed.setdefault(rule.rule_id, []).append("OutputIds")
    return problems


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--filter expects KEY=VALUE, got {item!r}")
        filters.setdefault(key.strip(), []).extend(v.strip() for v in value.split(","))
    return filters


def _spec_of(rule: Rule | CorrelationRule) -> dict[str, Any]:
    return (
        rule.spec if isinstance(rule, Rule) else {"AnalysisType": "correlation_rule", "RuleID": rule.rule_id}
    )


def matches_filters(rule: Rule | CorrelationRule, filters: dict[str, list[str]]) -> bool:
    effective = {
        "Severity": rule.severity,
        "Enabled": rule.enabled,
        "DedupPeriodMinutes": rule.dedup_period_minutes,
        "RuleID": rule.rule_id,
        "LogTypes": rule.log_types,
        "Tags": rule.tags,
    }
    for key, wanted in filters.items():
        value = effective[key] if key in effective else _spec_of(rule).get(key)
        values = value if isinstance(value, list) else [value]
        text = {str(v).lower() if isinstance(v, bool) else str(v) for v in values}
        if key == "Severity":
            text = {t.upper() for t in text}
            wanted = [w.upper() for w in wanted]
        if not text & set(wanted):
            return False
    return True


def _fmt(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


#: (function, PAT's label, RuleResult attribute) printed for a true-expected test.
OUTPUTS = (
    ("title", "title", "title"),
    ("dedup", "dedup", "dedup"),
    ("alert_context", "alertContext", "alert_context"),
    ("severity", "severity", "severity"),
    ("description", "description", "description"),
    ("reference", "reference", "reference"),
    ("runbook", "runbook", "runbook"),
    ("destinations", "destinations", "destinations"),
    ("unique", "unique", "unique"),
)


def print_outcome(out: TextIO, o: TestOutcome, label: str = "") -> None:
    print(f"\t[{'PASS' if o.passed else 'FAIL'}] {label}{o.test.name}", file=out)
    for problem in o.problems:
        print(f"\t\t[ERROR] {problem}", file=out)
    r = o.result
    if r is not None and r.matched and o.test.expected:
        fns = o.rule.runner.functions
        for name, shown, attr in OUTPUTS:
            if name in fns:
                print(f"\t\t[{shown}] {_fmt(getattr(r, attr))}", file=out)


@dataclass
class _Tally:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)


def _run_rule(rule: Rule, args: argparse.Namespace, out: TextIO, tally: _Tally, router: Router) -> None:
    names = set(args.test_names) if args.test_names else None
    routing = _destination_problems(router, rule, tally)
    own = rule.unmodified or rule
    plan: list[tuple[Rule, RuleTest, str]] = [(own, t, "") for t in own.tests]
    plan += [(rule, t, "[override] ") for t in rule.override_tests]
    lines: list[tuple[bool, TestOutcome, str]] = []
    for target, test, label in plan:
        if names is not None and test.name not in names:
            continue
        outcome = run_test(target, test)
        unknown_destinations(router, outcome)
        lines.append((outcome.passed, outcome, label))
        if not outcome.passed:
            tally.failed.setdefault(rule.rule_id, []).append(label + test.name)
    minimum = check_minimum_tests(own, args.minimum_tests) if args.minimum_tests else []
    for problem in minimum:
        tally.failed.setdefault(rule.rule_id, []).append(f"minimum tests: {problem}")
    if rule.rule_id not in tally.failed:
        tally.passed.append(rule.rule_id)
    shown = [(o, label) for passed, o, label in lines if not (args.show_failures_only and passed)]
    if args.show_failures_only and not shown and not minimum and not routing:
        return
    print(rule.rule_id, file=out)
    for problem in routing:
        print(f"\t[FAIL] {problem}", file=out)
    for o, label in shown:
        print_outcome(out, o, label)
    for problem in minimum:
        print(f"\t[FAIL] --minimum-tests {args.minimum_tests}: {problem}", file=out)
    print(file=out)


def _run_correlation(
    rule: CorrelationRule, args: argparse.Namespace, out: TextIO, tally: _Tally, router: Router
) -> None:
    names = set(args.test_names) if args.test_names else None
    lines = []
    for test in rule.tests:
        if names is not None and test.name not in names:
            continue
        o = run_correlation_test(rule, test)
        lines.append(o)
        if not o.passed:
            tally.failed.setdefault(rule.rule_id, []).append(test.name)
    routing = _destination_problems(router, rule, tally)
    problems = []
    if args.minimum_tests:
        if len(rule.tests) < args.minimum_tests:
            problems.append(f"has {len(rule.tests)} tests, at least {args.minimum_tests} required")
        if args.minimum_tests >= 2 and {t.expected for t in rule.tests} != {True, False}:
            problems.append("needs a test expecting true and one expecting false")
    for problem in problems:
        tally.failed.setdefault(rule.rule_id, []).append(f"minimum tests: {problem}")
    if rule.rule_id not in tally.failed:
        tally.passed.append(rule.rule_id)
    shown = [o for o in lines if not (args.show_failures_only and o.passed)]
    if args.show_failures_only and not shown and not problems and not routing:
        return
    print(rule.rule_id, file=out)
    for problem in routing:
        print(f"\t[FAIL] {problem}", file=out)
    for o in shown:
        print(f"\t[{'PASS' if o.passed else 'FAIL'}] {o.test.name}", file=out)
        for problem in o.problems:
            print(f"\t\t[ERROR] {problem}", file=out)
        for m in o.matches if o.test.expected else []:
            print(f"\t\t[match] {m.dedup}: {', '.join(sorted({s.member for s in m.signals}))}", file=out)
    for problem in problems:
        print(f"\t[FAIL] --minimum-tests {args.minimum_tests}: {problem}", file=out)
    print(file=out)


def load_paths(paths: list[Path]) -> RuleSet:
    """Every rule under every path, merged (a missing path is a load error, not a crash)."""
    merged = RuleSet()
    for path in paths:
        try:
            found = load_tree(path)
        except RuleLoadError as exc:
            merged.errors.append(exc)
            continue
        merged.rules += found.rules
        merged.correlations += found.correlations
        merged.errors += found.errors
        merged.broken += found.broken
        merged.overrides += found.overrides
    return merged


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        filters = parse_filters(args.filter)
        router = router_for(getattr(args, "destinations", None))
    except (ValueError, WizwatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = [*args.paths, *args.more_paths] or [default_rules_dir()]
    found = load_paths(paths)
    tally = _Tally()
    everything: list[Rule | CorrelationRule] = [*found.rules, *found.correlations]
    selected = sorted((r for r in everything if matches_filters(r, filters)), key=lambda r: r.rule_id)
    for rule in selected:
        if args.skip_disabled_tests and not rule.enabled:
            tally.skipped.append(rule.rule_id)
            continue
        if isinstance(rule, Rule):
            _run_rule(rule, args, out, tally, router)
        else:
            _run_correlation(rule, args, out, tally, router)

    if tally.failed:
        print("Failed Tests Summary", file=out)
        for rule_id, names in tally.failed.items():
            print(f"\t{rule_id}", file=out)
            for name in names:
                print(f"\t\t{name}", file=out)
        print(file=out)
    invalid = {e.rule_id or e.path for e in found.errors}
    if found.errors:
        print("Invalid Rules", file=out)
        for err in found.errors:
            print(f"\t{err}", file=out)
        print(file=out)
    print("--------------------------", file=out)
    print("Panther CLI Test Summary", file=out)
    print(f"\tPath: {', '.join(str(p) for p in paths)}", file=out)
    print(f"\tPassed: {len(tally.passed)}", file=out)
    print(f"\tSkipped: {len(tally.skipped)}", file=out)
    print(f"\tFailed: {len(tally.failed)}", file=out)
    print(f"\tInvalid: {len(invalid)}", file=out)
    if not selected and not found.errors:
        print("no rules matched", file=out)
        return 1
    return 1 if tally.failed or found.errors else 0
