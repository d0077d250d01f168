"""A rule's YAML spec, validated: every problem in the file is reported (file, line, key, what is
wrong), not only the first, so one run of ``wizwatch test`` shows everything to fix."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from wizwatch.detect.rule_id import rule_id_problem
from wizwatch.detect.yaml_strict import YamlDocument
from wizwatch.errors import RuleLoadError
from wizwatch.logtypes import ALL_LOG_TYPES

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")

#: Every key of Panther's rule schema (panther_analysis_tool's RULE_SCHEMA).
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
    "Status",
    "CreatedBy",
    "BaseVersion",
}
#: Panther's test keys (``LogType`` is accepted by Panther for backwards compatibility).
PANTHER_TEST_KEYS = {"Name", "ExpectedResult", "Log", "Mocks", "LogType", "ExpectedDestinations"}
#: Wizwatch's expected-output keys (pypanther's expected_* in YAML form). Panther's tool rejects
#: them inside a rule's Tests, so Wizwatch's own rules keep them in a ``<rule>.wizwatch.yml``
#: sidecar (see ``wizwatch.detect.sidecar``); inline they work in Wizwatch only.
EXPECTED_OUTPUT_KEYS = {
    "ExpectedTitle",
    "ExpectedDedup",
    "ExpectedSeverity",
    "ExpectedAlertContext",
    "ExpectedDescription",
    "ExpectedReference",
    "ExpectedRunbook",
}
TEST_KEYS = PANTHER_TEST_KEYS | EXPECTED_OUTPUT_KEYS


@dataclass
class RuleTest:
    name: str
    expected: bool
    log: dict[str, Any]
    mocks: list[dict[str, Any]] = field(default_factory=list)
    expectations: dict[str, Any] = field(default_factory=dict)


@dataclass(eq=False)
class Rule:
    """A loaded rule: spec values with defaults (and the user's overrides) applied, plus its module
    or compiled detection."""

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
    tests: list[RuleTest] = field(default_factory=list)
    module: ModuleType | None = None
    spec: dict[str, Any] = field(default_factory=dict, repr=False)
    ordinal: int = 0
    #: The compiled callables (a ``wizwatch.detect.runner.RuleRunner``), set by the loader.
    runner: Any = field(default=None, repr=False)
    #: Panther's static destination overrides (``OutputIds``); empty = default routing.
    output_ids: list[str] = field(default_factory=list)
    #: ``CreateAlert: false``: the rule's matches are signals (for correlation rules) only.
    create_alert: bool = True
    #: Where the rule comes from: "panther-analysis <tag> <path>", "wizwatch", "custom", ...
    source: str = ""
    #: What the user's overrides changed, e.g. ["Severity: HIGH -> CRITICAL (rules-overrides.yml:4)"].
    overrides: list[str] = field(default_factory=list)
    #: InlineFilters the overrides add (ANDed with the rule's own; Panther semantics).
    extra_filters: list[Any] = field(default_factory=list)
    #: Allow-list entries from the overrides: (label, expressions); a matching event never alerts.
    allow_list: list[tuple[str, list[Any]]] = field(default_factory=list)
    #: Tests from the overrides: they run against the overridden rule (its own Tests against
    #: :attr:`unmodified`, so a managed rule's tests stay valid whatever the user tunes).
    override_tests: list[RuleTest] = field(default_factory=list)
    #: The rule as written, before overrides (its own Tests run against it), when it was overridden.
    unmodified: Rule | None = field(default=None, repr=False)

    @property
    def is_simple(self) -> bool:
        return "Detection" in self.spec


class Problems:
    """Collects a file's problems, each with the line of the key it concerns when known."""

    def __init__(self, path: str | Path, doc: YamlDocument | None = None) -> None:
        self.path = str(path)
        self.doc = doc
        self.errors: list[RuleLoadError] = []
        self.rule_id: str | None = None

    def add(self, key: str | None, problem: str, *, at: tuple[Any, ...] = ()) -> None:
        line = None
        if self.doc is not None:
            line = self.doc.line_at(*(at or ((key,) if key else ())))
        self.errors.append(RuleLoadError(self.path, key, problem, line=line, rule_id=self.rule_id))

    def __bool__(self) -> bool:
        return bool(self.errors)


def _str(doc: dict[str, Any], key: str, problems: Problems, default: str = "") -> str:
    value = doc.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        problems.add(key, f"must be a string, got {type(value).__name__}")
        return default
    return value


def _str_list(doc: dict[str, Any], key: str, problems: Problems, what: str) -> list[str]:
    value = doc.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.add(key, f"must be a list of {what}")
        return []
    return list(value)


def check_id_and_keys(doc: dict[str, Any], known: set[str], problems: Problems) -> str:
    """The RuleID ("" when missing, reported), and every unknown top-level key reported."""
    rule_id = doc.get("RuleID")
    if not isinstance(rule_id, str) or not rule_id.strip():
        problems.add("RuleID", "required: a non-empty string")
        rule_id = ""
    elif (problem := rule_id_problem(rule_id)) is not None:
        problems.add("RuleID", f"{rule_id[:80]!r}: {problem}")
        rule_id = ""
    else:
        problems.rule_id = rule_id
    for key in sorted(set(doc) - known, key=str):
        problems.add(str(key), f"unknown key (known keys: {', '.join(sorted(known))})")
    return rule_id


def check_severity(value: Any, key: str, problems: Problems) -> str:
    if not isinstance(value, str) or value.upper() not in SEVERITIES:
        problems.add(key, f"required: one of {', '.join(SEVERITIES)} (any case), got {value!r}")
        return "INFO"
    return value.upper()


def check_whole(value: Any, key: str, problems: Problems, minimum: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        problems.add(key, f"must be a whole number {what} >= {minimum}, got {value!r}")
        return minimum
    return value


def parse_spec(doc: Any, path: Path, ordinal: int = 0, problems: Problems | None = None) -> Rule | None:
    """Validate a YAML document as a rule spec (the module is attached by the loader).

    Every problem goes to ``problems``; the Rule is returned only when there were none.
    """
    problems = problems if problems is not None else Problems(path)
    if not isinstance(doc, dict):
        problems.add(None, "a rule spec must be a YAML mapping")
        return None
    rule_id = check_id_and_keys(doc, KNOWN_KEYS, problems)
    if doc.get("AnalysisType") != "rule":
        problems.add("AnalysisType", f"must be 'rule', got {doc.get('AnalysisType')!r}")
    enabled = doc.get("Enabled", True)
    if not isinstance(enabled, bool):
        problems.add("Enabled", f"must be true or false, got {enabled!r}")
    create_alert = doc.get("CreateAlert", True)
    if not isinstance(create_alert, bool):
        problems.add("CreateAlert", f"must be true or false, got {create_alert!r}")
    log_types = doc.get("LogTypes")
    if not isinstance(log_types, list) or not log_types or not all(isinstance(t, str) for t in log_types):
        problems.add("LogTypes", "required: a non-empty list of log type names")
        log_types = []
    for t in log_types:
        if t not in ALL_LOG_TYPES:
            problems.add("LogTypes", f"unknown log type {t!r} (known: {', '.join(ALL_LOG_TYPES)})")
    severity = check_severity(doc.get("Severity"), "Severity", problems)
    has_file = "Filename" in doc
    has_detection = "Detection" in doc
    if has_file == has_detection:
        problems.add("Filename", "exactly one of Filename (a Python rule) or Detection (a simple rule)")
    if has_file and not (isinstance(doc["Filename"], str) and doc["Filename"].endswith(".py")):
        problems.add("Filename", f"must name a .py file beside the spec, got {doc['Filename']!r}")
    for key in ("AlertTitle", "AlertContext", "GroupBy", "DynamicSeverities"):
        if key in doc and not has_detection:
            problems.add(key, "only valid with Detection (simple rules); Python rules define functions")
    dedup = check_whole(doc.get("DedupPeriodMinutes", 60), "DedupPeriodMinutes", problems, 0, "of minutes")
    threshold = check_whole(doc.get("Threshold", 1), "Threshold", problems, 1, "")
    reports = doc.get("Reports") or {}
    if not isinstance(reports, dict) or not all(isinstance(v, list | None) for v in reports.values()):
        problems.add("Reports", "must be a mapping of framework -> list of ids")
        reports = {}
    tags = _str_list(doc, "Tags", problems, "strings")
    summary = _str_list(doc, "SummaryAttributes", problems, "field names")
    output_ids = _str_list(doc, "OutputIds", problems, "destination names or ids")
    tests = parse_tests(doc.get("Tests"), problems)
    display_name = _str(doc, "DisplayName", problems)
    description = _str(doc, "Description", problems)
    runbook = _str(doc, "Runbook", problems)
    reference = _str(doc, "Reference", problems)
    if problems:
        return None
    return Rule(
        rule_id=rule_id,
        display_name=display_name,
        enabled=bool(enabled),
        log_types=list(log_types),
        severity=severity,
        description=description,
        runbook=runbook,
        reference=reference,
        reports={str(k): [str(x) for x in (v or [])] for k, v in reports.items()},
        tags=tags,
        dedup_period_minutes=dedup,
        threshold=threshold,
        has_unique=False,
        path=str(path),
        summary_attributes=summary,
        tests=tests,
        spec=doc,
        ordinal=ordinal,
        output_ids=output_ids,
        create_alert=bool(create_alert),
    )


def parse_tests(raw: Any, problems: Problems) -> list[RuleTest]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Tests", "must be a list of tests")
        return []
    tests = [t for i, item in enumerate(raw) if (t := _parse_test(item, problems, i)) is not None]
    names = [t.name for t in tests]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.add("Tests", f"test name {name!r} is used more than once; names must be unique")
    return tests


def _parse_test(t: Any, problems: Problems, i: int) -> RuleTest | None:
    key = f"Tests[{i}]"
    if not isinstance(t, dict):
        problems.add(key, "each test must be a mapping with Name, ExpectedResult, Log", at=("Tests", i))
        return None
    before = len(problems.errors)
    for unknown in sorted(set(t) - TEST_KEYS, key=str):
        problems.add(f"{key}.{unknown}", "unknown test key", at=("Tests", i, unknown))
    name = t.get("Name")
    if not isinstance(name, str) or not name:
        problems.add(f"{key}.Name", "required: a non-empty string", at=("Tests", i, "Name"))
    expected = t.get("ExpectedResult")
    if not isinstance(expected, bool):
        problems.add(f"{key}.ExpectedResult", "required: true or false", at=("Tests", i, "ExpectedResult"))
    log = t.get("Log")
    if isinstance(log, str):
        try:
            log = json.loads(log)
        except ValueError as exc:
            problems.add(f"{key}.Log", f"not JSON: {exc}", at=("Tests", i, "Log"))
            log = {}
    if not isinstance(log, dict):
        problems.add(f"{key}.Log", "required: the event as a mapping", at=("Tests", i, "Log"))
    mocks = t.get("Mocks") or []
    if not isinstance(mocks, list) or not all(isinstance(m, dict) and "objectName" in m for m in mocks):
        problems.add(f"{key}.Mocks", "a list of {objectName, returnValue}", at=("Tests", i, "Mocks"))
    if len(problems.errors) > before:
        return None
    assert isinstance(name, str) and isinstance(expected, bool) and isinstance(log, dict)
    return RuleTest(name=name, expected=expected, log=log, mocks=mocks, expectations=expectations_of(t))


def expectations_of(t: dict[str, Any]) -> dict[str, Any]:
    """``ExpectedTitle: x`` -> ``{"Title": x}`` (every Expected* key but ExpectedResult)."""
    return {
        k[len("Expected") :]: v for k, v in t.items() if k.startswith("Expected") and k != "ExpectedResult"
    }
