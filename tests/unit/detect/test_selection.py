"""Rule selection derived at load time: what it derives, what it refuses, and that the engine's
results with it are identical to running every rule on every event."""

from __future__ import annotations

import copy
import importlib.util
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wizwatch.detect.engine import Engine
from wizwatch.detect.event import PantherEvent
from wizwatch.detect.result import RuleResult
from wizwatch.detect.selection import MISSING, UNKNOWN, field_key
from wizwatch.detect.spec import Rule
from wizwatch.parse.normalize import Normalizer

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"
MAKER = ROOT.parent / "shared" / "bench" / "make_corpus.py"


def _outcome(r: RuleResult) -> tuple[Any, ...]:
    return (
        r.rule.rule_id,
        r.matched,
        r.error,
        r.title,
        r.dedup,
        r.severity,
        r.alert_context,
        r.description,
        r.reference,
        r.runbook,
        r.destinations,
        r.unique,
        r.function_errors,
    )


def _every_rule(engine: Engine, log_type: str, event: dict[str, Any]) -> list[tuple[Any, ...]]:
    out = []
    for rule in engine.rules_for(log_type):
        r = rule.runner.run(event, PantherEvent(event))
        if r is not None:
            out.append(_outcome(r))
    return out


def _check(engine: Engine, log_type: str, event: dict[str, Any]) -> int:
    got = [_outcome(r) for r in engine.evaluate(log_type, event)]
    assert got == _every_rule(engine, log_type, event), (log_type, event)
    return len(got)


_ODD = [None, 7, True, 1.5, ["SUCCESS"], {"a": 1}, "", "success", "SUCCESS", "OPEN", "Login", "FAILED"]


def _mutants(event: dict[str, Any], rnd: random.Random) -> list[dict[str, Any]]:
    """The event with fields dropped, retyped, in another case, duplicated in two cases, nested."""
    out = []
    keys = [k for k in event if not k.startswith("p_")]
    for key in rnd.sample(keys, min(4, len(keys))):
        dropped = {k: v for k, v in event.items() if k != key}
        out.append(dropped)
        for odd in rnd.sample(_ODD, 3):
            out.append({**event, key: copy.deepcopy(odd)})
        upper = {(k.upper() if k == key else k): v for k, v in event.items()}
        out.append(upper)
        out.append({**event, key.upper(): event[key]})
        value = event[key]
        if isinstance(value, str):
            out.append({**event, key: value.lower()})
            out.append({**event, key: [value]})
        if isinstance(value, dict):
            inner = {k: v for k, v in list(value.items())[1:]}
            out.append({**event, key: inner})
            out.append({**event, key: {k.upper(): v for k, v in value.items()}})
    return out


def test_engine_equals_running_every_rule_on_corpus_and_mutants() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", MAKER)
    assert spec and spec.loader
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    engine = Engine.from_directory(RULES)
    rnd = random.Random(14)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    makers = {
        "Wiz.Audit": corpus.audit_node,
        "Wiz.Issues": corpus.issue_node,
        "Wiz.VulnerabilityFinding": corpus.vuln_node,
    }
    results = 0
    for log_type, make in makers.items():
        norm = Normalizer(log_type)
        for i in range(300):
            event = norm.normalize(make(rnd, t))
            for _ in range(2):  # the second time from the remembered plan
                results += _check(engine, log_type, event)
            if i % 10 == 0:
                for mutant in _mutants(event, rnd):
                    results += _check(engine, log_type, mutant)
    # Every rule's own test logs (the types without a corpus maker, too), and their mutants.
    for rule in engine.rules:
        for test in rule.tests:
            for log_type in rule.log_types:
                results += _check(engine, log_type, test.log)
                for mutant in _mutants(test.log, rnd):
                    results += _check(engine, log_type, mutant)
    assert results > 200


