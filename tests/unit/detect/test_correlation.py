"""Correlation rules: the evaluator's semantics (Group, Sequence, MinMatchCount, MaxMatchCount,
Absence, lookback), spec validation, the signal store (moto) and the detector-side correlator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from aws_fixtures import create_dedup_table
from moto import mock_aws

from wizwatch.alerts.correlate import Correlator
from wizwatch.dedup.signals import SignalStore, partition
from wizwatch.detect.correlation import Signal, evaluate
from wizwatch.detect.correlation_spec import CorrelationRule, parse_correlation
from wizwatch.detect.loader import load_tree
from wizwatch.detect.result import RuleResult
from wizwatch.detect.spec import Problems, Rule

H = 3600.0


def group(members: list[dict[str, Any]], lookback: int = 60, **extra: Any) -> CorrelationRule:
    body: dict[str, Any] = {
        "Group": members,
        "MatchCriteria": {"user": [{"GroupID": m["ID"], "Match": "actor"} for m in members]},
        "LookbackWindowMinutes": lookback,
        "Schedule": {"RateMinutes": 60, "TimeoutMinutes": 5},
        **extra,
    }
    return _parse({"Detection": [body]})


def sequence(members: list[dict[str, Any]], within: int = 30, lookback: int = 60) -> CorrelationRule:
    a, b = members[0]["ID"], members[1]["ID"]
    transition = {"ID": "t", "From": a, "To": b, "WithinTimeFrameMinutes": within, "Match": [{"On": "actor"}]}
    body = {"Sequence": members, "Transitions": [transition], "LookbackWindowMinutes": lookback,
            "Schedule": {"RateMinutes": 60, "TimeoutMinutes": 5}}  # fmt: skip
    return _parse({"Detection": [body]})


def _parse(doc: dict[str, Any]) -> CorrelationRule:
    full = {
        "AnalysisType": "correlation_rule",
        "RuleID": "C.Test",
        "Enabled": True,
        "Severity": "High",
        **doc,
    }
    problems = Problems("c.yml")
    rule = parse_correlation(full, Path("c.yml"), problems)
    assert rule is not None, [str(e) for e in problems.errors]
    return rule


def sig(member: str, minutes: float, actor: Any = "alice") -> Signal:
    return Signal(member, minutes * 60, (("actor", actor),), identity=f"{member}@{minutes}:{actor}")


A = {"ID": "A", "RuleID": "R.A"}
B = {"ID": "B", "RuleID": "R.B"}


def test_group_members_match_in_any_order_within_the_lookback_on_the_same_key() -> None:
    rule = group([A, B])
    assert evaluate(rule, [sig("B", 0), sig("A", 50)])
    assert not evaluate(rule, [sig("A", 0), sig("B", 61)])  # 61 minutes apart: over the window
    assert not evaluate(rule, [sig("A", 0), sig("B", 5, actor="bob")])
    (match,) = evaluate(rule, [sig("A", 0), sig("B", 5), sig("A", 7, actor="bob")])
    assert match.key == {"user": "alice"} and match.dedup == "alice"


def test_min_and_max_match_counts() -> None:
    rule = group([{**A, "MinMatchCount": 3}, {**B, "MaxMatchCount": 1}])
    assert not evaluate(rule, [sig("A", 0), sig("A", 1), sig("B", 2)])
    assert evaluate(rule, [sig("A", 0), sig("A", 1), sig("A", 2), sig("B", 3)])
    assert not evaluate(rule, [sig("A", 0), sig("A", 1), sig("A", 2), sig("B", 3), sig("B", 4)])


def test_group_absence_looks_a_whole_window_around_the_present_members() -> None:
    rule = group([A, {**B, "Absence": True}])
    assert evaluate(rule, [sig("A", 100)])
    assert not evaluate(rule, [sig("A", 100), sig("B", 70)])  # before, within the window
    assert not evaluate(rule, [sig("A", 100), sig("B", 150)])  # after, within the window
    assert evaluate(rule, [sig("A", 100), sig("B", 161)])
    assert evaluate(rule, [sig("A", 100), sig("B", 120, actor="bob")])


def test_sequence_order_and_transition_time_frame() -> None:
    rule = sequence([A, B], within=30)
    assert evaluate(rule, [sig("A", 0), sig("B", 30)])
    assert not evaluate(rule, [sig("B", 0), sig("A", 10)])  # wrong order
    assert not evaluate(rule, [sig("A", 0), sig("B", 31)])  # too late after A
    assert evaluate(rule, [sig("A", 0), sig("B", 31), sig("A", 20)])  # a later A starts it again


def test_sequence_absence_is_judged_after_the_from_member() -> None:
    rule = sequence([A, {**B, "Absence": True}], within=30)
    assert not evaluate(rule, [sig("A", 0), sig("B", 20)])
    assert evaluate(rule, [sig("A", 0), sig("B", 45)])


def test_list_values_offer_each_element_as_a_key() -> None:
    rule = group([A, B])
    assert evaluate(rule, [sig("A", 0, actor=["x", "alice"]), sig("B", 1, actor="alice")])


def test_group_level_min_match_count_needs_only_that_many_members() -> None:
    rule = group([A, B, {"ID": "C", "RuleID": "R.C"}], MinMatchCount=2)
    assert evaluate(rule, [sig("A", 0), sig("C", 1)])
    assert not evaluate(rule, [sig("A", 0)])


def test_spec_problems_are_all_reported() -> None:
    doc = {
        "AnalysisType": "correlation_rule",
        "RuleID": "C.Bad",
        "Enabled": "yes",
        "Severity": "High",
        "Detection": [
            {
                "Group": [
                    {"ID": "A", "RuleID": "R.A", "Absence": True},
                    {"ID": "A", "RuleID": "R.B", "Absence": True},
                ],
                "MatchCriteria": {"k": [{"GroupID": "A", "Match": "x"}, {"GroupID": "Z", "Match": "y"}]},
                "LookbackWindowMinutes": 0,
                "Schedule": {"RateMinutes": 60, "TimeoutMinutes": 5},
            }
        ],
        "Tests": [
            {
                "Name": "t",
                "ExpectedResult": True,
                "RuleOutputs": [{"ID": "A", "Matches": {"x": {"v": ["soon"]}}}],
            }
        ],
    }
    problems = Problems("c.yml")
    assert parse_correlation(doc, Path("c.yml"), problems) is None
    text = " | ".join(str(e) for e in problems.errors)
    expected_problems = ["Enabled", "used twice", "is no member", "LookbackWindowMinutes"]
    for expected in [*expected_problems, "must not be an Absence", "time 'soon'"]:
        assert expected in text, text


def test_a_correlation_on_an_unknown_rule_or_without_a_shared_key_is_broken(tmp_path: Path) -> None:
    members = [{"ID": "A", "RuleID": "Nope.A"}, {"ID": "B", "RuleID": "Nope.B"}]
    body = {
        "Group": members,
        "LookbackWindowMinutes": 5,
        "Schedule": {"RateMinutes": 60, "TimeoutMinutes": 5},
    }
    rule = {"AnalysisType": "correlation_rule", "RuleID": "C.X", "Enabled": True, "Severity": "Low"}
    rule["Detection"] = [body]
    (tmp_path / "c.yml").write_text(yaml.safe_dump(rule))
    found = load_tree(tmp_path)
    assert found.correlations == [] and [b.rule_id for b in found.broken] == ["C.X"]
    assert "no rule 'Nope.A' is loaded" in str(found.errors[0])


# ----------------------------------------------------------------------------- DynamoDB


@pytest.fixture
def store() -> Iterator[SignalStore]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_dedup_table(client, "dedup")
        yield SignalStore(client, "dedup")


def test_signals_are_idempotent_and_expiry_is_checked_on_read(store: SignalStore) -> None:
    pk = partition("C.Test", "alice")
    s = Signal("A", 1000.0, (("actor", "alice"),), identity="e1", info={"rule_id": "R.A"})
    store.put([(pk, s, 600), (pk, s, 600)], now_s=1000)
    store.put([(pk, s, 600)], now_s=1000)  # a re-read page
    assert store.read(pk, since=0, now_s=1000) == [s]
    assert store.read(pk, since=1001, now_s=1000) == []  # older than the lookback: not counted
    # Past its expires_at the item is ignored even though TTL has not deleted it.
    assert store.read(pk, since=0, now_s=1000 + 600 + 86_400) == []


def test_a_hostile_matched_value_is_stored_cleaned_never_raised(store: SignalStore) -> None:
    """Values orjson refuses (lone surrogate, 300 levels, 2**70, a non-string key) are stored as
    render's clean copy instead of failing the page."""
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    pk = partition("C.Test", "x\ud800")
    values = (("actor", "x\ud800"), ("deep", deep), ("big", 2**70))
    s = Signal("A", 1000.0, values, identity="e1", info={"rule_id": "R.A", "odd": {(1, 2): "k"}})
    store.put([(pk, s, 600)], now_s=1000)
    (got,) = store.read(pk, since=0, now_s=1000)
    assert got.identity == "e1" and got.member == "A"
    found = dict(got.values)
    assert found["actor"] == "x\ufffd" and found["big"] == str(2**70)
    assert got.info["rule_id"] == "R.A" and got.info["odd"] == {"(1, 2)": "k"}


