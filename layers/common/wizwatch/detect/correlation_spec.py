"""Panther's correlation-rule YAML (``AnalysisType: correlation_rule``), validated into one model.

Both of Panther's detection forms become a :class:`CorrelationRule`:

* ``Group``: members (``ID``, ``RuleID``, ``MinMatchCount``, ``Absence``) that must all occur
  (absent ones must not) within ``LookbackWindowMinutes``, related by ``MatchCriteria`` (each
  criterion lists, per member, the field whose value must be equal); ``EventEvaluationOrder:
  Chronological`` makes the members' order matter.
* ``Sequence``: ordered members and ``Transitions`` (``From``, ``To``, ``WithinTimeFrameMinutes``,
  ``Match: [{On: f} | {From: f1, To: f2}]``); each transition's matches become criteria and its
  time frame a limit between the two members.

``Schedule`` is accepted and ignored: Panther runs correlation rules as scheduled queries over
the signals table; Wizwatch evaluates them as signals arrive (``wizwatch.detect.correlation``).
Tests (``RuleOutputs``) are Panther's; see ``correlation_testing``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from wizwatch.detect.spec import Problems, check_id_and_keys, check_severity

KNOWN_KEYS = {
    "AnalysisType",
    "RuleID",
    "DisplayName",
    "Enabled",
    "Detection",
    "Severity",
    "Description",
    "Runbook",
    "Reference",
    "Reports",
    "Tags",
    "OutputIds",
    "CreateAlert",
    "SummaryAttributes",
    "OnlyUseBaseRiskScore",
    "CreatedBy",
    "Status",
    "BaseVersion",
    "Tests",
}
GROUP_KEYS = {
    "Group",
    "MatchCriteria",
    "LookbackWindowMinutes",
    "Schedule",
    "EventEvaluationOrder",
    "MinMatchCount",
}
SEQUENCE_KEYS = {"Sequence", "Transitions", "LookbackWindowMinutes", "Schedule", "EventEvaluationOrder"}
MEMBER_KEYS = {"ID", "RuleID", "MinMatchCount", "MaxMatchCount", "Absence"}
#: Panther's default dedup period; correlation specs have no DedupPeriodMinutes (overrides may set it).
DEFAULT_DEDUP_MINUTES = 60


@dataclass(frozen=True)
class Member:
    id: str
    rule_id: str
    min_count: int = 1
    max_count: int | None = None
    absent: bool = False


@dataclass
class CorrelationTest:
    name: str
    expected: bool
    #: member id -> [(match path, value, event time as epoch seconds)]
    outputs: dict[str, list[tuple[str, Any, float]]]


@dataclass(eq=False)
class CorrelationRule:
    rule_id: str
    display_name: str
    enabled: bool
    severity: str
    description: str
    runbook: str
    reference: str
    reports: dict[str, list[str]]
    tags: list[str]
    path: str
    members: list[Member]
    #: criterion name -> {member id: field path}; members share a value on each criterion they are in.
    criteria: dict[str, dict[str, str]]
    lookback_minutes: int
    ordered: bool
    #: Group-level MinMatchCount: how many present members must occur (default: all of them).
    min_members: int | None = None
    #: (from member, to member) -> minutes the second may come after the first (Sequence form).
    within: dict[tuple[str, str], int] = field(default_factory=dict)
    tests: list[CorrelationTest] = field(default_factory=list)
    output_ids: list[str] = field(default_factory=list)
    create_alert: bool = True
    dedup_period_minutes: int = DEFAULT_DEDUP_MINUTES
    threshold: int = 1
    has_unique: bool = False
    log_types: list[str] = field(default_factory=list)
    source: str = ""
    overrides: list[str] = field(default_factory=list)
    ordinal: int = 0

    @property
    def input_rules(self) -> set[str]:
        return {m.rule_id for m in self.members}

    @property
    def primary(self) -> str | None:
        """A criterion every member takes part in (how signals are partitioned), if any."""
        ids = {m.id for m in self.members}
        for name, paths in self.criteria.items():
            if set(paths) == ids:
                return name
        return None


def parse_correlation(doc: dict[str, Any], path: Path, problems: Problems) -> CorrelationRule | None:
    """Validate a correlation-rule document; every problem goes to ``problems``."""
    rule_id = check_id_and_keys(doc, KNOWN_KEYS, problems)
    enabled = doc.get("Enabled")
    if not isinstance(enabled, bool):
        problems.add("Enabled", f"required: true or false, got {enabled!r}")
    create_alert = doc.get("CreateAlert", True)
    if not isinstance(create_alert, bool):
        problems.add("CreateAlert", f"must be true or false, got {create_alert!r}")
    severity = check_severity(doc.get("Severity"), "Severity", problems)
    detection = doc.get("Detection")
    if not isinstance(detection, list) or len(detection) != 1 or not isinstance(detection[0], dict):
        problems.add("Detection", "required: a list with one Group or Sequence entry")
        return None
    body = detection[0]
    if ("Group" in body) == ("Sequence" in body):
        problems.add("Detection", "the entry needs exactly one of Group or Sequence")
        return None
    is_group = "Group" in body
    allowed = GROUP_KEYS if is_group else SEQUENCE_KEYS
    for key in sorted(set(body) - allowed, key=str):
        problems.add(
            f"Detection[0].{key}", f"unknown key (known: {', '.join(sorted(allowed))})", at=("Detection",)
        )
    members = _members(body.get("Group" if is_group else "Sequence"), problems)
    ids = {m.id for m in members}
    lookback = body.get("LookbackWindowMinutes")
    if not isinstance(lookback, int) or isinstance(lookback, bool) or lookback < 1:
        problems.add(
            "Detection[0].LookbackWindowMinutes",
            f"required: minutes >= 1, got {lookback!r}",
            at=("Detection",),
        )
        lookback = 1
    within: dict[tuple[str, str], int] = {}
    order = body.get("EventEvaluationOrder")
    if order not in (None, "Chronological", "ReverseChronological"):
        problems.add(
            "Detection[0].EventEvaluationOrder",
            f"Chronological or ReverseChronological, got {order!r}",
            at=("Detection",),
        )
    min_members = body.get("MinMatchCount")
    if min_members is not None and (
        not isinstance(min_members, int)
        or isinstance(min_members, bool)
        or not 1 <= min_members <= len(members)
    ):
        problems.add(
            "Detection[0].MinMatchCount", f"1..{len(members)} members, got {min_members!r}", at=("Detection",)
        )
        min_members = None
    if is_group:
        # A Group's members may come in any order (EventEvaluationOrder only says how Panther
        # scans the signals; its own test "Checkout happens before pull_request_target" matches).
        criteria = _group_criteria(body.get("MatchCriteria"), ids, problems)
        ordered = False
    else:
        criteria = _transitions(body.get("Transitions"), members, within, problems)
        ordered = True
    if members and all(m.absent for m in members):
        problems.add("Detection", "at least one member must not be an Absence")
    tests = _tests(doc.get("Tests"), ids, problems)
    if problems:
        return None
    reports = doc.get("Reports") or {}
    return CorrelationRule(
        rule_id=rule_id,
        display_name=str(doc.get("DisplayName") or ""),
        enabled=bool(enabled),
        severity=severity,
        description=str(doc.get("Description") or ""),
        runbook=str(doc.get("Runbook") or ""),
        reference=str(doc.get("Reference") or ""),
        reports={str(k): [str(x) for x in (v or [])] for k, v in reports.items()}
        if isinstance(reports, dict)
        else {},
        tags=[str(t) for t in doc.get("Tags") or []],
        path=str(path),
        members=members,
        criteria=criteria,
        lookback_minutes=lookback,
        ordered=ordered,
        min_members=min_members,
        within=within,
        tests=tests,
        output_ids=[str(x) for x in doc.get("OutputIds") or []],
        create_alert=bool(create_alert),
    )


def _members(raw: Any, problems: Problems) -> list[Member]:
    if not isinstance(raw, list) or len(raw) < 2:
        problems.add("Detection", "Group/Sequence needs a list of at least two members {ID, RuleID}")
        return []
    out: list[Member] = []
    for i, m in enumerate(raw):
        where = f"Detection[0] member {i}"
        if (
            not isinstance(m, dict)
            or not isinstance(m.get("RuleID"), str)
            or not isinstance(m.get("ID", ""), str)
        ):
            problems.add(where, "needs a RuleID (and an optional ID), strings", at=("Detection",))
            continue
        member_id = m.get("ID") or m["RuleID"]
        for key in sorted(set(m) - MEMBER_KEYS, key=str):
            problems.add(
                f"{where}.{key}", f"unknown key (known: {', '.join(sorted(MEMBER_KEYS))})", at=("Detection",)
            )
        count = m.get("MinMatchCount", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            problems.add(
                f"{where}.MinMatchCount", f"must be a whole number >= 1, got {count!r}", at=("Detection",)
            )
            count = 1
        most = m.get("MaxMatchCount")
        if most is not None and (not isinstance(most, int) or isinstance(most, bool) or most < count):
            problems.add(
                f"{where}.MaxMatchCount", f"a whole number >= MinMatchCount, got {most!r}", at=("Detection",)
            )
            most = None
        absent = m.get("Absence", False)
        if not isinstance(absent, bool):
            problems.add(f"{where}.Absence", f"must be true or false, got {absent!r}", at=("Detection",))
            absent = False
        if any(o.id == member_id for o in out):
            problems.add(where, f"member ID {member_id!r} is used twice", at=("Detection",))
        out.append(Member(member_id, m["RuleID"], count, most, absent))
    return out


def _group_criteria(raw: Any, ids: set[str], problems: Problems) -> dict[str, dict[str, str]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(
            "Detection[0].MatchCriteria",
            "a mapping of criterion name -> [{GroupID, Match}]",
            at=("Detection",),
        )
        return {}
    criteria: dict[str, dict[str, str]] = {}
    for name, entries in raw.items():
        paths: dict[str, str] = {}
        if not isinstance(entries, list) or len(entries) < 2:
            problems.add(
                f"Detection[0].MatchCriteria.{name}", "needs at least two {GroupID, Match}", at=("Detection",)
            )
            continue
        for e in entries:
            if (
                not isinstance(e, dict)
                or not isinstance(e.get("GroupID"), str)
                or not isinstance(e.get("Match"), str)
            ):
                problems.add(
                    f"Detection[0].MatchCriteria.{name}", "each entry is {GroupID, Match}", at=("Detection",)
                )
                continue
            if e["GroupID"] not in ids:
                problems.add(
                    f"Detection[0].MatchCriteria.{name}",
                    f"GroupID {e['GroupID']!r} is no member",
                    at=("Detection",),
                )
            paths[e["GroupID"]] = e["Match"]
        criteria[str(name)] = paths
    return criteria


def _transitions(
    raw: Any, members: list[Member], within: dict[tuple[str, str], int], problems: Problems
) -> dict[str, dict[str, str]]:
    ids = [m.id for m in members]
    if not isinstance(raw, list) or not raw:
        problems.add(
            "Detection[0].Transitions",
            "required: a list of {ID, From, To, WithinTimeFrameMinutes, Match}",
            at=("Detection",),
        )
        return {}
    criteria: dict[str, dict[str, str]] = {}
    for i, t in enumerate(raw):
        where = f"Detection[0].Transitions[{i}]"
        if not isinstance(t, dict) or t.get("From") not in ids or t.get("To") not in ids:
            problems.add(where, "From and To must name members", at=("Detection",))
            continue
        a, b = t["From"], t["To"]
        if ids.index(b) <= ids.index(a):
            problems.add(where, "a transition goes forward: To must come after From", at=("Detection",))
        minutes = t.get("WithinTimeFrameMinutes")
        if minutes is not None:
            if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 1:
                problems.add(
                    f"{where}.WithinTimeFrameMinutes", f"minutes >= 1, got {minutes!r}", at=("Detection",)
                )
            else:
                within[(a, b)] = minutes
        for j, m in enumerate(t.get("Match") or []):
            if isinstance(m, dict) and isinstance(m.get("On"), str):
                paths = {a: m["On"], b: m["On"]}
            elif isinstance(m, dict) and isinstance(m.get("From"), str) and isinstance(m.get("To"), str):
                paths = {a: m["From"], b: m["To"]}
            else:
                problems.add(
                    f"{where}.Match[{j}]",
                    "each entry is {On: field} or {From: field, To: field}",
                    at=("Detection",),
                )
                continue
            _merge(criteria, paths, f"{t.get('ID') or i}#{j}")
    return criteria


def _merge(criteria: dict[str, dict[str, str]], paths: dict[str, str], name: str) -> None:
    """Add a transition's match; one that shares a member and its field with an existing
    criterion extends it (A->B on x, B->C on x: one key shared by A, B and C)."""
    for existing in criteria.values():
        shares = any(existing.get(m) == p for m, p in paths.items())
        if shares and all(existing.get(m, p) == p for m, p in paths.items()):
            existing.update(paths)
            return
    criteria[name] = dict(paths)


def _tests(raw: Any, ids: set[str], problems: Problems) -> list[CorrelationTest]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add("Tests", "must be a list of tests")
        return []
    tests = []
    for i, t in enumerate(raw):
        where = f"Tests[{i}]"
        if (
            not isinstance(t, dict)
            or not isinstance(t.get("Name"), str)
            or not isinstance(t.get("ExpectedResult"), bool)
        ):
            problems.add(where, "each test needs Name, ExpectedResult and RuleOutputs", at=("Tests", i))
            continue
        for key in sorted(set(t) - {"Name", "ExpectedResult", "RuleOutputs"}, key=str):
            problems.add(f"{where}.{key}", "unknown test key", at=("Tests", i, key))
        outputs: dict[str, list[tuple[str, Any, float]]] = {}
        for j, out in enumerate(t.get("RuleOutputs") or []):
            if not isinstance(out, dict) or out.get("ID") not in ids:
                problems.add(
                    f"{where}.RuleOutputs[{j}]",
                    f"ID must name a member ({', '.join(sorted(ids))})",
                    at=("Tests", i),
                )
                continue
            for path, by_value in (out.get("Matches") or {}).items():
                if not isinstance(by_value, dict):
                    problems.add(
                        f"{where}.RuleOutputs[{j}].Matches", "field -> {value: [times]}", at=("Tests", i)
                    )
                    continue
                for value, times in by_value.items():
                    for when in times if isinstance(times, list) else [times]:
                        seconds = test_time(when)
                        if seconds is None:
                            problems.add(
                                f"{where}.RuleOutputs[{j}]",
                                f"time {when!r}: an RFC 3339 timestamp or minutes (a number)",
                                at=("Tests", i),
                            )
                            continue
                        outputs.setdefault(out["ID"], []).append((str(path), value, seconds))
        tests.append(CorrelationTest(t["Name"], t["ExpectedResult"], outputs))
    names = [t.name for t in tests]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.add("Tests", f"test name {name!r} is used more than once")
    return tests


def test_time(when: Any) -> float | None:
    """A RuleOutputs time: a timestamp, or a number of minutes from an arbitrary origin."""
    if isinstance(when, bool):
        return None
    if isinstance(when, int | float):
        return float(when) * 60
    if isinstance(when, datetime):
        return when.timestamp()
    if isinstance(when, str):
        try:
            return datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None
