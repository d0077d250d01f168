"""``wizwatch test``: run rule tests in Panther's test mode, with Panther-style output.

Exit status 1 when any rule fails to load, any test fails, or a rule has too few tests for
``--minimum-tests``; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

from wizwatch.alerts.routing import Router
from wizwatch.detect.loader import load_rules
from wizwatch.detect.spec import Rule
from wizwatch.detect.testing import TestOutcome, check_minimum_tests, run_test
from wizwatch.errors import WizwatchError

DEFAULT_PATH = Path("functions/detector/rules")
#: The destinations document the deployment ships (the config layer).
DEFAULT_DESTINATIONS = Path("config/destinations.yml")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH", help=f"rule files or folders (default {DEFAULT_PATH})"
    )
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
        "--destinations",
        type=Path,
        default=None,
        metavar="FILE",
        help="destinations document that OutputIds and destinations() must name (default: "
        f"$DESTINATIONS_FILE, else {DEFAULT_DESTINATIONS} if present, else the built-in SNS-only one)",
    )


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--filter expects KEY=VALUE, got {item!r}")
        filters.setdefault(key.strip(), []).extend(v.strip() for v in value.split(","))
    return filters


def _matches(rule: Rule, filters: dict[str, list[str]]) -> bool:
    for key, wanted in filters.items():
        value = rule.spec.get(key)
        if key == "Severity":
            value = rule.severity
        if key == "Enabled":
            value = rule.enabled
        if key == "DedupPeriodMinutes":
            value = rule.dedup_period_minutes
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


def print_outcome(out: TextIO, o: TestOutcome) -> None:
    print(f"\t[{'PASS' if o.passed else 'FAIL'}] {o.test.name}", file=out)
    for problem in o.problems:
        print(f"\t\t[ERROR] {problem}", file=out)
    r = o.result
    if r is not None and r.matched and o.test.expected:
        fns = o.rule.runner.functions
        for name, label, attr in (
            ("title", "title", "title"),
            ("dedup", "dedup", "dedup"),
            ("alert_context", "alertContext", "alert_context"),
            ("severity", "severity", "severity"),
            ("description", "description", "description"),
            ("reference", "reference", "reference"),
            ("runbook", "runbook", "runbook"),
            ("destinations", "destinations", "destinations"),
            ("unique", "unique", "unique"),
        ):
            if name in fns:
                print(f"\t\t[{label}] {_fmt(getattr(r, attr))}", file=out)


def router_for(path: Path | None) -> Router:
    """The destinations rules may name; ConfigError if the document is invalid."""
    if path is None:
        env = os.environ.get("DESTINATIONS_FILE")
        path = Path(env) if env else (DEFAULT_DESTINATIONS if DEFAULT_DESTINATIONS.is_file() else None)
    return Router.from_file(path)


def unknown_destinations(router: Router, o: TestOutcome) -> None:
    """A test whose destinations() names an unconfigured destination fails, saying which."""
    r = o.result
    missing = router.unknown(r.destinations or []) if r is not None else []
    if missing:
        o.problems.append(
            f"destinations() returned {missing}, not configured (known: {', '.join(sorted(router.specs))})"
        )
        o.passed = False


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        filters = parse_filters(args.filter)
        router = router_for(getattr(args, "destinations", None))
    except (ValueError, WizwatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = args.paths or [DEFAULT_PATH]
    rules: list[Rule] = []
    load_errors = []
    for path in paths:
        loaded, errors = load_rules(path)
        rules.extend(loaded)
        load_errors.extend(errors)
    rules = [r for r in sorted(rules, key=lambda r: r.rule_id) if _matches(r, filters)]
    passed: list[str] = []
    failed: dict[str, list[str]] = {}
    for rule in rules:
        tests = rule.tests
        if args.test_names:
            tests = [t for t in tests if t.name in set(args.test_names)]
        print(rule.rule_id, file=out)
        for problem in router.check_rules([rule]):
            print(f"\t[FAIL] {problem}", file=out)
            failed.setdefault(rule.rule_id, []).append("OutputIds")
        for test in tests:
            outcome = run_test(rule, test)
            unknown_destinations(router, outcome)
            print_outcome(out, outcome)
            if not outcome.passed:
                failed.setdefault(rule.rule_id, []).append(test.name)
        if args.minimum_tests:
            for problem in check_minimum_tests(rule, args.minimum_tests):
                print(f"\t[FAIL] --minimum-tests {args.minimum_tests}: {problem}", file=out)
                failed.setdefault(rule.rule_id, []).append(f"minimum tests: {problem}")
        if rule.rule_id not in failed:
            passed.append(rule.rule_id)
        print(file=out)

    if failed:
        print("Failed Tests Summary", file=out)
        for rule_id, names in failed.items():
            print(f"\t{rule_id}", file=out)
            for name in names:
                print(f"\t\t{name}", file=out)
        print(file=out)
    if load_errors:
        print("Invalid Rules", file=out)
        for err in load_errors:
            print(f"\t{err}", file=out)
        print(file=out)
    print("--------------------------", file=out)
    print("Panther CLI Test Summary", file=out)
    print(f"\tPath: {', '.join(str(p) for p in paths)}", file=out)
    print(f"\tPassed: {len(passed)}", file=out)
    print(f"\tFailed: {len(failed)}", file=out)
    print(f"\tInvalid: {len(load_errors)}", file=out)
    if not rules and not load_errors:
        print("no rules matched", file=out)
        return 1
    return 1 if failed or load_errors else 0
