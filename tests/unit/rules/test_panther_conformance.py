"""Every test case of Panther's 19 managed Wiz rules gives exactly the outputs Panther's engine
produced (``../shared/conformance/panther-wiz``), in test mode and through the production path
(normalisation + indexed engine). Outputs Panther did not record come from the rule's YAML,
which must match the upstream YAML values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wizwatch.detect.engine import Engine
from wizwatch.detect.event import PantherEvent
from wizwatch.detect.testing import run_test
from wizwatch.parse.normalize import Normalizer

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "panther-wiz"
UPSTREAM = json.loads((Path(__file__).parent / "upstream_panther_wiz.json").read_text())

FILES = sorted(p for p in CONFORMANCE.glob("Wiz.*.json")) if CONFORMANCE.is_dir() else []
CASES = [(p.stem, i, case) for p in FILES for i, case in enumerate(json.loads(p.read_text()))]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_directory(RULES)


def test_conformance_files_present() -> None:
    assert len(FILES) == 19, f"expected the 19 Panther Wiz rule files in {CONFORMANCE}"


def _expected(rule_id: str, observed: dict[str, Any]) -> dict[str, Any]:
    up = UPSTREAM[rule_id]
    return {
        "title": observed["title"],
        "dedup": observed["dedup"],
        "alert_context": observed["alert_context"],
        "severity": observed.get("severity", up["Severity"].upper()),
        "description": observed.get("description", up["Description"]),
        "reference": observed.get("reference", up["Reference"]),
        "runbook": observed.get("runbook", up["Runbook"]),
    }


def _outputs(result: Any) -> dict[str, Any]:
    return {
        k: getattr(result, k)
        for k in ("title", "dedup", "alert_context", "severity", "description", "reference", "runbook")
    }


@pytest.mark.parametrize(("rule_id", "index", "case"), CASES, ids=[f"{r}[{c['name']}]" for r, _, c in CASES])
def test_case_matches_panther(engine: Engine, rule_id: str, index: int, case: dict[str, Any]) -> None:
    rule = next(r for r in engine.rules if r.rule_id == rule_id)
    observed = case["observed_outputs_panther_core"]
    test = next(t for t in rule.tests if t.name == case["name"])
    assert test.log == case["log"] and test.expected == case["expected"]

    # Test mode.
    outcome = run_test(rule, test)
    assert outcome.passed, outcome.problems
    assert outcome.matched is observed["rule"]
    if observed["rule"]:
        assert _outputs(outcome.result) == _expected(rule_id, observed)

    # rule() alone agrees with the InlineFilters + rule() the engine runs (filters are only an index).
    assert rule.module is not None
    assert rule.module.rule(PantherEvent(dict(case["log"]))) is observed["rule"]

    # Production: normalised event through the indexed engine.
    log_type = rule.log_types[0]
    event = Normalizer(log_type).normalize(case["log"])
    results = [r for r in engine.evaluate(log_type, event) if r.rule.rule_id == rule_id]
    assert all(r.error is None for r in results)
    if observed["rule"]:
        assert len(results) == 1
        assert _outputs(results[0]) == _expected(rule_id, observed)
        assert results[0].function_errors == {}
    else:
        assert results == []


@pytest.mark.parametrize("rule_id", sorted(k for k in UPSTREAM if not k.startswith("_")))
def test_yaml_matches_upstream(engine: Engine, rule_id: str) -> None:
    rule = next(r for r in engine.rules if r.rule_id == rule_id)
    up = UPSTREAM[rule_id]
    assert rule.display_name == up["DisplayName"]
    assert rule.severity == up["Severity"].upper()
    assert rule.description == up["Description"]
    assert rule.runbook == up["Runbook"]
    assert rule.reference == up["Reference"]
    assert rule.dedup_period_minutes == up["DedupPeriodMinutes"]
    assert rule.log_types == up["LogTypes"]
    assert rule.reports == up["Reports"]
    assert rule.threshold == 1 and rule.enabled
    assert [t.name for t in rule.tests] == [
        c["name"] for c in json.loads((CONFORMANCE / f"{rule_id}.json").read_text())
    ]
