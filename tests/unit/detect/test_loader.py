from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from wizwatch.detect.engine import Engine
from wizwatch.detect.loader import load_rules
from wizwatch.errors import RuleLoadError

GOOD: dict[str, Any] = {
    "AnalysisType": "rule",
    "RuleID": "Good.Rule",
    "Enabled": True,
    "LogTypes": ["Wiz.Audit"],
    "Severity": "Low",
    "Detection": [{"Key": "action", "Condition": "Equals", "Value": "Login"}],
    "Tests": [{"Name": "t", "ExpectedResult": True, "Log": {"action": "Login"}}],
}


def write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("change", "key", "problem"),
    [
        ({"Severity": "INFORMATIONAL"}, "Severity", "one of INFO"),
        ({"LogTypes": ["Wiz.Nope"]}, "LogTypes", "unknown log type"),
        ({"LogTypes": []}, "LogTypes", "non-empty"),
        ({"RuleID": ""}, "RuleID", "non-empty"),
        ({"RuleID": "Wiz.<script>"}, "RuleID", "Panther's rule id rule"),  # the notifier refuses these
        ({"RuleID": "Wiz.A\nB"}, "RuleID", "control characters"),
        ({"Threshold": 0}, "Threshold", ">= 1"),
        ({"DedupPeriodMinutes": "soon"}, "DedupPeriodMinutes", "whole number"),
        ({"Enabled": "yes"}, "Enabled", "true or false"),
        ({"Colour": "red"}, "Colour", "unknown key"),
        ({"Filename": "x.py"}, "Filename", "exactly one of"),
        ({"Detection": [{"Key": "a", "Condition": "Nope"}]}, "Detection", "unknown Condition"),
        (
            {"Tests": [{"Name": "t", "ExpectedResult": "yes", "Log": {}}]},
            "Tests[0].ExpectedResult",
            "true or false",
        ),
        ({"Tests": [{"Name": "t", "ExpectedResult": True, "Log": "{bad"}]}, "Tests[0].Log", "not JSON"),
    ],
)
def test_invalid_specs_name_file_key_and_problem(
    tmp_path: Path, change: dict[str, Any], key: str, problem: str
) -> None:
    path = write(tmp_path, "r.yml", {**GOOD, **change})
    rules, errors = load_rules(tmp_path)
    assert rules == []
    assert len(errors) == 1
    err = errors[0]
    assert err.path == str(path) and err.key == key and problem in err.problem
    assert str(path) in str(err)


def test_python_rule_problems(tmp_path: Path) -> None:
    spec = {**GOOD, "Filename": "missing.py"}
    del spec["Detection"]
    write(tmp_path, "a.yml", spec)
    write(tmp_path, "b.yml", {**spec, "RuleID": "B", "Filename": "b.py"})
    (tmp_path / "b.py").write_text("def title(e): return 'x'\n")
    write(tmp_path, "c.yml", {**spec, "RuleID": "C", "Filename": "c.py"})
    (tmp_path / "c.py").write_text("import nonexistent_module_xyz\n")
    _, errors = load_rules(tmp_path)
    problems = sorted(e.problem for e in errors)
    assert any("does not exist" in p for p in problems)
    assert any("must define rule(event)" in p for p in problems)
    assert any("import failed: ModuleNotFoundError" in p for p in problems)


def test_duplicate_rule_ids_and_bad_yaml(tmp_path: Path) -> None:
    write(tmp_path, "a.yml", GOOD)
    write(tmp_path, "b.yml", GOOD)
    write(tmp_path, "c.yml", "RuleID: [unclosed")
    rules, errors = load_rules(tmp_path)
    assert [r.rule_id for r in rules] == ["Good.Rule"]
    assert any("also defined in" in e.problem for e in errors)
    assert any("not valid YAML" in e.problem for e in errors)
    with pytest.raises(RuleLoadError, match="more"):
        Engine.from_directory(tmp_path, strict=True)


def test_global_helpers_are_importable_and_not_loaded_as_rules(tmp_path: Path) -> None:
    (tmp_path / "global_helpers").mkdir()
    (tmp_path / "global_helpers" / "tmp_helper_for_test.py").write_text("VALUE = 'from helper'\n")
    write(tmp_path / "global_helpers", "ignored.yml", {"not": "a rule"})
    spec = {**GOOD, "Filename": "r.py"}
    del spec["Detection"]
    write(tmp_path, "r.yml", spec)
    (tmp_path / "r.py").write_text(
        "from tmp_helper_for_test import VALUE\ndef rule(e): return True\ndef title(e): return VALUE\n"
    )
    engine = Engine.from_directory(tmp_path)
    (result,) = engine.evaluate("Wiz.Audit", {"action": "x"})
    assert result.title == "from helper"
