"""Wiz.Detections: every shape Wiz delivers validates, normalises to one event shape, and keeps
its indicators; the original record is never modified."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from defend_samples import API, WEBHOOK, WEBHOOK_SINGLE, api_linked, webhook_of

from wizwatch.detect.engine import Engine
from wizwatch.errors import InvalidRecord
from wizwatch.parse.detections import reconcile, triggering_events
from wizwatch.parse.identity import event_identity
from wizwatch.parse.normalize import Normalizer

RULES = Path(__file__).resolve().parents[3] / "functions" / "detector" / "rules"
N = Normalizer("Wiz.Detections")
SHAPES = {"webhook": WEBHOOK, "webhook_single": WEBHOOK_SINGLE, "api": API, "api_linked": api_linked()}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_shape_is_valid_and_its_record_is_left_untouched(name: str) -> None:
    record = SHAPES[name]
    before = copy.deepcopy(record)
    event = N.normalize(record, parse_time="2026-01-01 00:00:00.000000000")
    assert record == before  # nested objects included: the archive copy is the evidence
    assert isinstance(event["triggeringEvents"], list) and event["triggeringEvents"]
    assert event["triggeringEventsCount"] == len(event["triggeringEvents"])
    assert all(e.get("eventTime") for e in event["triggeringEvents"])


@pytest.mark.parametrize(
    ("name", "ip"),
    [("webhook", "168.1.1.1"), ("webhook_single", "81.2.69.192"), ("api", "192.0.2.10")],
)
def test_actor_ip_is_indexed_from_list_single_event_and_connection(name: str, ip: str) -> None:
    event = N.normalize(SHAPES[name])
    assert ip in event["p_any_ip_addresses"]


def test_the_api_connection_becomes_the_webhook_shape() -> None:
    event = N.normalize(API)
    assert event["triggeringEvents"] == [
        {**API["triggeringEvents"]["nodes"][0], "eventTime": "2026-07-01T15:05:03.533Z"}
    ]
    assert event["triggeringEventsCount"] == 1  # totalCountV2
    assert event["tdrId"] == "f0568339-eb51-486b-bac1-7a835689f051"
    assert event["title"] == "UnauthorizedAccess:EC2/SSHBruteForce"
    assert event["threatId"] == ""  # MATCH_ONLY: no threat, as Wiz's template renders it
    assert event["mitreTactics"] == ["TA0006", "TA0001"]  # category names that are MITRE tactics
    assert event["p_event_time"] == "2026-07-01 15:12:18.155902100"
    linked = N.normalize(api_linked())
    assert linked["threatId"] == "e0321809-7913-4693-aa03-7dad19d38d65"


def test_webhook_fields_are_never_overwritten_by_derived_ones() -> None:
    record = {**WEBHOOK, "ruleMatch": {"rule": {"id": "other", "name": "other"}}, "issue": {"id": "x"}}
    event = N.normalize(record)
    assert (event["tdrId"], event["title"], event["threatId"]) == (
        WEBHOOK["tdrId"],
        WEBHOOK["title"],
        WEBHOOK["threatId"],
    )
    assert event["mitreTactics"] == ["TA0005"]


def test_single_event_and_list_merge_without_duplicates() -> None:
    both = {**WEBHOOK, "triggeringEvent": WEBHOOK["triggeringEvents"][0]}
    assert len(triggering_events(both)) == 1
    other = {**WEBHOOK, "triggeringEvent": {**WEBHOOK["triggeringEvents"][0], "id": "another"}}
    assert [e["id"] for e in triggering_events(other)] == [WEBHOOK["triggeringEvents"][0]["id"], "another"]


def test_case_variants_and_empty_connections() -> None:
    event = {"id": "d", "TriggeringEvents": {"Nodes": [{"ID": "e", "actorip": "203.0.113.9"}]}}
    reconcile(event)
    assert event["triggeringEvents"] == [{"ID": "e", "actorip": "203.0.113.9"}]
    assert (
        "203.0.113.9"
        in N.normalize({"id": "d", "triggeringEvents": {"nodes": [{"actorIp": "203.0.113.9"}]}})[
            "p_any_ip_addresses"
        ]
    )
    empty = N.normalize({"id": "d", "triggeringEvents": {"nodes": None, "totalCount": 0}})
    assert empty["triggeringEvents"] == [] and empty["triggeringEventsCount"] == 0


@pytest.mark.parametrize(
    ("record", "where"),
    [
        ({"title": "no id"}, "id"),
        ({"id": "d", "triggeringEvents": "not events"}, "triggeringEvents"),
        ({"id": "d", "triggeringEvents": {"nodes": "x"}}, "triggeringEvents"),
        ({"id": "d", "triggeringEvent": ["not", "an", "object"]}, "triggeringEvent"),
        ({"id": "d", "createdAt": "yesterday"}, "createdAt"),
    ],
)
def test_malformed_detections_are_refused_with_the_field_named(record: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidRecord) as err:
        N.normalize(record)
    assert where in err.value.reason


def test_pushed_and_polled_copies_share_identity() -> None:
    ids = {event_identity("Wiz.Detections", r) for r in (API, api_linked(), webhook_of(api_linked()))}
    assert ids == {f"Wiz.Detections:{API['id']}"}


def _alert(engine: Engine, record: dict[str, Any]) -> dict[str, Any]:
    results = [r for r in engine.evaluate("Wiz.Detections", N.normalize(record)) if r.matched]
    (passthrough,) = [r for r in results if r.rule.rule_id == "Wiz.Defend.Alert.Passthrough"]
    return passthrough.alert_fields()


@pytest.mark.parametrize("severity", ["LOW", "HIGH"])
def test_panther_passthrough_gives_one_title_and_dedup_for_pushed_and_polled(severity: str) -> None:
    engine = Engine.from_directory(RULES)
    polled = api_linked(severity)
    pushed = webhook_of(polled)
    a, b = _alert(engine, polled), _alert(engine, pushed)
    for key in ("title", "dedup", "severity", "reference", "description"):
        assert a[key] == b[key], key
    same = ("machine_id", "machine_type", "machine_name")
    assert {k: a["alert_context"][k] for k in same} == {k: b["alert_context"][k] for k in same}
    assert a["title"] == "[Wiz Alert]: f0568339-eb51-486b-bac1-7a835689f051"


def test_panther_conformance_log_keeps_its_outputs_after_reconciliation() -> None:
    shared = RULES.parents[2].parent / "shared" / "conformance" / "panther-wiz"
    engine = Engine.from_directory(RULES)
    for case in json.loads((shared / "Wiz.Defend.Alert.Passthrough.json").read_text()):
        results = engine.evaluate("Wiz.Detections", N.normalize(case["log"]))
        fired = [r for r in results if r.rule.rule_id == "Wiz.Defend.Alert.Passthrough" and r.matched]
        assert bool(fired) == case["expected"]
        if fired:
            assert fired[0].title == case["observed_outputs_panther_core"]["title"]
            assert fired[0].dedup == case["observed_outputs_panther_core"]["dedup"]
