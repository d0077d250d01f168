"""The user's overlay on the bundled rules (``rules-overrides.yml``), applied at load time.

Managed rules (Panther's, Wizwatch's) are never edited to tune them: a file named
``rules-overrides.yml`` anywhere in the rule tree (the template ships ``custom/`` for it) says,
per rule, what to change::

    Overrides:
      - RuleID: Wiz.User.Created.Or.Deleted     # exact id, or a glob such as "Wiz.*"
        Enabled: false
        Reason: users come from SCIM             # optional, shown by `wizwatch rules list`
      - RuleID: Wiz.Update.IP.Restrictions
        Severity: Critical
        DedupPeriodMinutes: 30
        Threshold: 2
        OutputIds: [secops-pager]
        AllowList:                              # an event matching any entry never alerts
          - Name: the Terraform pipeline
            Detection:                          # Panther simple-detection expressions, ANDed
              - KeyPath: user.name
                Condition: Equals
                Value: terraform@example.com
        InlineFilters: [...]                    # Panther's: the rule runs only on events matching
        Tests: [...]                            # Panther-style tests run on the overridden rule

Panther's tool skips the file (it has no ``AnalysisType``). Every problem is reported with its
line; an override naming no loaded rule is an error (a typo must not silently tune nothing).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizwatch.detect import simple
from wizwatch.detect.spec import Problems, RuleTest, check_severity, check_whole, parse_tests
from wizwatch.detect.yaml_strict import YamlDocument

FILE_NAMES = ("rules-overrides.yml", "rules-overrides.yaml")
#: Keys an override may set, and whether correlation rules accept them too.
SETTABLE = {
    "Enabled": True,
    "Severity": True,
    "DedupPeriodMinutes": True,
    "Threshold": False,
    "OutputIds": True,
    "AllowList": False,
    "InlineFilters": False,
}
ENTRY_KEYS = {"RuleID", "Reason", "Tests", *SETTABLE}


@dataclass
class Override:
    """One entry of an overrides file, validated."""

    pattern: str
    path: str
    line: int | None
    values: dict[str, Any] = field(default_factory=dict)
    allow_list: list[tuple[str, list[Any]]] = field(default_factory=list)  # (name, expressions)
    inline_filters: list[Any] = field(default_factory=list)
    tests: list[RuleTest] = field(default_factory=list)
    reason: str = ""
    used: bool = False

    @property
    def where(self) -> str:
        name = Path(self.path).name
        return f"{name}:{self.line}" if self.line else name

    def matches(self, rule_id: str) -> bool:
        return self.pattern == rule_id or (
            any(c in self.pattern for c in "*?[") and fnmatch.fnmatchcase(rule_id, self.pattern)
        )


def parse_overrides(doc: YamlDocument, path: Path, problems: Problems) -> list[Override]:
    """The entries of one overrides file; every problem goes to ``problems``."""
    data = doc.data
    if data is None:
        return []
    if not isinstance(data, dict) or set(data) - {"Overrides"}:
        problems.add(None, "an overrides file is a mapping with one key, Overrides: a list of entries")
        return []
    entries = data.get("Overrides") or []
    if not isinstance(entries, list):
        problems.add("Overrides", "must be a list of entries, each with a RuleID")
        return []
    out = []
    for i, entry in enumerate(entries):
        parsed = _parse_entry(entry, i, path, doc, problems)
        if parsed is not None:
            out.append(parsed)
    return out


def _parse_entry(entry: Any, i: int, path: Path, doc: YamlDocument, problems: Problems) -> Override | None:
    where = f"Overrides[{i}]"
    at: tuple[Any, ...] = ("Overrides", i)
    if not isinstance(entry, dict):
        problems.add(where, "each override is a mapping with a RuleID", at=at)
        return None
    before = len(problems.errors)
    pattern = entry.get("RuleID")
    if not isinstance(pattern, str) or not pattern:
        problems.add(f"{where}.RuleID", "required: the rule's id (or a glob such as Wiz.*)", at=at)
        pattern = ""
    for key in sorted(set(entry) - ENTRY_KEYS, key=str):
        problems.add(
            f"{where}.{key}",
            f"cannot be overridden (possible keys: {', '.join(sorted(ENTRY_KEYS))})",
            at=(*at, key),
        )
    if not set(entry) & (set(SETTABLE) | {"Tests"}):
        problems.add(where, f"changes nothing: set one of {', '.join(sorted(SETTABLE))}", at=at)
    override = Override(pattern=pattern, path=str(path), line=doc.line_at(*at, "RuleID"))
    values = override.values
    sub = _Scoped(problems, where, at)
    if "Enabled" in entry:
        if isinstance(entry["Enabled"], bool):
            values["Enabled"] = entry["Enabled"]
        else:
            sub.add("Enabled", f"must be true or false, got {entry['Enabled']!r}")
    if "Severity" in entry:
        values["Severity"] = check_severity(
            entry["Severity"], f"{where}.Severity", sub.problems_at("Severity")
        )
    if "DedupPeriodMinutes" in entry:
        values["DedupPeriodMinutes"] = check_whole(
            entry["DedupPeriodMinutes"],
            f"{where}.DedupPeriodMinutes",
            sub.problems_at("DedupPeriodMinutes"),
            0,
            "of minutes",
        )
    if "Threshold" in entry:
        values["Threshold"] = check_whole(
            entry["Threshold"], f"{where}.Threshold", sub.problems_at("Threshold"), 1, ""
        )
    if "OutputIds" in entry:
        ids = entry["OutputIds"]
        if isinstance(ids, list) and all(isinstance(x, str) for x in ids):
            values["OutputIds"] = list(ids)
        else:
            sub.add("OutputIds", "must be a list of destination names or ids")
    if "Reason" in entry:
        override.reason = str(entry["Reason"])
    if "InlineFilters" in entry:
        try:
            simple.compile_expressions(entry["InlineFilters"], "InlineFilters")
            override.inline_filters = list(entry["InlineFilters"])
        except simple.DetectionSyntaxError as exc:
            sub.add("InlineFilters", str(exc))
    for j, item in enumerate(_as_list(entry.get("AllowList"), sub)):
        name, exprs = _allow_entry(item, j, sub)
        if exprs is not None:
            override.allow_list.append((name, exprs))
    if "Tests" in entry:
        if any(c in pattern for c in "*?["):
            sub.add("Tests", "tests need one rule: use an exact RuleID, not a glob")
        test_problems = _Scoped(problems, where, at)
        override.tests = parse_tests(entry["Tests"], test_problems.problems_at("Tests", prefix_only=True))
    return override if len(problems.errors) == before else None


def _as_list(value: Any, sub: _Scoped) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        sub.add("AllowList", "must be a non-empty list of {Name, Detection} entries")
        return []
    return value


def _allow_entry(item: Any, j: int, sub: _Scoped) -> tuple[str, list[Any] | None]:
    key = f"AllowList[{j}]"
    if not isinstance(item, dict) or "Detection" not in item or set(item) - {"Name", "Detection"}:
        sub.add(key, "each entry is {Name: optional label, Detection: [match expressions]}")
        return "", None
    try:
        simple.compile_expressions(item["Detection"], f"{key}.Detection")
    except simple.DetectionSyntaxError as exc:
        sub.add(f"{key}.Detection", str(exc))
        return "", None
    exprs = item["Detection"] if isinstance(item["Detection"], list) else [item["Detection"]]
    return str(item.get("Name") or f"allow-list entry {j + 1}"), exprs


class _Scoped:
    """Adds problems under an entry's key prefix, with the line of the entry's key."""

    def __init__(self, problems: Problems, where: str, at: tuple[Any, ...]) -> None:
        self.problems = problems
        self.where = where
        self.at = at

    def add(self, key: str, problem: str) -> None:
        self.problems.add(f"{self.where}.{key}", problem, at=(*self.at, key.split("[")[0]))

    def problems_at(self, key: str, *, prefix_only: bool = False) -> Problems:
        """A Problems whose entries carry this entry's prefix (for the shared checkers)."""
        outer = self

        class _Prefixed(Problems):
            def add(self, k: str | None, problem: str, *, at: tuple[Any, ...] = ()) -> None:
                name = k if k and k.startswith(outer.where) else f"{outer.where}.{k or key}"
                line_at = (*outer.at, key, *at[1:]) if prefix_only and at else (*outer.at, key)
                outer.problems.add(name, problem, at=line_at)

        return _Prefixed(self.problems.path, self.problems.doc)
