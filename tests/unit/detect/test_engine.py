"""The index is only an optimisation: the engine gives the same results as running every rule."""

from __future__ import annotations

import importlib.util
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizwatch.detect.engine import Engine
from wizwatch.detect.event import PantherEvent
from wizwatch.parse.normalize import Normalizer

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"
MAKER = ROOT.parent / "shared" / "bench" / "make_corpus.py"


def _corpus_module() -> Any:
    spec = importlib.util.spec_from_file_location("make_corpus", MAKER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _brute_force(engine: Engine, log_type: str, event: dict[str, Any]) -> list[tuple[str, str, str]]:
    out = []
    for rule in engine.rules_for(log_type):
        r = rule.runner.run(event, PantherEvent(event))
        if r is not None:
            out.append((rule.rule_id, r.dedup, r.title))
    return out


def test_indexed_engine_equals_running_every_rule() -> None:
    mod = _corpus_module()
    engine = Engine.from_directory(RULES)
    rnd = random.Random(3)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    makers = {
        "Wiz.Audit": mod.audit_node,
        "Wiz.Issues": mod.issue_node,
        "Wiz.VulnerabilityFinding": mod.vuln_node,
    }
    matched = 0
    for log_type, make in makers.items():
        norm = Normalizer(log_type)
        for _ in range(400):
            event = norm.normalize(make(rnd, t))
            got = [(r.rule.rule_id, r.dedup, r.title) for r in engine.evaluate(log_type, event)]
            assert got == _brute_force(engine, log_type, event)
            matched += bool(got)
    assert matched > 50


def test_evaluate_page_reports_invalid_records_and_results() -> None:
    import gzip
    import json

    engine = Engine.from_directory(RULES)
    good = {
        "id": "1",
        "action": "DeleteIntegration",
        "status": "SUCCESS",
        "timestamp": "2024-01-01T00:00:00Z",
        "user": {"id": "u", "name": "u"},
        "serviceAccount": None,
        "sourceIP": "1.2.3.4",
    }
    body = gzip.compress(json.dumps({"data": {"auditLogEntries": {"nodes": [good, {"id": 2}, 3]}}}).encode())
    out = engine.evaluate_page("Wiz.Audit", body)
    assert out.connection == "auditLogEntries"
    assert out.events[0] is not None and out.events[1] is None and out.events[2] is None
    assert set(out.invalid) == {1, 2} and "action" in out.invalid[1]
    assert [r.rule.rule_id for r in out.results[0]] == ["Wiz.Integration.Updated.Or.Deleted"]


def test_rules_for_lists_enabled_rules_of_the_type() -> None:
    engine = Engine.from_directory(RULES)
    audit = engine.rules_for("Wiz.Audit")
    assert len(audit) >= 16 + 5
    assert all(r.enabled and "Wiz.Audit" in r.log_types for r in audit)
    assert len(engine.rules_for("Wiz.VulnerabilityFinding")) >= 3


def test_remembered_candidates_equal_running_every_rule_for_odd_key_values() -> None:
    """The (action, status) memo must not change answers: repeats, case variants, odd values."""
    engine = Engine.from_directory(RULES)
    base = {
        "id": "1",
        "timestamp": "2024-01-01T00:00:00Z",
        "user": {"id": "u@example.com", "name": "u@example.com"},
        "serviceAccount": None,
        "sourceIP": "1.2.3.4",
        "actionParameters": {},
    }
    variants: list[dict[str, Any]] = []
    for action in ("DeleteIntegration", "Login", "CreateUser", "RunGraphQuery", ["x"], None, 7):
        for status in ("SUCCESS", "FAILED", "ACCESS_DENIED", {"a": 1}, None):
            variants.append({**base, "action": action, "status": status})
            variants.append({**base, "ACTION": action, "status": status})
            variants.append({**base, "action": action, "Status": status})
            variants.append({**base, "action": action})
    variants.append(dict(base))
    matched = 0
    for _ in range(2):  # the second pass answers from the memo
        for event in variants:
            got = [(r.rule.rule_id, r.dedup, r.title) for r in engine.evaluate("Wiz.Audit", event)]
            assert got == _brute_force(engine, "Wiz.Audit", event), event
            matched += bool(got)
    assert matched > 10


def test_prefilters_on_index_keys_are_decided_once_and_others_still_run(make_rule: Any) -> None:
    status_ok = {"Key": "status", "Condition": "Equals", "Value": "SUCCESS"}
    rules = [
        # Filters on index keys only: decided per (action, status).
        make_rule(
            "def rule(e):\n    return True\n",
            RuleID="Keys.Only",
            InlineFilters=[status_ok, {"Key": "action", "Condition": "IsIn", "Values": ["A", "B"]}],
        ),
        # Reads a nested key too: its prefilter must still run per event.
        make_rule(
            Detection=[
                {"Key": "action", "Condition": "Equals", "Value": "A"},
                {"Key": "user.id", "Condition": "Equals", "Value": "u1"},
            ],
            RuleID="Nested",
        ),
        # A filter key that is not an index key (only "action"/"status" are indexed here).
        make_rule(
            Detection=[
                {"Key": "action", "Condition": "Equals", "Value": "B"},
                {"Key": "sourceIP", "Condition": "Equals", "Value": "1.2.3.4"},
            ],
            RuleID="Other.Key",
        ),
        # Filed under status, so status is an index key too (like the ACCESS_DENIED burst rule).
        make_rule(Detection=[{"Key": "status", "Condition": "Equals", "Value": "FAILED"}], RuleID="Status"),
    ]
    engine = Engine(rules)
    index = engine._index("Wiz.Audit")
    events = [
        {"action": a, "status": s, "user": {"id": u}, "sourceIP": ip}
        for a in ("A", "B", "C")
        for s in ("SUCCESS", "FAILED")
        for u in ("u1", "u2")
        for ip in ("1.2.3.4", "5.6.7.8")
    ]
    for event in events * 2:
        got = [r.rule.rule_id for r in engine.evaluate("Wiz.Audit", event)]
        assert got == [rid for rid, _, _ in _brute_force(engine, "Wiz.Audit", event)], event
    plan = {
        r.rule.rule_id: pre for r, pre in index.candidates({"action": "A", "status": "SUCCESS", "user": {}})
    }
    assert plan["Keys.Only"] is None and plan["Nested"] is not None
    assert "Keys.Only" not in {
        r.rule.rule_id for r, _ in index.candidates({"action": "A", "status": "FAILED"})
    }
    assert index.candidates({"action": "C", "status": "SUCCESS"}) == []
