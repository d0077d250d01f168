"""Wizwatch-only expected outputs of a rule's tests, kept beside the rule in ``<rule>.wizwatch.yml``.

Panther's tool rejects any test key but its own (``Name``, ``ExpectedResult``, ``Log``, ``Mocks``,
``ExpectedDestinations``), and skips YAML without ``AnalysisType``. So the expected title, dedup,
severity, alert context... of our rules' tests (pypanther's ``expected_*``) live in a sidecar that
Panther's tool never reads and ``wizwatch test`` checks::

    RuleID: Wizwatch.Audit.Access.Denied.Burst
    Tests:
      - Name: Denied action by a service account    # a test of the rule, by name
        ExpectedDedup: serviceaccount:sa-7
        ExpectedTitle: "Wiz: burst of ACCESS_DENIED for serviceaccount [sa-7]"
"""

from __future__ import annotations

from pathlib import Path

from wizwatch.detect.spec import EXPECTED_OUTPUT_KEYS, Problems, Rule, expectations_of
from wizwatch.detect.yaml_strict import YamlDocument

SUFFIXES = (".wizwatch.yml", ".wizwatch.yaml")


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SUFFIXES)


def spec_of(path: Path) -> list[Path]:
    """The rule specs a sidecar may belong to (same stem, .yml or .yaml)."""
    stem = path.name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    return [path.with_name(stem + ".yml"), path.with_name(stem + ".yaml")]


def apply(doc: YamlDocument, path: Path, rules: dict[str, Rule], problems: Problems) -> None:
    """Merge the sidecar's expectations into its rule's tests; every problem is reported."""
    data = doc.data
    if problems.errors:
        return
    if (
        not isinstance(data, dict)
        or set(data) - {"RuleID", "Tests"}
        or not isinstance(data.get("RuleID"), str)
    ):
        problems.add(None, "a .wizwatch.yml sidecar is a mapping {RuleID, Tests: [{Name, Expected...}]}")
        return
    rule_id = data["RuleID"]
    problems.rule_id = rule_id
    rule = rules.get(rule_id)
    if rule is None:
        problems.add("RuleID", f"no loaded rule {rule_id!r} for this sidecar (its spec failed or is missing)")
        return
    if Path(rule.path) not in spec_of(path):
        problems.add("RuleID", f"{rule_id} is defined in {rule.path}; a sidecar sits beside its rule's spec")
    by_name = {t.name: t for t in rule.tests}
    for i, entry in enumerate(data.get("Tests") or []):
        at = ("Tests", i)
        if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str):
            problems.add(f"Tests[{i}]", "each entry needs the Name of one of the rule's tests", at=at)
            continue
        test = by_name.get(entry["Name"])
        if test is None:
            problems.add(
                f"Tests[{i}].Name", f"{rule_id} has no test named {entry['Name']!r}", at=(*at, "Name")
            )
            continue
        for key in sorted(set(entry) - EXPECTED_OUTPUT_KEYS - {"Name"}, key=str):
            allowed = ", ".join(sorted(EXPECTED_OUTPUT_KEYS))
            problems.add(f"Tests[{i}].{key}", f"not an expected-output key ({allowed})", at=(*at, key))
        for key, value in expectations_of(entry).items():
            if key in test.expectations and test.expectations[key] != value:
                problems.add(
                    f"Tests[{i}].Expected{key}", "also set, differently, in the rule's own test", at=at
                )
            test.expectations[key] = value
