"""Panther's production-mode defaults, fallbacks and caps for every rule function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizwatch.detect.event import PantherEvent
from wizwatch.detect.result import RuleResult
from wizwatch.detect.runner import MAX_FIELD, TRUNCATED

MakeRule = Callable[..., Any]

EVENT: dict[str, Any] = {"id": "e1", "action": "Login", "status": "SUCCESS", "severity": "INFORMATIONAL"}


def run(rule: Any, event: dict[str, Any] | None = None) -> RuleResult | None:
    ev = dict(event or EVENT)
    result: RuleResult | None = rule.runner.run(ev, PantherEvent(ev))
    return result


def test_defaults_when_only_rule_is_defined(make_rule: MakeRule) -> None:
    rule = make_rule(
        "def rule(e): return True", DisplayName="Nice Name", Description="d", Reference="r", Runbook="b"
    )
    r = run(rule)
    assert r is not None and r.matched and r.error is None
    assert (r.title, r.dedup, r.severity, r.alert_context) == ("Nice Name", "Nice Name", "MEDIUM", {})
    assert (r.description, r.reference, r.runbook) == ("d", "r", "b")
    assert r.destinations is None and r.unique is None and r.function_errors == {}
    assert run(make_rule("def rule(e): return True", RuleID="Only.Id")).title == "Only.Id"  # type: ignore[union-attr]


def test_false_means_no_result_and_no_other_function_runs(make_rule: MakeRule) -> None:
    rule = make_rule("def rule(e): return False\ndef title(e): raise RuntimeError('never')")
    assert run(rule) is None


def test_rule_raising_or_returning_non_bool_is_a_rule_error(make_rule: MakeRule) -> None:
    r = run(make_rule("def rule(e): return e['missing']", RuleID="Err.Rule", Severity="High"))
    assert r is not None and not r.matched
    assert r.error is not None and r.error.type == "KeyError"
    assert r.dedup == "Err.Rule:KeyError" and r.severity == "HIGH"
    r = run(make_rule("def rule(e): return 'yes'"))
    assert r is not None and r.error is not None and r.error.type == "FunctionReturnTypeError"


def test_title_and_dedup_fallbacks(make_rule: MakeRule) -> None:
    r = run(make_rule("def rule(e): return True\ndef title(e): return 1/0", RuleID="T.R", DisplayName="D"))
    assert r is not None and r.title == "T.R" and r.dedup == "T.R"
    assert r.function_errors["title"].type == "ZeroDivisionError"
    r = run(
        make_rule("def rule(e): return True\ndef title(e): return 't'\ndef dedup(e): return ''", RuleID="X")
    )
    assert r is not None and r.dedup == "defaultDedupString:X"
    r = run(make_rule("def rule(e): return True\ndef dedup(e): raise ValueError()", RuleID="Y"))
    assert r is not None and r.dedup == "defaultDedupString:Y"
    r = run(make_rule("def rule(e): return True\ndef title(e): return 'T'"))
    assert r is not None and r.dedup == "T"


def test_severity_rules(make_rule: MakeRule) -> None:
    def sev(body: str) -> str:
        r = run(make_rule(f"def rule(e): return True\ndef severity(e): {body}", Severity="Low"))
        assert r is not None
        return r.severity

    assert sev("return 'high'") == "HIGH"
    assert sev("return 'Default'") == "LOW"
    assert sev("return e.get('severity')") == "LOW"  # Wiz's INFORMATIONAL is not a Panther severity
    assert sev("raise KeyError()") == "LOW"
    assert sev("return None") == "LOW"


def test_alert_context_fallbacks_and_size_cap(make_rule: MakeRule) -> None:
    base = "def rule(e): return True\n"
    r = run(make_rule(base + "def alert_context(e): return {'a': e.get('id'), 'n': [1, {'b': None}]}"))
    assert r is not None and r.alert_context == {"a": "e1", "n": [1, {"b": None}]}
    r = run(make_rule(base + "def alert_context(e): raise ValueError('bad')"))
    assert r is not None and r.alert_context == {"_error": "ValueError('bad')"}
    r = run(make_rule(base + "def alert_context(e): return {'x': object()}"))
    assert r is not None and "_error" in r.alert_context
    r = run(make_rule(base + "def alert_context(e): return ['not', 'a', 'mapping']"))
    assert r is not None and "_error" in r.alert_context
    r = run(make_rule(base + "def alert_context(e): return {'x': 'y' * 300000}"))
    assert r is not None and list(r.alert_context) == ["_error"]
    assert "bigger than maximum" in r.alert_context["_error"]


def test_text_functions_error_to_empty_and_default_is_literal(make_rule: MakeRule) -> None:
    src = (
        "def rule(e): return True\ndef description(e): raise KeyError()\ndef reference(e): return 'DEFAULT'\n"
    )
    r = run(make_rule(src, Description="yaml", Reference="yaml-ref", Runbook="yaml-run"))
    assert r is not None
    assert (r.description, r.reference, r.runbook) == ("", "DEFAULT", "yaml-run")


def test_long_fields_are_truncated(make_rule: MakeRule) -> None:
    r = run(
        make_rule(
            "def rule(e): return True\ndef title(e): return 'x' * 5000\ndef runbook(e): return 'r' * 1001"
        )
    )
    assert r is not None
    assert len(r.title) == MAX_FIELD and r.title.endswith(TRUNCATED) and r.title.startswith("x" * 985)
    assert r.dedup == r.title
    assert len(r.runbook) == MAX_FIELD
    short = run(make_rule("def rule(e): return True\ndef title(e): return 'x' * 1000"))
    assert short is not None and short.title == "x" * 1000


def test_destinations_and_unique(make_rule: MakeRule) -> None:
    r = run(make_rule("def rule(e): return True\ndef destinations(e): return []"))
    assert r is not None and r.destinations == [] and r.suppressed
    r = run(make_rule("def rule(e): return True\ndef destinations(e): return [str(i) for i in range(20)]"))
    assert r is not None and r.destinations is not None and len(r.destinations) == 10
    r = run(make_rule("def rule(e): return True\ndef unique(e): return e.get('action')", Threshold=3))
    assert r is not None and r.unique == "Login" and r.rule.has_unique and r.rule.threshold == 3


def test_inline_filters_gate_the_rule(make_rule: MakeRule) -> None:
    rule = make_rule(
        "def rule(e): return True",
        InlineFilters=[{"Key": "status", "Condition": "Equals", "Value": "FAILED"}],
    )
    assert run(rule) is None
    assert run(rule, {**EVENT, "status": "FAILED"}) is not None


def test_simple_detection_outputs(make_rule: MakeRule) -> None:
    rule = make_rule(
        None,
        Detection=[{"Key": "action", "Condition": "Equals", "Value": "Login"}],
        AlertTitle="Login {id} ({status})",
        GroupBy=[{"Key": "action"}, {"Key": "status"}],
        AlertContext=[{"KeyName": "who", "KeyValue": {"Key": "id"}}],
        DynamicSeverities=[
            {
                "ChangeTo": "CRITICAL",
                "Conditions": [{"Key": "status", "Condition": "Equals", "Value": "SUCCESS"}],
            }
        ],
    )
    r = run(rule)
    assert r is not None
    assert (r.title, r.dedup, r.alert_context, r.severity) == (
        "Login e1 (SUCCESS)",
        "Login:SUCCESS",
        {"who": "e1"},
        "CRITICAL",
    )
    r = run(rule, {**EVENT, "status": "FAILED"})
    assert r is not None and r.severity == "MEDIUM"
    assert run(rule, {**EVENT, "action": "Logout"}) is None
