"""A rule's YAML spec, validated: every problem names the file, the key and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from wizwatch.errors import RuleLoadError
from wizwatch.logtypes import ALL_LOG_TYPES

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")

#: Every key of Panther's rule schema (plus pypanther's test output keys in Tests).
KNOWN_KEYS = {
    "AnalysisType",
    "RuleID",
    "DisplayName",
    "Enabled",
    "Filename",
    "LogTypes",
    "Severity",
    "Description",
    "Runbook",
    "Reference",
    "Reports",
    "DedupPeriodMinutes",
    "Threshold",
    "Tags",
    "SummaryAttributes",
    "InlineFilters",
    "Detection",
    "AlertTitle",
    "AlertContext",
    "GroupBy",
    "DynamicSeverities",
    "Tests",
    "OutputIds",
    "CreateAlert",
    "OnlyUseBaseRiskScore",
}
TEST_KEYS = {
    "Name",
    "ExpectedResult",
    "Log",
    "Mocks",
    "ExpectedTitle",
    "ExpectedDedup",
    "ExpectedSeverity",
    "ExpectedAlertContext",
    "ExpectedDescription",
    "ExpectedReference",
    "ExpectedRunbook",
    "ExpectedDestinations",
}


@dataclass
class RuleTest:
    name: str
    expected: bool
    log: dict[str, Any]
    mocks: list[dict[str, Any]] = field(default_factory=list)
    expectations: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Rule:
    """A loaded rule: spec values with defaults applied, plus its module or compiled detection."""

    rule_id: str
    display_name: str
    enabled: bool
    log_types: list[str]
    severity: str
    description: str
    runbook: str
    reference: str
    reports: dict[str, list[str]]
    tags: list[str]
    dedup_period_minutes: int
    threshold: int
    has_unique: bool
    path: str
    summary_attributes: list[str] = field(default_factory=list)
    #: Panther's Destination Override: destination names (or aliases) this rule's alerts go to.
    output_ids: list[str] = field(default_factory=list)
    tests: list[RuleTest] = field(default_factory=list)
    module: ModuleType | None = None
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    ordinal: int = 0
    #: The compiled callables (a ``wizwatch.detect.runner.RuleRunner``), set by the loader.
    runner: Any = field(default=None, repr=False)

    @property
    def is_simple(self) -> bool:
        return "Detection" in self.spec


def _err(path: str, key: str | None, problem: str) -> RuleLoadError:
    return RuleLoadError(path, key, problem)


def _str(doc: dict[str, Any], key: str, path: str, default: str = "") -> str:
    value = doc.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise _err(path, key, f"must be a string, got {type(value).__name__}")
    return value


def parse_spec(doc: Any, path: Path, ordinal: int = 0) -> Rule:
    """Validate a YAML document as a rule spec (the module is attached by the loader)."""
    p = str(path)
    if not isinstance(doc, dict):
        raise _err(p, None, "a rule spec must be a YAML mapping")
    unknown = sorted(set(doc) - KNOWN_KEYS)
    if unknown:
        raise _err(p, unknown[0], f"unknown key (known keys: {', '.join(sorted(KNOWN_KEYS))})")
    if doc.get("AnalysisType") != "rule":
        raise _err(p, "AnalysisType", f"must be 'rule', got {doc.get('AnalysisType')!r}")
    rule_id = doc.get("RuleID")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise _err(p, "RuleID", "required: a non-empty string")
    enabled = doc.get("Enabled", True)
    if not isinstance(enabled, bool):
        raise _err(p, "Enabled", f"must be true or false, got {enabled!r}")
    log_types = doc.get("LogTypes")
    if not isinstance(log_types, list) or not log_types or not all(isinstance(t, str) for t in log_types):
        raise _err(p, "LogTypes", "required: a non-empty list of log type names")
    for t in log_types:
        if t not in ALL_LOG_TYPES:
            raise _err(p, "LogTypes", f"unknown log type {t!r} (known: {', '.join(ALL_LOG_TYPES)})")
    severity = doc.get("Severity")
    if not isinstance(severity, str) or severity.upper() not in SEVERITIES:
        raise _err(p, "Severity", f"required: one of {', '.join(SEVERITIES)} (any case), got {severity!r}")
    has_file = "Filename" in doc
    has_detection = "Detection" in doc
    if has_file == has_detection:
        raise _err(p, "Filename", "exactly one of Filename (a Python rule) or Detection (a simple rule)")
    if has_file and not (isinstance(doc["Filename"], str) and doc["Filename"].endswith(".py")):
        raise _err(p, "Filename", f"must name a .py file beside the spec, got {doc['Filename']!r}")
    for key in ("AlertTitle", "AlertContext", "GroupBy", "DynamicSeverities"):
        if key in doc and not has_detection:
            raise _err(p, key, "only valid with Detection (simple rules); Python rules define functions")
    dedup = doc.get("DedupPeriodMinutes", 60)
    if not isinstance(dedup, int) or isinstance(dedup, bool) or dedup < 0:
        raise _err(p, "DedupPeriodMinutes", f"must be a whole number of minutes >= 0, got {dedup!r}")
    threshold = doc.get("Threshold", 1)
    if not isinstance(threshold, int) or isinstance(threshold, bool) or threshold < 1:
        raise _err(p, "Threshold", f"must be a whole number >= 1, got {threshold!r}")
    reports = doc.get("Reports") or {}
    if not isinstance(reports, dict):
        raise _err(p, "Reports", "must be a mapping of framework -> list of ids")
    tags = doc.get("Tags") or []
    if not isinstance(tags, list):
        raise _err(p, "Tags", "must be a list of strings")
    summary = doc.get("SummaryAttributes") or []
    if not isinstance(summary, list):
        raise _err(p, "SummaryAttributes", "must be a list of field names")
    output_ids = doc.get("OutputIds") or []
    if not isinstance(output_ids, list) or not all(isinstance(o, str) and o for o in output_ids):
        raise _err(p, "OutputIds", "must be a list of destination names")
    tests = [_parse_test(t, p, i) for i, t in enumerate(doc.get("Tests") or [])]
    names = [t.name for t in tests]
    if len(set(names)) != len(names):
        raise _err(p, "Tests", "test names must be unique")
    return Rule(
        rule_id=rule_id,
        display_name=_str(doc, "DisplayName", p),
        enabled=enabled,
        log_types=list(log_types),
        severity=severity.upper(),
        description=_str(doc, "Description", p),
        runbook=_str(doc, "Runbook", p),
        reference=_str(doc, "Reference", p),
        reports={str(k): [str(x) for x in (v or [])] for k, v in reports.items()},
        tags=[str(t) for t in tags],
        dedup_period_minutes=dedup,
        threshold=threshold,
        has_unique=False,
        path=p,
        summary_attributes=[str(s) for s in summary],
        output_ids=list(output_ids),
        tests=tests,
        spec=doc,
        ordinal=ordinal,
    )


def _parse_test(t: Any, path: str, i: int) -> RuleTest:
    key = f"Tests[{i}]"
    if not isinstance(t, dict):
        raise _err(path, key, "each test must be a mapping with Name, ExpectedResult, Log")
    unknown = sorted(set(t) - TEST_KEYS)
    if unknown:
        raise _err(path, f"{key}.{unknown[0]}", "unknown test key")
    name = t.get("Name")
    if not isinstance(name, str) or not name:
        raise _err(path, f"{key}.Name", "required: a non-empty string")
    expected = t.get("ExpectedResult")
    if not isinstance(expected, bool):
        raise _err(path, f"{key}.ExpectedResult", "required: true or false")
    log = t.get("Log")
    if isinstance(log, str):
        import json

        try:
            log = json.loads(log)
        except ValueError as exc:
            raise _err(path, f"{key}.Log", f"not JSON: {exc}") from None
    if not isinstance(log, dict):
        raise _err(path, f"{key}.Log", "required: the event as a mapping")
    mocks = t.get("Mocks") or []
    if not isinstance(mocks, list) or not all(isinstance(m, dict) and "objectName" in m for m in mocks):
        raise _err(path, f"{key}.Mocks", "a list of {objectName, returnValue}")
    expectations = {
        k[len("Expected") :]: v for k, v in t.items() if k.startswith("Expected") and k != "ExpectedResult"
    }
    return RuleTest(name=name, expected=expected, log=log, mocks=mocks, expectations=expectations)
