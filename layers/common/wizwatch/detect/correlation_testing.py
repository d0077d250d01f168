"""Panther's correlation-rule tests (``RuleOutputs``), run offline.

Each ``RuleOutputs`` entry lists, for one member, the values of its match fields and the times
they were seen; each (value, time) is one signal. The test passes when
:func:`wizwatch.detect.correlation.evaluate` finds a match exactly when ``ExpectedResult`` says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wizwatch.detect.correlation import CorrelationMatch, Signal, evaluate
from wizwatch.detect.correlation_spec import CorrelationRule, CorrelationTest


@dataclass
class CorrelationOutcome:
    rule: CorrelationRule
    test: CorrelationTest
    passed: bool
    matched: bool
    matches: list[CorrelationMatch] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def signals_of(test: CorrelationTest) -> list[Signal]:
    out = []
    for member, entries in test.outputs.items():
        for n, (path, value, when) in enumerate(entries):
            out.append(Signal(member, when, ((path, value),), identity=f"{member}#{n}"))
    return out


def run_correlation_test(rule: CorrelationRule, test: CorrelationTest) -> CorrelationOutcome:
    matches = evaluate(rule, signals_of(test))
    matched = bool(matches)
    problems = [] if matched == test.expected else [f"expected a match: {test.expected}, got {matched}"]
    return CorrelationOutcome(rule, test, not problems, matched, matches, problems)
