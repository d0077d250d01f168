"""The simulator's Wiz Defend side: the ``detections`` connection with Wiz's type-filter default,
updates re-served in later windows, scopes, and webhook bodies rendered by Wiz's template."""

from __future__ import annotations

from datetime import timedelta

from sim_helpers import NOW, Api, Clock, window

from wizwatch.parse.normalize import Normalizer
from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.defend_store import SEED_DETECTIONS

BOTH = {"type": {"equals": ["GENERATED_THREAT", "MATCH_ONLY"]}}


def seeded(sim: WizSimulator) -> None:
    sim.store.seed_history(NOW, hours=6)


def test_match_only_detections_come_back_only_when_both_types_are_named(sim: WizSimulator, api: Api) -> None:
    seeded(sim)
    span = window("updatedAt", NOW - timedelta(hours=7), NOW)
    both = api.all_pages("Wiz.Detections", {**span, **BOTH})
    default = api.all_pages("Wiz.Detections", span)
    types = {d["type"] for d in both}
    assert types == {"GENERATED_THREAT", "MATCH_ONLY"}
    assert {d["id"] for d in default} == {d["id"] for d in both if d["type"] == "GENERATED_THREAT"}
    truth = sim.store.records("Wiz.Detections", NOW - timedelta(hours=7), NOW)
    assert {d["id"] for d in both} == {d["id"] for d in truth}


def test_an_update_is_served_in_the_window_of_its_new_updated_at(
    sim: WizSimulator, clock: Clock, api: Api
) -> None:
    first = sim.store.add_detection(created=NOW - timedelta(hours=2), detection_type="MATCH_ONLY", delay=0)
    later = sim.store.update_detection(first["id"], NOW - timedelta(minutes=10), delay=0)
    assert later["updatedAt"] > first["updatedAt"] and later["createdAt"] == first["createdAt"]
    old = api.all_pages(
        "Wiz.Detections", {**window("updatedAt", NOW - timedelta(hours=3), NOW - timedelta(hours=1)), **BOTH}
    )
    new = api.all_pages("Wiz.Detections", {**window("updatedAt", NOW - timedelta(hours=1), NOW), **BOTH})
    assert first["id"] not in {d["id"] for d in old}
    assert [d["id"] for d in new] == [first["id"]]


def test_detections_need_the_read_detections_scope(sim: WizSimulator) -> None:
    sim.add_client("narrow", "narrow-secret", ("admin:audit",))
    resp = Api(sim, "narrow", "narrow-secret").page("Wiz.Detections", BOTH)
    assert resp.status_code == 403
    assert "read:detections" in resp.json()["errors"][0]["message"]


def test_seeded_history_holds_the_curated_detections_and_no_private_fields(sim: WizSimulator) -> None:
    seeded(sim)
    truth = sim.store.records("Wiz.Detections", NOW - timedelta(hours=7), NOW)
    titles = {d["ruleMatch"]["rule"]["name"] for d in truth}
    assert {s["rule"] for s in SEED_DETECTIONS} <= titles
    assert not any(k.startswith("_") for d in truth for k in d)
    assert not any("__typename" in n for d in truth for n in d["triggeringEvents"]["nodes"])


def test_webhook_bodies_follow_wiz_template_and_normalise_like_the_polled_record(sim: WizSimulator) -> None:
    seeded(sim)
    normalizer = Normalizer("Wiz.Detections")
    for polled in sim.store.records("Wiz.Detections", NOW - timedelta(hours=7), NOW):
        pushed = sim.store.webhook_body("Wiz.Detections", polled["id"], rule_id="r-1")
        assert pushed["id"] == polled["id"]
        assert pushed["threatId"] == ((polled.get("issue") or {}).get("id") or "")
        assert pushed["tdrId"] == polled["ruleMatch"]["rule"]["id"]
        assert pushed["title"] == polled["ruleMatch"]["rule"]["name"]
        a, b = normalizer.normalize(polled), normalizer.normalize(pushed)
        for key in ("id", "threatId", "tdrId", "title", "severity", "createdAt", "mitreTactics"):
            assert a.get(key) == b.get(key), key
        assert set(a.get("p_any_ip_addresses", [])) == set(b.get("p_any_ip_addresses", []))


def test_issue_webhook_bodies_are_panther_shaped(sim: WizSimulator) -> None:
    seeded(sim)
    issue = sim.store.records("Wiz.Issues", NOW - timedelta(hours=7), NOW)[0]
    body = sim.store.webhook_body("Wiz.Issues", issue["id"], rule_id="r-2")
    assert set(body) == {"trigger", "issue", "resource", "control"}
    assert body["issue"]["id"] == issue["id"] and body["trigger"]["source"] == "ISSUE"
    Normalizer("Wiz.IssuesWebhook").normalize(body)