def _result(rule_id: str) -> RuleResult:
    rule = Rule(rule_id, rule_id, True, ["Wiz.Audit"], "LOW", "", "", "", {}, [], 60, 1, False, "r.yml")
    return RuleResult(rule=rule, matched=True, title=f"{rule_id} hit", dedup="d")


def _event(minute: int, actor: str = "alice") -> dict[str, Any]:
    hour, minute = divmod(minute, 60)
    return {"p_event_time": f"2026-11-22 {10 + hour:02d}:{minute:02d}:00.000000000", "actor": actor}


def test_the_correlator_alerts_once_per_new_match_across_pages(store: SignalStore) -> None:
    rule = group([A, B], lookback=60)
    correlator = Correlator([rule], store)
    correlator.observe(_result("R.A"), _event(0), "ev-a", "s3://b/raw/1")
    assert correlator.hits(now_s=2_000_000_000) == []
    correlator.observe(_result("R.B"), _event(10), "ev-b", "s3://b/raw/2")
    ((key, result, hit, events),) = correlator.hits(now_s=2_000_000_000)
    assert (key.rule_id, key.dedup, result.severity) == ("C.Test", "alice", "HIGH")
    assert sorted(s["member"] for s in result.alert_context["signals"]) == ["A", "B"]
    assert events == [_event(10)] and hit.event_time == "2026-11-22T10:10:00.000Z"
    # A page with only an unrelated actor's signal: the old match is not judged again.
    correlator.observe(_result("R.A"), _event(20, actor="bob"), "ev-c", "s3://b/raw/3")
    assert correlator.hits(now_s=2_000_000_000) == []


def test_an_absence_match_waits_until_its_window_is_over(store: SignalStore) -> None:
    rule = group([A, {**B, "Absence": True}], lookback=60)
    correlator = Correlator([rule], store)
    correlator.observe(_result("R.A"), _event(0), "ev-1", "s3://b/raw/1")
    assert correlator.hits(now_s=2_000_000_000) == []  # B may still come within the hour
    correlator.observe(_result("R.A"), _event(61), "ev-2", "s3://b/raw/2")
    hits = correlator.hits(now_s=2_000_000_000)
    assert [h[0].dedup for h in hits] == ["alice"]
