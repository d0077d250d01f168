"""Panther's test mode: run a rule's ``Tests`` and judge each one.

Differences from production are Panther's: the log is used as written (no normalisation), mocks
are patched onto the rule module, and any exception in any defined function fails the test
instead of falling back. ``Expected*`` keys (pypanther style) are compared too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from wizwatch.detect.event import PantherEvent
from wizwatch.detect.result import RuleResult
from wizwatch.detect.runner import RuleRunner
from wizwatch.detect.spec import Rule, RuleTest

#: Expected<Key> -> RuleResult attribute.
EXPECTATIONS = {
    "Title": "title",
    "Dedup": "dedup",
    "Severity": "severity",
    "AlertContext": "alert_context",
    "Description": "description",
    "Reference": "reference",
    "Runbook": "runbook",
    "Destinations": "destinations",
}


@dataclass
class TestOutcome:
    rule: Rule
    test: RuleTest
    passed: bool
    matched: bool | None
    result: RuleResult | None = None
    problems: list[str] = field(default_factory=list)


@contextmanager
def mocks_applied(rule: Rule, mocks: list[dict[str, Any]]) -> Iterator[None]:
    """Patch each ``objectName`` on the rule module: callables return ``returnValue``."""
    if not mocks or rule.module is None:
        yield
        return
    patches = []
    for m in mocks:
        name = str(m["objectName"])
        value = m.get("returnValue")
        current = getattr(rule.module, name, None)
        replacement = mock.MagicMock(return_value=value) if callable(current) or current is None else value
        patches.append(mock.patch.object(rule.module, name, replacement, create=True))
    for p in patches:
        p.start()
    try:
        yield
    finally:
        for p in reversed(patches):
            p.stop()


def run_test(rule: Rule, test: RuleTest) -> TestOutcome:
    runner: RuleRunner = rule.runner
    problems: list[str] = []
    with mocks_applied(rule, test.mocks):
        event = dict(test.log)
        result = runner.run(event, PantherEvent(event))
    if result is not None and result.error is not None:
        problems.append(f"rule() failed: {result.error}")
        return TestOutcome(rule, test, False, None, result, problems)
    matched = result is not None and result.matched
    if matched != test.expected:
        problems.append(f"expected rule() to return {test.expected}, got {matched}")
    if result is not None:
        for name, err in result.function_errors.items():
            problems.append(f"{name}() failed: {err}")
        for key, expected in test.expectations.items():
            attr = EXPECTATIONS.get(key)
            if attr is None:
                continue
            got = getattr(result, attr)
            if got != expected:
                problems.append(f"Expected{key}: expected {expected!r}, got {got!r}")
    return TestOutcome(rule, test, not problems, matched, result, problems)


def check_minimum_tests(rule: Rule, minimum: int) -> list[str]:
    """Panther's --minimum-tests: N tests, and with N >= 2 at least one true and one false case."""
    problems = []
    if len(rule.tests) < minimum:
        problems.append(f"has {len(rule.tests)} tests, at least {minimum} required")
    if minimum >= 2:
        if not any(t.expected for t in rule.tests):
            problems.append("needs at least one test expecting true")
        if not any(not t.expected for t in rule.tests):
            problems.append("needs at least one test expecting false")
    return problems
