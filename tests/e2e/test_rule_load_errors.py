"""A broken rule in the deployed tree costs only itself (through the moto server, real handlers).

The shipped rule tree is copied, one managed rule gets a Python syntax error, and the detector
runs with that tree as RULES_DIR: the broken rule raises one RULE_ERROR alert (not one per page)
naming the file and line, ``RulesFailedToLoad`` (the metric RuleLoadErrorAlarm watches) is 1,
and every other rule keeps alerting.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import T0, audit, delivered, key_for, page_body

from wizwatch import metric_names as mn
from wizwatch.alerts import clock
from wizwatch_tools.localstack.cfn import load_template
from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE

BUNDLED = Path(__file__).resolve().parents[2] / "functions" / "detector" / "rules"
BROKEN = "panther_wiz/wiz_user_created_or_deleted.py"


@pytest.fixture
def broken_tree(stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    tree = tmp_path / "rules"
    shutil.copytree(BUNDLED, tree, ignore=shutil.ignore_patterns("__pycache__"))
    source = (tree / BROKEN).read_text()
    (tree / BROKEN).write_text(source.replace("def rule(event):", "def rule(event)", 1))  # SyntaxError
    monkeypatch.setitem(stack.spec("detector").environment, "RULES_DIR", str(tree))
    monkeypatch.setattr(clock, "now", lambda: T0)
    return stack


def _created_user(id_: str) -> dict[str, Any]:
    record = audit(id_, action="CreateUser")
    record["actionParameters"] = {"input": {"email": f"{id_}@example.com", "role": "GLOBAL_ADMIN"}}
    return record


def _metric(stack: Any, name: str) -> list[float]:
    return [blob[name] for blob in stack.recorder.metrics.get("detector", []) if name in blob]


def test_a_rule_with_a_syntax_error_alerts_once_and_the_others_keep_alerting(broken_tree: Any) -> None:
    stack = broken_tree
    bucket = stack.resources["bucket"]
    records = [_created_user("c1"), audit("ip1", action="UpdateIPRestrictions"), audit("d1")]
    stack.s3.put_object(Bucket=bucket, Key=key_for(1), Body=page_body(records))
    first = delivered(stack)

    errors = [a for a in first if a["alert_type"] == "RULE_ERROR"]
    assert [a["rule_id"] for a in errors] == ["Wiz.User.Created.Or.Deleted"]
    error = errors[0]["error"]
    assert error["type"] == "RuleLoadError"
    assert "wiz_user_created_or_deleted.py:" in error["message"] and "SyntaxError" in error["message"]
    assert errors[0]["dedup_string"] == "Wiz.User.Created.Or.Deleted:RuleLoadError"
    rules = sorted(a["rule_id"] for a in first if a["alert_type"] == "RULE")
    # The other rules on the same events still alert (alice's admin + IP change also correlate).
    assert rules == [
        "Wiz.Update.IP.Restrictions",
        "Wizwatch.Audit.Global.Admin.User.Created",
        "Wizwatch.Correlation.Admin.Created.Then.IP.Restrictions",
    ]
    assert _metric(stack, mn.RULES_FAILED_TO_LOAD)[-1] == [1.0]

    # Another page: new matches alert, the broken rule's error is deduplicated (no alert per page).
    stack.s3.put_object(Bucket=bucket, Key=key_for(2), Body=page_body([_created_user("c2")]))
    second = delivered(stack)
    assert [(a["alert_type"], a["rule_id"]) for a in second] == [
        ("RULE", "Wizwatch.Audit.Global.Admin.User.Created")
    ]


def test_the_template_alarms_on_the_metric_the_detector_emits() -> None:
    alarm = load_template(DEFAULT_TEMPLATE)["Resources"]["RuleLoadErrorAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (mn.NAMESPACE, mn.RULES_FAILED_TO_LOAD)
    assert alarm["Dimensions"] == [{"Name": "service", "Value": "detector"}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