def test_panther_wiz_rules_in_upstream_form_are_selected_by_their_own_code() -> None:
    engine = Engine.from_directory(RULES)
    audit = [r for r in engine.rules_for("Wiz.Audit") if r.rule_id.startswith("Wiz.")]
    assert len(audit) == 16
    for rule in audit:
        assert "InlineFilters" not in rule.spec
        paths = {t.path for t in rule.runner.selectors}
        assert paths == {("status",), ("action",)}, rule.rule_id
    rule_change = next(r for r in audit if r.rule_id == "Wiz.Rule.Change")
    action = next(t for t in rule_change.runner.selectors if t.path == ("action",))
    assert "DeleteAutomationRule" in action.values and len(action.values) == 13
    assert not action.missing  # the default "ACTION_NOT_FOUND" is not one of them


def test_field_key_mirrors_case_insensitive_reads_conservatively() -> None:
    assert field_key({"a": "x"}, ("a",)) == "x"
    assert field_key({}, ("a",)) is MISSING
    assert field_key({"A": "x"}, ("a",)) is UNKNOWN  # found only in another case: cannot tell
    assert field_key({"a": ["x"]}, ("a",)) is UNKNOWN
    assert field_key({"a": {"b": "y"}}, ("a", "b")) == "y"
    assert field_key({"a": "str"}, ("a", "b")) is MISSING
    assert field_key({"a": None}, ("a", "b")) is MISSING
    assert field_key({"a": {"b": {}}}, ("a", "b")) is UNKNOWN


def _terms(rule: Rule) -> set[tuple[str, frozenset[Any], bool]]:
    return {(".".join(t.path), t.values, t.missing) for t in rule.runner.selectors}


DERIVED = [
    (
        'A = ("X",)\n\ndef ok(event):\n    return event.get("s") in A\n\n'
        "def rule(event):\n    return ok(event)\n",
        {("s", frozenset({"X"}), False)},
    ),
    (
        'def rule(event):\n    if event.get("status") != "SUCCESS":\n        return False\n    return True\n',
        {("status", frozenset({"SUCCESS"}), False)},
    ),
    (
        'A = ["X", "Y"]\n\ndef rule(event):\n    return event.get("action", "X") in A and bool(event)\n',
        {("action", frozenset({"X", "Y"}), True)},
    ),
    (
        'def rule(event):\n    if event.get("a") not in ("1", "2") or not event.get("b") == 3:\n'
        "        return False\n    return True\n",
        {("a", frozenset({"1", "2"}), False), ("b", frozenset({3}), False)},
    ),
    (
        'def rule(event):\n    return event.deep_get("x", "y", default="d") == "d"\n',
        {("x.y", frozenset({"d", None}), True)},
    ),
    (
        'def rule(event):\n    return event["status"] == "OK"\n',
        {("status", frozenset({"OK"}), True)},  # a missing key raises: must run
    ),
    (
        'def ok(event):\n    """Doc."""\n    return event.get("s") == "A"\n\n'
        "def rule(event):\n    if not ok(event):\n        return False\n    return True\n",
        {("s", frozenset({"A"}), False)},
    ),
    (
        "from panther_base_helpers import deep_get\n\n"
        'def rule(event):\n    return deep_get(event, "a", "b") == "z" or deep_get(event, "a", "b") == "w"\n',
        {("a.b", frozenset({"z", "w"}), False)},
    ),
    (
        'def rule(event):\n    if event.get("k") in {"A"}:\n        return False\n'
        '    if event.get("s") != "B":\n        return False\n    return True\n',
        set(),  # a set literal raises on a dict value before the second guard
    ),
]

