"""Loading a rule tree: strict YAML, every problem reported, broken rules isolated, overrides,
sidecars, provenance, and the shipped tree's own shape."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import yaml

from wizwatch.detect.engine import Engine
from wizwatch.detect.loader import load_tree
from wizwatch.detect.testing import run_test
from wizwatch.detect.yaml_strict import load

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"

PY_RULE = "def rule(e):\n    return e.get('action') == 'Login'\n\ndef title(e):\n    return 'login'\n"


def spec(rule_id: str = "T.Login", **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "AnalysisType": "rule",
        "RuleID": rule_id,
        "Enabled": True,
        "LogTypes": ["Wiz.Audit"],
        "Severity": "Low",
        "Filename": "login.py",
        "Tests": [
            {"Name": "login", "ExpectedResult": True, "Log": {"action": "Login", "user": {"name": "a"}}},
            {"Name": "other", "ExpectedResult": False, "Log": {"action": "Other"}},
        ],
    }
    doc.update(extra)
    return doc


def tree(tmp_path: Path, files: dict[str, Any]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    return tmp_path


# ----------------------------------------------------------------------------- strict YAML


def test_a_duplicate_key_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    text = (
        yaml.safe_dump(spec(), sort_keys=False) + "InlineFilters:\n- KeyPath: action\n  Condition: Equals\n"
    )
    text += "  Value: Login\nInlineFilters:\n- KeyPath: status\n  Condition: Equals\n  Value: SUCCESS\n"
    found = load_tree(tree(tmp_path, {"login.py": PY_RULE, "r.yml": text}))
    assert found.rules == []
    (err,) = found.errors
    second = text.splitlines().index("InlineFilters:", text.splitlines().index("InlineFilters:") + 1) + 1
    assert err.line == second and f"r.yml:{second}" in str(err)
    assert "duplicate key 'InlineFilters'" in err.problem and "first at line" in err.problem
    assert err.rule_id == "T.Login"  # known even though the file was rejected


def test_every_problem_of_a_file_is_reported_with_its_line(tmp_path: Path) -> None:
    doc = spec(Severity="Loud", Threshold=0, Colour="red")
    doc["Tests"][1]["ExpectedResult"] = "no"
    found = load_tree(tree(tmp_path, {"login.py": PY_RULE, "r.yml": doc}))
    keys = sorted(e.key or "" for e in found.errors)
    assert keys == ["Colour", "Severity", "Tests[1].ExpectedResult", "Threshold"]
    lines = yaml.safe_dump(doc, sort_keys=False).splitlines()
    by_key = {e.key: e.line for e in found.errors}
    assert by_key["Severity"] == lines.index("Severity: Loud") + 1
    assert all(e.line for e in found.errors)


def test_yaml_1_2_booleans_keep_on_and_yes_as_strings() -> None:
    doc = load("Match:\n  - On: p_any_emails\nflag: yes\nreal: true\n")
    assert doc.data == {"Match": [{"On": "p_any_emails"}], "flag": "yes", "real": True}


# ----------------------------------------------------------------------------- isolation


def test_a_module_with_a_syntax_error_is_broken_and_the_others_run(tmp_path: Path) -> None:
    files = {
        "login.py": PY_RULE,
        "ok.yml": spec(),
        "bad.py": "def rule(e)\n    return True\n",
        "bad.yml": spec("T.Bad", Filename="bad.py", Severity="High", DedupPeriodMinutes=30),
    }
    engine = Engine.from_directory(tree(tmp_path, files))  # never raises for a broken rule
    assert [r.rule_id for r in engine.rules] == ["T.Login"]
    (broken,) = engine.broken_rules
    assert (broken.rule_id, broken.severity, broken.dedup_period_minutes) == ("T.Bad", "HIGH", 30)
    (err,) = broken.errors
    assert err.path.endswith("bad.py") and err.line == 1 and "SyntaxError" in err.problem
    assert [r.rule.rule_id for r in engine.evaluate("Wiz.Audit", {"action": "Login"})] == ["T.Login"]


def test_an_override_disabling_a_broken_rule_silences_it(tmp_path: Path) -> None:
    files = {
        "bad.py": "def rule(e)\n",
        "bad.yml": spec("T.Bad", Filename="bad.py"),
        "custom/rules-overrides.yml": {"Overrides": [{"RuleID": "T.Bad", "Enabled": False}]},
    }
    engine = Engine.from_directory(tree(tmp_path, files))
    assert engine.broken_rules == [] and len(engine.ruleset.broken) == 1


# ----------------------------------------------------------------------------- overrides


def test_overrides_disable_one_rule_and_tune_another_without_touching_them(tmp_path: Path) -> None:
    files = {
        "managed/login.py": PY_RULE,
        "managed/login.yml": spec(),
        "managed/second.yml": spec("T.Second"),
        "managed/SOURCE.yml": {"Source": "acme-rules", "Version": "v1"},
        "custom/rules-overrides.yml": textwrap.dedent(
            """\
            Overrides:
              - RuleID: T.Second
                Enabled: false
                Reason: noisy
              - RuleID: T.Login
                Severity: Critical
                DedupPeriodMinutes: 15
                Threshold: 3
                OutputIds: [pager]
                AllowList:
                  - Name: robots
                    Detection:
                      - KeyPath: user.name
                        Condition: StartsWith
                        Value: robot-
                Tests:
                  - Name: a robot's login is allowed
                    ExpectedResult: false
                    Log: {action: Login, user: {name: robot-1}}
            """
        ),
    }
    root = tree(tmp_path, files)
    before = {p: p.read_bytes() for p in (root / "managed").iterdir()}
    engine = Engine.from_directory(root)
    rules = {r.rule_id: r for r in engine.rules}
    assert not rules["T.Second"].enabled and rules["T.Second"].overrides[0].endswith("noisy)")
    tuned = rules["T.Login"]
    assert (tuned.severity, tuned.dedup_period_minutes, tuned.threshold, tuned.output_ids) == (
        "CRITICAL", 15, 3, ["pager"],
    )  # fmt: skip
    assert tuned.source == "acme-rules v1" and len(tuned.overrides) == 6
    assert [r.rule_id for r in engine.rules_for("Wiz.Audit")] == ["T.Login"]
    # The allow-list suppresses before the rule runs; other users still alert.
    assert engine.evaluate("Wiz.Audit", {"action": "Login", "user": {"name": "robot-7"}}) == []
    (hit,) = engine.evaluate("Wiz.Audit", {"action": "Login", "user": {"name": "alice"}})
    assert hit.severity == "CRITICAL"
    # The rule's own tests run against it as written; the override's test against the tuned rule.
    assert tuned.unmodified is not None and tuned.unmodified.severity == "LOW"
    assert all(run_test(tuned.unmodified, t).passed for t in tuned.unmodified.tests)
    assert [run_test(tuned, t).passed for t in tuned.override_tests] == [True]
    assert {p: p.read_bytes() for p in (root / "managed").iterdir()} == before


def test_override_mistakes_are_errors_with_lines(tmp_path: Path) -> None:
    overrides = textwrap.dedent(
        """\
        Overrides:
          - RuleID: T.Typo
            Enabled: false
          - RuleID: T.Login
            Severity: Loud
          - RuleID: "T.*"
            Threshold: 2
          - RuleID: T.Login
            Threshold: 4
          - RuleID: T.Login
            Colour: red
        """
    )
    files = {"login.py": PY_RULE, "r.yml": spec(), "rules-overrides.yml": overrides}
    found = load_tree(tree(tmp_path, files))
    text = sorted(str(e) for e in found.errors)
    assert any("rules-overrides.yml:2: RuleID: 'T.Typo' matches no rule" in t for t in text)
    assert any("Overrides[1].Severity" in t and ":5:" in t for t in text)
    assert any("Threshold: T.Login: also set by rules-overrides.yml:6" in t for t in text)
    assert any("Overrides[4].Colour: cannot be overridden" in t for t in text)


# ----------------------------------------------------------------------------- sidecars


def test_sidecar_expectations_are_checked_and_its_mistakes_reported(tmp_path: Path) -> None:
    good = {"RuleID": "T.Login", "Tests": [{"Name": "login", "ExpectedTitle": "login"}]}
    found = load_tree(tree(tmp_path / "a", {"login.py": PY_RULE, "r.yml": spec(), "r.wizwatch.yml": good}))
    (rule,) = found.rules
    assert rule.tests[0].expectations == {"Title": "login"} and run_test(rule, rule.tests[0]).passed
    wrong = {"RuleID": "T.Login", "Tests": [{"Name": "login", "ExpectedTitle": "nope"}]}
    found = load_tree(tree(tmp_path / "b", {"login.py": PY_RULE, "r.yml": spec(), "r.wizwatch.yml": wrong}))
    assert not run_test(found.rules[0], found.rules[0].tests[0]).passed
    bad = {"RuleID": "T.Login", "Tests": [{"Name": "missing", "ExpectedColour": 1}]}
    found = load_tree(tree(tmp_path / "c", {"login.py": PY_RULE, "r.yml": spec(), "r.wizwatch.yml": bad}))
    assert found.rules and found.broken == []  # the rule still runs; its tests cannot pass
    assert any("has no test named 'missing'" in str(e) for e in found.errors)


# ----------------------------------------------------------------------------- the shipped tree


def test_the_shipped_tree_loads_cleanly_in_upstream_form() -> None:
    found = load_tree(RULES)
    assert found.errors == [] and found.broken == []
    panther = [r for r in found.rules if "/panther_wiz/" in r.path]
    assert len(panther) == 19
    for rule in panther:
        assert rule.source.startswith("panther-analysis v3.111.0 rules/wiz_rules/"), rule.source
        assert "InlineFilters" not in rule.spec and "Tags" not in rule.spec  # upstream has neither
        for test in rule.tests:
            assert not test.expectations, "Panther's tool rejects Expected* keys in a rule's tests"
    ours = [r for r in found.rules if "/wizwatch/" in r.path]
    assert ours and all(r.source == "wizwatch" for r in ours)
    assert {c.rule_id for c in found.correlations} == {
        "Wizwatch.Correlation.Admin.Created.Then.IP.Restrictions",
        "Wizwatch.Correlation.Defend.Detection.On.Critical.Issue.Resource",
        "Wizwatch.Correlation.Wiz.Issue.With.SSH",
    }


def test_source_manifest_lists_every_panther_file_with_its_upstream_blob() -> None:
    manifest = yaml.safe_load((RULES / "panther_wiz" / "SOURCE.yml").read_text())
    files = {p.name for p in (RULES / "panther_wiz").iterdir() if p.suffix in (".py", ".yml")} - {
        "SOURCE.yml"
    }
    assert set(manifest["Files"]) == files
    for name, entry in manifest["Files"].items():
        assert entry["Path"] == f"rules/wiz_rules/{name}" and len(entry["Blob"]) == 40


def test_rules_without_inline_filters_are_selected_by_their_code() -> None:
    found = load_tree(RULES)
    burst = next(r for r in found.rules if r.rule_id == "Wizwatch.Audit.Access.Denied.Burst")
    assert "InlineFilters" not in burst.spec
    assert [(t.path, t.values, t.source) for t in burst.runner.selectors] == [
        (("status",), frozenset({"ACCESS_DENIED"}), "rule()")
    ]
