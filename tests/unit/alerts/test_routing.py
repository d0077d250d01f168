"""Routing as Panther orders it, the destinations document's checks, and the detector refusing
rules that name destinations nobody configured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from wizwatch.alerts import handler as detector_handler
from wizwatch.alerts.routing import Router, load_document, parse_document
from wizwatch.errors import ConfigError

DOC = {
    "destinations": {
        "sns": {"type": "sns"},
        "slack": {"type": "slack", "severities": ["medium", "HIGH", "CRITICAL"]},
        "pagerduty": {"type": "pagerduty", "severities": ["CRITICAL"], "alert_types": ["RULE"]},
        "jira": {"type": "jira", "severities": [], "aliases": ["0f5e3c1a-panther-uuid"], "project": "SEC",
                 "url": "https://acme.atlassian.net"},
        "issues-only": {"type": "webhook", "log_types": ["Wiz.Issues"]},
    }
}  # fmt: skip


@pytest.fixture
def router() -> Router:
    return Router(parse_document(DOC))


def route(router: Router, **kw: Any) -> list[str]:
    base: dict[str, Any] = {"alert_type": "RULE", "severity": "HIGH", "log_types": ["Wiz.Audit"]}
    return router.resolve(**{**base, **kw})


def test_defaults_follow_severity_alert_type_and_log_type(router: Router) -> None:
    assert route(router, severity="INFO") == ["sns"]
    assert route(router, severity="HIGH") == ["sns", "slack"]
    assert route(router, severity="CRITICAL") == ["sns", "slack", "pagerduty"]
    assert route(router, severity="CRITICAL", alert_type="RULE_ERROR") == ["sns", "slack"]
    assert route(router, severity="LOW", log_types=["Wiz.Issues"]) == ["sns", "issues-only"]


def test_destinations_function_beats_output_ids_beats_defaults(router: Router) -> None:
    assert route(router, output_ids=["jira"]) == ["jira"]
    assert route(router, output_ids=["0f5e3c1a-panther-uuid"]) == ["jira"]  # a Panther UUID alias
    assert route(router, dynamic=["pagerduty"], output_ids=["jira"]) == ["pagerduty"]
    assert route(router, dynamic=["slack", "slack", "jira"]) == ["slack", "jira"]


def test_unknown_names_at_run_time_fall_through_so_no_alert_is_lost(
    router: Router, caplog: pytest.LogCaptureFixture
) -> None:
    assert route(router, dynamic=["slak"], output_ids=["jira"]) == ["jira"]
    assert route(router, dynamic=["slak"]) == ["sns", "slack"]
    assert "unknown destination 'slak'" in caplog.text


def test_document_problems_are_all_listed() -> None:
    bad = {
        "destinations": {
            "a b": {"type": "slack"},
            "x": {"type": "opsgenie"},
            "y": {"type": "slack", "severities": ["SEVERE"], "aliases": ["z"]},
            "z": {"type": "sns"},
        },
        "routes": {},
    }
    with pytest.raises(ConfigError) as info:
        parse_document(bad)
    text = str(info.value)
    for needle in ("routes", "destinations.a b", "'opsgenie' is not one of", "SEVERE", "'z' names both"):
        assert needle in text, needle


def test_files_and_the_shipped_default(tmp_path: Path) -> None:
    assert [s.name for s in load_document(None)] == ["sns"]
    shipped = Path(__file__).resolve().parents[3] / "config" / "destinations.yml"
    assert [s.type for s in load_document(shipped)] == ["sns"]
    (tmp_path / "d.json").write_text('{"destinations": {"hook": {"type": "webhook"}}}')  # JSON works too
    assert [s.name for s in load_document(tmp_path / "d.json")] == ["hook"]
    with pytest.raises(ConfigError, match="cannot read"):
        load_document(tmp_path / "missing.yml")
    (tmp_path / "bad.yml").write_text("destinations: [")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_document(tmp_path / "bad.yml")


def _rules(tmp_path: Path, output_ids: list[str]) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "r.py").write_text("def rule(e):\n    return True\n")
    spec = {"AnalysisType": "rule", "RuleID": "Routed.Rule", "LogTypes": ["Wiz.Audit"], "Severity": "High",
            "Filename": "r.py", "OutputIds": output_ids}  # fmt: skip
    (rules / "r.yml").write_text(yaml.safe_dump(spec))
    return rules


def test_the_detector_refuses_to_start_with_rules_naming_unknown_destinations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = tmp_path / "destinations.yml"
    doc.write_text(yaml.safe_dump(DOC))
    monkeypatch.setenv("DEDUP_TABLE", "dedup")
    monkeypatch.setenv("ALERT_QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/1/alerts")
    monkeypatch.setenv("DESTINATIONS_FILE", str(doc))
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    detector_handler._build.cache_clear()
    with pytest.raises(ConfigError, match=r"Routed.Rule .*OutputIds \['pagerdooty'\] not configured"):
        detector_handler.detector_from_env(_rules(tmp_path, ["slack", "pagerdooty"]))
    detector_handler._build.cache_clear()
    (tmp_path / "ok").mkdir()
    det = detector_handler.detector_from_env(_rules(tmp_path / "ok", ["0f5e3c1a-panther-uuid"]))
    assert det.router is not None and det.router.canonical("0f5e3c1a-panther-uuid") == "jira"
    detector_handler._build.cache_clear()
