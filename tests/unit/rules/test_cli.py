"""``wizwatch test`` and ``wizwatch eval`` through the real console entry point."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from wizwatch_tools.cli import main

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "panther-wiz"


def rule_dir(tmp_path: Path, *, expected: bool = True, tests: list[dict[str, Any]] | None = None) -> Path:
    (tmp_path / "r.py").write_text(
        "def rule(e):\n    return e.get('action') == 'Login'\n\ndef title(e):\n    return 'T'\n"
    )
    spec = {
        "AnalysisType": "rule",
        "RuleID": "Cli.Rule",
        "Enabled": True,
        "LogTypes": ["Wiz.Audit"],
        "Severity": "Low",
        "Filename": "r.py",
        "Tests": tests
        if tests is not None
        else [
            {"Name": "login", "ExpectedResult": expected, "Log": {"action": "Login"}},
            {"Name": "other", "ExpectedResult": False, "Log": {"action": "Other"}},
        ],
    }
    (tmp_path / "r.yml").write_text(yaml.safe_dump(spec))
    return tmp_path


def run_test_cmd(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["test", *args])
    return code, capsys.readouterr().out


def test_passing_rules_exit_0_with_panther_style_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_test_cmd(capsys, str(rule_dir(tmp_path)), "--minimum-tests", "2")
    assert code == 0
    assert "Cli.Rule\n\t[PASS] login\n\t\t[title] T\n\t[PASS] other" in out
    assert "Passed: 1" in out and "Failed: 0" in out


def test_a_failing_test_exits_1_and_is_summarised(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_test_cmd(capsys, str(rule_dir(tmp_path, expected=False)))
    assert code == 1
    assert "[FAIL] login" in out and "expected rule() to return False, got True" in out
    assert "Failed Tests Summary" in out and "Failed: 1" in out


def test_minimum_tests_demands_true_and_false_cases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    only_true = [{"Name": "login", "ExpectedResult": True, "Log": {"action": "Login"}}]
    d = rule_dir(tmp_path, tests=only_true)
    assert run_test_cmd(capsys, str(d))[0] == 0
    code, out = run_test_cmd(capsys, str(d), "--minimum-tests", "2")
    assert code == 1 and "at least 2 required" in out and "expecting false" in out


def test_filter_and_test_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = rule_dir(tmp_path, expected=False)
    code, out = run_test_cmd(capsys, str(d), "--test-names", "other")
    assert code == 0 and "[PASS] other" in out and "login" not in out
    code, out = run_test_cmd(capsys, str(d), "--filter", "Severity=High,Critical")
    assert code == 1 and "no rules matched" in out
    code, out = run_test_cmd(capsys, str(d), "--filter", "Severity=low", "--test-names", "other")
    assert code == 0


def test_invalid_rule_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.yml").write_text(
        "AnalysisType: rule\nRuleID: Bad\nLogTypes: [Wiz.Audit]\nSeverity: Loud\n"
    )
    code, out = run_test_cmd(capsys, str(tmp_path))
    assert code == 1 and "Invalid: 1" in out and "Severity" in out


def test_all_shipped_rules_pass_with_minimum_two_tests() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wizwatch_tools.cli", "test", "--minimum-tests", "2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    passed = int(proc.stdout.split("Passed: ")[1].split()[0])
    assert passed >= 27


def _eval(args: list[str], stdin: bytes) -> tuple[int, list[dict[str, Any]]]:
    from wizwatch_tools.rules_cli import eval_cmd

    parser = __import__("argparse").ArgumentParser()
    eval_cmd.configure(parser)
    out = io.BytesIO()
    code = eval_cmd.run(parser.parse_args(args), stdin=io.BytesIO(stdin), stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def _audit_logs() -> list[dict[str, Any]]:
    return [
        c["log"] for c in json.loads((CONFORMANCE / "Wiz.Integration.Updated.Or.Deleted.json").read_text())
    ]


def test_eval_prints_one_line_per_record_in_contract_shape() -> None:
    records = [*_audit_logs(), {"id": "no-action"}]
    code, lines = _eval(["--log-type", "Wiz.Audit", "-"], json.dumps(records).encode())
    assert code == 0
    assert [line["index"] for line in lines] == [0, 1, 2, 3]
    first = lines[0]
    assert set(first) == {"index", "alerts", "errors"}
    (alert,) = [a for a in first["alerts"] if a["rule_id"] == "Wiz.Integration.Updated.Or.Deleted"]
    assert set(alert) == {
        "rule_id", "title", "dedup", "severity", "alert_context", "description", "reference", "runbook",
    }  # fmt: skip
    assert alert["dedup"] == "62e490d5-484c-4c21-a2ed-b6ebcaaa5aad"
    # CreateUser as GLOBAL_ADMIN: Panther's rule and Wizwatch's sharper one.
    assert sorted(a["rule_id"] for a in lines[1]["alerts"]) == [
        "Wiz.User.Created.Or.Deleted",
        "Wizwatch.Audit.Global.Admin.User.Created",
    ]
    assert lines[2] == {"index": 2, "alerts": [], "errors": []}
    assert set(lines[3]) == {"index", "invalid"} and "action" in lines[3]["invalid"]


def test_eval_accepts_json_lines_and_gzip_graphql_pages(tmp_path: Path) -> None:
    logs = _audit_logs()
    jsonl = b"\n".join(json.dumps(r).encode() for r in logs)
    assert len(_eval(["--log-type", "Wiz.Audit"], jsonl)[1]) == 3
    page = {"data": {"auditLogEntries": {"nodes": logs, "pageInfo": {"hasNextPage": False}}}}
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress(json.dumps(page).encode()))
    code, lines = _eval(["--log-type", "Wiz.Audit", str(path)], b"")
    assert code == 0 and len(lines) == 3 and lines[0]["alerts"]


def test_eval_reports_rule_errors(tmp_path: Path) -> None:
    (tmp_path / "boom.py").write_text("def rule(e):\n    raise RuntimeError('boom')\n")
    (tmp_path / "boom.yml").write_text(
        yaml.safe_dump(
            {
                "AnalysisType": "rule",
                "RuleID": "Boom",
                "LogTypes": ["Wiz.Audit"],
                "Severity": "Low",
                "Filename": "boom.py",
            }
        )
    )
    code, lines = _eval(
        ["--log-type", "Wiz.Audit", "--rules", str(tmp_path), "-"], json.dumps(_audit_logs()[:1]).encode()
    )
    assert code == 0
    assert lines[0]["errors"] == [{"rule_id": "Boom", "error_type": "RuntimeError", "message": "boom"}]


def test_eval_unreadable_input_exits_nonzero() -> None:
    code, lines = _eval(["--log-type", "Wiz.Audit"], b"{not json\n")
    assert code == 1
    assert len(lines) == 1 and lines[0]["index"] == 0 and "line 1: not JSON" in lines[0]["invalid"]
    code, lines = _eval(["--log-type", "Wiz.Audit"], b"\x1f\x8b not gzip")
    assert code == 1 and lines == []


def _ccf_shapes() -> list[dict[str, Any]]:
    lines = (ROOT / "tests" / "fixtures" / "cloud_configuration_findings.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "_shape"} for line in lines]


def test_eval_accepts_cloud_configuration_findings_in_every_peer_shape(tmp_path: Path) -> None:
    records = _ccf_shapes()
    code, lines = _eval(
        ["--log-type", "Wiz.CloudConfigurationFinding", "-"],
        b"\n".join(json.dumps(r).encode() for r in records),
    )
    assert code == 0 and len(lines) == len(records)
    assert not [line for line in lines if "invalid" in line or line["errors"]]
    fired = {line["index"]: sorted(a["rule_id"] for a in line["alerts"]) for line in lines}
    # SEKOIA's tagged shape: HIGH, FAIL, OPEN, Environment=production.
    assert fired[1] == [
        "Wizwatch.CloudConfiguration.High.Production",
        "Wizwatch.CloudConfiguration.Passthrough",
    ]
    assert fired[0] == [] and fired[4] == []  # PASS results never alert
    # The same findings as a whole (gzip) GraphQL page of configurationFindings.
    page = {"data": {"configurationFindings": {"nodes": records, "pageInfo": {"hasNextPage": False}}}}
    path = tmp_path / "page.json.gz"
    path.write_bytes(gzip.compress(json.dumps(page).encode()))
    code, again = _eval(["--log-type", "Wiz.CloudConfigurationFinding", str(path)], b"")
    assert code == 0 and [line["alerts"] for line in again] == [line["alerts"] for line in lines]


# ----------------------------------------------------------------------------- PAT parity


def test_path_show_failures_only_and_skip_disabled_tests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = rule_dir(tmp_path, expected=False)
    code, out = run_test_cmd(capsys, "--path", str(d), "--show-failures-only")
    assert code == 1 and "[FAIL] login" in out and "[PASS]" not in out
    spec = yaml.safe_load((d / "r.yml").read_text())
    (d / "r.yml").write_text(yaml.safe_dump({**spec, "Enabled": False}))
    code, out = run_test_cmd(capsys, "--path", str(d), "--skip-disabled-tests")
    assert code == 0 and "Skipped: 1" in out and "[FAIL]" not in out


def test_correlation_rule_tests_run_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = rule_dir(tmp_path)
    members = [{"ID": "L", "RuleID": "Cli.Rule"}, {"ID": "M", "RuleID": "Cli.Rule", "MinMatchCount": 2}]
    outputs = [{"ID": "L", "Matches": {"k": {"v": [0]}}}, {"ID": "M", "Matches": {"k": {"v": [1, 2]}}}]
    corr = {
        "AnalysisType": "correlation_rule",
        "RuleID": "Cli.Corr",
        "Enabled": True,
        "Severity": "High",
        "Detection": [
            {
                "Group": members,
                "MatchCriteria": {"k": [{"GroupID": "L", "Match": "k"}, {"GroupID": "M", "Match": "k"}]},
                "LookbackWindowMinutes": 10,
                "Schedule": {"RateMinutes": 60, "TimeoutMinutes": 5},
            }
        ],
        "Tests": [
            {"Name": "both", "ExpectedResult": True, "RuleOutputs": outputs},
            {"Name": "wrong", "ExpectedResult": True, "RuleOutputs": outputs[:1]},
        ],
    }
    (d / "c.yml").write_text(yaml.safe_dump(corr))
    code, out = run_test_cmd(capsys, str(d))
    assert code == 1
    assert "Cli.Corr\n\t[PASS] both" in out and "[FAIL] wrong" in out
    assert "expected a match: True, got False" in out


def test_rules_list_shows_the_effect_of_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    tree = tmp_path / "rules"
    shutil.copytree(ROOT / "functions" / "detector" / "rules", tree)
    example = tree / "custom" / "rules-overrides.example.yml"
    (tree / "custom" / "rules-overrides.yml").write_text(example.read_text())
    assert main(["rules", "list", "--rules", str(tree), "--format", "json"]) == 0
    rows = {r["rule_id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["Wiz.User.Created.Or.Deleted"]["enabled"] is False
    tuned = rows["Wiz.Update.IP.Restrictions"]
    assert (tuned["severity"], tuned["dedup_period_minutes"], tuned["output_ids"]) == (
        "CRITICAL",
        30,
        ["secops-pager"],
    )
    assert tuned["source"] == "panther-analysis v3.111.0 rules/wiz_rules/wiz_update_ip_restrictions.yml"
    assert any("AllowList" in note for note in tuned["overrides"])
    assert rows["Wizwatch.Correlation.Wiz.Issue.With.SSH"]["kind"] == "correlation"
    assert main(["rules", "list", "--rules", str(tree)]) == 0
    table = capsys.readouterr().out
    assert "Wiz.User.Created.Or.Deleted: Enabled: True -> False (rules-overrides.yml:5" in table


def test_debug_shows_each_function_and_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = rule_dir(tmp_path)
    (d / "r.py").write_text(
        "def rule(e):\n    return e.get('action') == 'Login'\n\ndef title(e):\n    return 'T'\n\n"
        "def alert_context(e):\n    return {'n': 1 / 0}\n"
    )
    code = main(["debug", "Cli.Rule", "login", "--rules", str(d)])
    out = capsys.readouterr().out
    assert code == 1
    assert '[rule] true\n[title] "T"\n[alert_context] ERROR' in out
    assert "ZeroDivisionError" in out and "Result: FAIL" in out
    assert main(["debug", "Cli.Rule", "nope", "--rules", str(d)]) == 2


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("wizwatch ")


def test_eval_runs_from_any_directory_with_matches_only_and_a_summary(tmp_path: Path) -> None:
    records = [*_audit_logs(), {"id": "no-action"}]
    proc = subprocess.run(
        [sys.executable, "-m", "wizwatch_tools.cli", "eval", "--log-type", "Wiz.Audit", "--matches-only"],
        cwd=tmp_path,
        input=json.dumps(records),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 3]  # record 2 matched nothing
    assert proc.stderr.strip().endswith("4 records: 2 matched (3 alerts), 0 rule errors, 1 invalid")


def test_eval_accepts_pushed_and_polled_detections_and_indexes_actor_ip(tmp_path: Path) -> None:
    from defend_samples import API, WEBHOOK, WEBHOOK_SINGLE

    (tmp_path / "ips.py").write_text(
        "def rule(e):\n    return bool(e.get('p_any_ip_addresses'))\n\n"
        "def title(e):\n    return ','.join(e.get('p_any_ip_addresses'))\n"
    )
    spec = {"AnalysisType": "rule", "RuleID": "Ips", "LogTypes": ["Wiz.Detections"], "Severity": "Low"}
    (tmp_path / "ips.yml").write_text(yaml.safe_dump({**spec, "Filename": "ips.py"}))
    records = json.dumps([WEBHOOK, WEBHOOK_SINGLE, API]).encode()
    code, lines = _eval(["--log-type", "Wiz.Detections", "--rules", str(tmp_path), "-"], records)
    assert code == 0 and [line.get("invalid") for line in lines] == [None, None, None]
    titles = [line["alerts"][0]["title"] for line in lines]
    assert [t.split(",")[0] for t in titles] == ["168.1.1.1", "81.2.69.192", "192.0.2.10"]
    # A whole GraphQL page of the detections connection (triggeringEvents as an object), shipped rules.
    page = {"data": {"detections": {"nodes": [API], "pageInfo": {"hasNextPage": False}}}}
    code, lines = _eval(["--log-type", "Wiz.Detections", "-"], json.dumps(page).encode())
    assert code == 0
    fired = {a["rule_id"]: a for a in lines[0]["alerts"]}
    assert fired["Wiz.Defend.Alert.Passthrough"]["title"] == f"[Wiz Alert]: {API['ruleMatch']['rule']['id']}"
    assert "Wizwatch.Defend.Credential.Access.Or.Impact" in fired


def test_unknown_destinations_fail_wizwatch_test(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules").mkdir()
    d = rule_dir(tmp_path / "rules")
    spec = yaml.safe_load((d / "r.yml").read_text())
    (d / "r.yml").write_text(yaml.safe_dump({**spec, "OutputIds": ["slack-secops"]}))
    doc = tmp_path / "destinations.yml"
    doc.write_text("destinations:\n  sns: {type: sns}\n")
    code, out = run_test_cmd(capsys, str(d), "--destinations", str(doc))
    assert code == 1
    assert "[FAIL] Cli.Rule" in out and "OutputIds ['slack-secops'] not configured" in out
    doc.write_text("destinations:\n  sns: {type: sns}\n  slack-secops: {type: slack}\n")
    assert run_test_cmd(capsys, str(d), "--destinations", str(doc))[0] == 0
    # destinations() returning a name nobody configured fails the test that produced it
    (tmp_path / "dyn").mkdir()
    dyn = rule_dir(tmp_path / "dyn")
    (dyn / "r.py").write_text(
        (dyn / "r.py").read_text() + "\ndef destinations(e):\n    return ['pagerduty']\n"
    )
    code, out = run_test_cmd(capsys, str(dyn), "--destinations", str(doc))
    assert code == 1 and "destinations() returned ['pagerduty'], not configured" in out


def test_rules_list_and_debug_show_each_rules_derived_selection(capsys: pytest.CaptureFixture[str]) -> None:
    rules = str(ROOT / "functions" / "detector" / "rules")
    assert main(["rules", "list", "--rules", rules, "--format", "json"]) == 0
    rows = {r["rule_id"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["Wiz.Revoke.User.Sessions"]["selection"] == [
        "status in {'SUCCESS'} [rule()]",
        "action in {'RevokeUserSessions'} [rule()]",
    ]
    assert rows["Wiz.Defend.Alert.Passthrough"]["selection"] == []
    assert main(["rules", "list", "--rules", rules]) == 0
    table = capsys.readouterr().out
    assert "Wiz.Defend.Alert.Passthrough: runs on every event (nothing derivable)" in table
    assert main(["debug", "Wiz.Revoke.User.Sessions", "RevokeUserSessions - Fail", "--rules", rules]) in (
        0,
        1,
    )
    shown = capsys.readouterr().out
    assert "[selection] status in {'SUCCESS'} [rule()]: NOT met (skipped in production)" in shown