NOTHING = [
    # a mutable list read by a helper (helpers live in shared modules others can mutate)
    'A = ["X"]\n\ndef ok(event):\n    return event.get("s") in A\n\ndef rule(event):\n    return ok(event)\n',
    # helper with more than one statement (could have side effects or raise)
    'def ok(event):\n    x = event.get("s")\n    return x == "A"\n\ndef rule(event):\n    return ok(event)\n',
    # event reassigned before the guard
    'def rule(event):\n    event = {"s": "A"}\n    return event.get("s") == "A"\n',
    # something runs before the guard (may raise or have effects)
    'def rule(event):\n    print(event)\n    return event.get("s") == "A"\n',
    # the constant is mutated
    'A = ["X"]\nA.append("Y")\n\ndef rule(event):\n    return event.get("s") in A\n',
    # rebound constant
    'A = ("X",)\nA = ("Y",)\n\ndef rule(event):\n    return event.get("s") in A\n',
    # dynamic globals
    'A = ("X",)\nglobals()["A"] = ("Y",)\n\ndef rule(event):\n    return event.get("s") in A\n',
    # case-insensitive comparison through a helper call the analysis cannot see through
    'def rule(event):\n    return str(event.get("s")).lower() == "a"\n',
    # a falsy value that is not False (the runner reports it as an error)
    'def rule(event):\n    return event.get("t") and event.get("s") == "A"\n',
    # generator
    'def rule(event):\n    if event.get("s") != "A":\n        return False\n    yield True\n',
    # guard returning None, not False
    'def rule(event):\n    if event.get("s") != "A":\n        return None\n    return True\n',
    # a helper that is global state
    'import random\n\ndef rule(event):\n    return random.random() > 2 and event.get("s") == "A"\n',
]


@pytest.mark.parametrize(("source", "expected"), DERIVED)
def test_derived_terms(make_rule: Any, source: str, expected: set[Any]) -> None:
    rule = make_rule(source)
    assert _terms(rule) == expected


@pytest.mark.parametrize("source", NOTHING)
def test_unsure_rules_always_run(make_rule: Any, source: str) -> None:
    rule = make_rule(source)
    assert rule.runner.selectors == []


def test_simple_detection_terms_through_all_and_any(make_rule: Any) -> None:
    rule = make_rule(
        Detection=[
            {
                "All": [
                    {"Key": "a.b", "Condition": "Equals", "Value": "x"},
                    {
                        "Any": [
                            {"KeyPath": "c", "Condition": "Equals", "Value": 1},
                            {"KeyPath": "c", "Condition": "IsIn", "Values": [2, 3]},
                        ]
                    },
                ]
            },
            {
                "Any": [
                    {"Key": "d", "Condition": "Equals", "Value": 1},
                    {"Key": "e", "Condition": "Equals", "Value": 1},
                ]
            },
            {"KeyPath": "f[*].g", "Condition": "Equals", "Value": "y"},
        ]
    )
    assert _terms(rule) == {("a.b", frozenset({"x"}), False), ("c", frozenset({1, 2, 3}), False)}


TRICKY = [
    'def rule(event):\n    return event["status"] == "SUCCESS"\n',
    'def rule(event):\n    if event.get("status") not in {"SUCCESS", "FAILED"}:\n        return False\n'
    '    return event.get("action") == "Login"\n',
    'def rule(event):\n    if event.get("action") != "Login":\n        return False\n    return 1 / 0 > 0\n',
    'def rule(event):\n    return event.deep_get("user", "name", default="nobody") == "nobody"\n',
    'def rule(event):\n    return event.get("status", "SUCCESS") == "SUCCESS" and '
    'event.get("action") is not None\n',
    'def rule(event):\n    if event.get("action") == "Login" or event.get("status") != "FAILED":\n'
    "        return False\n    return True\n",
    'def rule(event):\n    return event.get("hasExploit") is True\n',
]


def test_tricky_rules_give_identical_results_on_odd_events(make_rule: Any) -> None:
    rules = [make_rule(src, RuleID=f"Tricky.{i}") for i, src in enumerate(TRICKY)]
    assert sum(1 for r in rules if r.runner.selectors) >= 6
    engine = Engine(rules)
    base = {"action": "Login", "status": "FAILED", "user": {"name": "n"}, "hasExploit": True}
    events: list[dict[str, Any]] = [base]
    for key in ("action", "status", "user", "hasExploit"):
        events.append({k: v for k, v in base.items() if k != key})
        events.append({(k.upper() if k == key else k): v for k, v in base.items()})
        for odd in [*_ODD, 1, False, {"name": None}, {"NAME": "nobody"}]:
            events.append({**base, key: copy.deepcopy(odd)})
    errors = 0
    for _ in range(2):
        for event in events:
            _check(engine, "Wiz.Audit", event)
            errors += sum(1 for r in engine.evaluate("Wiz.Audit", event) if r.error)
    assert errors > 10  # the raising cases still raise
