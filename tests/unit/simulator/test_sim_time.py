"""Records that show up late, records that change status, and the deterministic generator."""

from __future__ import annotations

from datetime import timedelta

from sim_helpers import NOW, Api, Clock, window

from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.store import RecordStore

HOUR_AGO = NOW - timedelta(hours=1)


def test_late_record_is_invisible_until_its_visible_at(sim: WizSimulator, api: Api, clock: Clock) -> None:
    late = sim.store.add_audit(timestamp=HOUR_AGO, delay=600)
    on_time = sim.store.add_audit(timestamp=HOUR_AGO)
    clock.now = HOUR_AGO + timedelta(minutes=5)
    filter_by = window("timestamp", HOUR_AGO - timedelta(minutes=1), HOUR_AGO + timedelta(minutes=1))
    assert {n["id"] for n in api.all_pages("Wiz.Audit", filter_by)} == {on_time["id"]}
    assert [r["id"] for r in sim.store.records("Wiz.Audit", visible_only=False) if r["id"] == late["id"]]
    assert late["id"] not in {r["id"] for r in sim.store.records("Wiz.Audit")}
    clock.now = HOUR_AGO + timedelta(minutes=10)
    assert {n["id"] for n in api.all_pages("Wiz.Audit", filter_by)} == {on_time["id"], late["id"]}


def test_status_change_moves_the_record_to_a_later_window(sim: WizSimulator, api: Api, clock: Clock) -> None:
    issue = sim.store.add_issue(createdAt=NOW - timedelta(hours=3))
    changed_at = NOW - timedelta(minutes=20)
    sim.store.change_status("Wiz.Issues", issue["id"], "IN_PROGRESS", changed_at, delay=120)
    old_window = window("statusChangedAt", NOW - timedelta(hours=4), NOW - timedelta(hours=2))
    new_window = window("statusChangedAt", NOW - timedelta(hours=1), NOW)
    clock.now = changed_at + timedelta(seconds=60)  # change made, not yet visible
    assert [n["status"] for n in api.all_pages("Wiz.Issues", old_window)] == ["OPEN"]
    assert api.all_pages("Wiz.Issues", new_window) == []
    clock.now = changed_at + timedelta(seconds=120)
    assert api.all_pages("Wiz.Issues", old_window) == []
    (node,) = api.all_pages("Wiz.Issues", new_window)
    assert node["status"] == "IN_PROGRESS" and node["statusChangedAt"] == node["updatedAt"]
    truth = sim.store.records("Wiz.Issues")
    assert [(r["id"], r["status"]) for r in truth] == [(issue["id"], "IN_PROGRESS")]


def test_finding_status_change_bumps_updated_at(sim: WizSimulator) -> None:
    finding = sim.store.add_finding(firstDetectedAt=NOW - timedelta(days=2))
    sim.store.change_status("Wiz.VulnerabilityFinding", finding["id"], "RESOLVED", NOW - timedelta(minutes=1))
    (current,) = sim.store.records("Wiz.VulnerabilityFinding")
    assert current["status"] == "RESOLVED"
    assert current["updatedAt"] == current["resolvedAt"] != finding["updatedAt"]
    assert current["firstDetectedAt"] == finding["firstDetectedAt"]


def test_clock_going_back_rebuilds_visibility(sim: WizSimulator, clock: Clock) -> None:
    sim.store.add_audit(timestamp=HOUR_AGO, delay=60)
    assert len(sim.store.records("Wiz.Audit")) == 1
    clock.now = HOUR_AGO + timedelta(seconds=30)
    assert sim.store.records("Wiz.Audit") == []


def test_seed_history_is_deterministic_and_realistic() -> None:
    a, b = RecordStore(seed=11, clock=lambda: NOW), RecordStore(seed=11, clock=lambda: NOW)
    a.seed_history(NOW, hours=6)
    b.seed_history(NOW, hours=6)
    for log_type in ("Wiz.Audit", "Wiz.Issues", "Wiz.VulnerabilityFinding"):
        assert a.records(log_type, visible_only=False) == b.records(log_type, visible_only=False)
    other = RecordStore(seed=12, clock=lambda: NOW)
    other.seed_history(NOW, hours=6)
    assert other.records("Wiz.Audit") != a.records("Wiz.Audit")

    audit = a.records("Wiz.Audit", visible_only=False)
    assert 1000 < len(audit) < 2500
    statuses = {e["status"] for e in audit}
    assert statuses == {"SUCCESS", "FAILED", "INVALID", "ACCESS_DENIED"}
    for entry in audit:
        assert (entry["user"] is None) != (entry["serviceAccount"] is None)
        assert entry["timestamp"].endswith("Z")
    assert any(e["sourceIP"] is None for e in audit) and any(e["userAgent"] is None for e in audit)
    # ingestion lag: at any moment some entries already stamped are not visible yet
    hidden = 0
    for minutes in range(30, 360, 30):
        t = NOW - timedelta(minutes=minutes)
        hidden += len(a.records("Wiz.Audit", end=t, visible_only=False)) - len(
            a.records("Wiz.Audit", end=t, now=t)
        )
    assert hidden >= 5
    # issues changed status during the span; findings too
    assert {i["status"] for i in a.records("Wiz.Issues")} - {"OPEN"}
    for issue in a.records("Wiz.Issues"):
        assert issue["sourceRule"]["__typename"] in ("Control", "CloudEventRule", "CloudConfigurationRule")
        assert issue["sourceRules"][0] == issue["sourceRule"]


def test_seed_history_contains_seed_rule_matches_and_near_misses() -> None:
    store = RecordStore(seed=3, clock=lambda: NOW)
    store.seed_history(NOW, hours=1, rates={"integration_change": 0, "revoke_sessions": 0})
    audit = store.records("Wiz.Audit", visible_only=False)
    assert any(
        e["action"] in ("DeleteIntegration", "UpdateIntegration") and e["status"] == "SUCCESS" for e in audit
    )
    assert any(e["action"] == "RevokeUserSessions" and e["status"] == "SUCCESS" for e in audit)
    day = RecordStore(seed=3, clock=lambda: NOW)
    day.seed_history(NOW, hours=24)
    audit = day.records("Wiz.Audit", visible_only=False)
    matches = [
        e for e in audit if e["action"] in ("DeleteIntegration", "UpdateIntegration", "RevokeUserSessions")
    ]
    assert sum(e["status"] == "SUCCESS" for e in matches) >= 5
    assert sum(e["status"] != "SUCCESS" for e in matches) >= 2


def test_generate_continues_history_the_same_in_one_or_many_steps() -> None:
    one, many = RecordStore(seed=5, clock=lambda: NOW), RecordStore(seed=5, clock=lambda: NOW)
    start = NOW - timedelta(hours=2)
    one.seed_history(start, hours=1)
    many.seed_history(start, hours=1)
    added = one.generate(NOW)
    assert added > 100
    for minutes in range(10, 121, 10):
        many.generate(start + timedelta(minutes=minutes))
    for log_type in ("Wiz.Audit", "Wiz.Issues", "Wiz.VulnerabilityFinding"):
        assert one.records(log_type, visible_only=False) == many.records(log_type, visible_only=False)
    assert one.generate(NOW) == 0
