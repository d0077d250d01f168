"""Filters: date windows (after inclusive, before exclusive), statuses, projects, Wiz defaults."""

from __future__ import annotations

from datetime import timedelta

from sim_helpers import NOW, Api, window

from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.datagen.actors import PROJECTS

T0 = NOW - timedelta(hours=2)


def _ids(nodes: list[dict]) -> set[str]:
    return {n["id"] for n in nodes}


def test_date_window_after_inclusive_before_exclusive(sim: WizSimulator, api: Api) -> None:
    at_start = sim.store.add_audit(timestamp=T0)
    inside = sim.store.add_audit(timestamp=T0 + timedelta(minutes=30))
    at_end = sim.store.add_audit(timestamp=T0 + timedelta(hours=1))
    nodes = api.all_pages("Wiz.Audit", window("timestamp", T0, T0 + timedelta(hours=1)))
    assert _ids(nodes) == {at_start["id"], inside["id"]}
    nodes = api.all_pages("Wiz.Audit", window("timestamp", T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
    assert _ids(nodes) == {at_end["id"]}
    only_after = api.all_pages("Wiz.Audit", {"timestamp": {"after": "2026-03-01T10:30:00Z"}})
    assert at_end["id"] in _ids(only_after) and at_start["id"] not in _ids(only_after)


def test_audit_action_and_status_filters(sim: WizSimulator, api: Api) -> None:
    hit = sim.store.add_audit(timestamp=T0, action="DeleteIntegration", status="SUCCESS")
    sim.store.add_audit(timestamp=T0, action="DeleteIntegration", status="FAILED")
    sim.store.add_audit(timestamp=T0, action="CreateUser", status="SUCCESS")
    nodes = api.all_pages("Wiz.Audit", {"action": ["DeleteIntegration"], "status": ["SUCCESS"]})
    assert _ids(nodes) == {hit["id"]}


def test_issue_status_and_project_filters_accept_both_key_names(sim: WizSimulator, api: Api) -> None:
    p1, p2 = PROJECTS[0], PROJECTS[1]
    a = sim.store.add_issue(createdAt=T0, status="OPEN", projects=[p1])
    b = sim.store.add_issue(createdAt=T0, status="RESOLVED", projects=[p2])
    c = sim.store.add_issue(createdAt=T0, status="REJECTED", projects=[p1, p2])
    everything = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]
    assert _ids(api.all_pages("Wiz.Issues", {"status": everything})) == {a["id"], b["id"], c["id"]}
    assert _ids(api.all_pages("Wiz.Issues", {"status": ["RESOLVED", "REJECTED"]})) == {b["id"], c["id"]}
    assert _ids(api.all_pages("Wiz.Issues", {"project": [p1["id"]]})) == {a["id"], c["id"]}
    assert _ids(api.all_pages("Wiz.Issues", {"projectId": [p2["id"]]})) == {b["id"], c["id"]}


def test_issues_window_on_status_changed_at(sim: WizSimulator, api: Api) -> None:
    old = sim.store.add_issue(createdAt=T0 - timedelta(days=3))
    sim.store.change_status("Wiz.Issues", old["id"], "RESOLVED", T0 + timedelta(minutes=5))
    fresh = sim.store.add_issue(createdAt=T0 + timedelta(minutes=10))
    sim.store.add_issue(createdAt=T0 - timedelta(days=1))
    nodes = api.all_pages("Wiz.Issues", window("statusChangedAt", T0, NOW))
    assert _ids(nodes) == {old["id"], fresh["id"]}
    resolved = next(n for n in nodes if n["id"] == old["id"])
    assert resolved["status"] == "RESOLVED" and resolved["resolvedAt"] == resolved["statusChangedAt"]


def test_findings_without_status_filter_return_only_open(sim: WizSimulator, api: Api) -> None:
    opened = sim.store.add_finding(firstDetectedAt=T0, status="OPEN")
    resolved = sim.store.add_finding(firstDetectedAt=T0, status="RESOLVED")
    progress = sim.store.add_finding(firstDetectedAt=T0, status="IN_PROGRESS")
    assert _ids(api.all_pages("Wiz.VulnerabilityFinding", window("updatedAt", T0, NOW))) == {opened["id"]}
    every = {**window("updatedAt", T0, NOW), "status": ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"]}
    assert _ids(api.all_pages("Wiz.VulnerabilityFinding", every)) == {
        opened["id"],
        resolved["id"],
        progress["id"],
    }


def test_findings_project_filter_and_both_keys(sim: WizSimulator, api: Api) -> None:
    mine = sim.store.add_finding(firstDetectedAt=T0, projects=[PROJECTS[2]])
    sim.store.add_finding(firstDetectedAt=T0, projects=None)
    for key in ("projectId", "project"):
        assert _ids(api.all_pages("Wiz.VulnerabilityFinding", {key: [PROJECTS[2]["id"]]})) == {mine["id"]}


def test_issue_order_by_created_at_ascending(sim: WizSimulator, api: Api) -> None:
    for h in (5, 1, 3):
        sim.store.add_issue(createdAt=NOW - timedelta(hours=h))
    from wizwatch.poll.queries import SPECS

    variables = {"first": 10, "withCount": False, "orderBy": {"field": "CREATED_AT", "direction": "ASC"}}
    nodes = api.post(SPECS["Wiz.Issues"].query, variables).json()["data"]["issues"]["nodes"]
    created = [n["createdAt"] for n in nodes]
    assert created == sorted(created)


def test_vulnerable_asset_union_fragments_resolve_by_type(sim: WizSimulator, api: Api) -> None:
    sim.store.seed_history(NOW, hours=3)
    every = {"status": ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"]}
    nodes = api.all_pages("Wiz.VulnerabilityFinding", every)
    kinds = {n["vulnerableAsset"]["type"] for n in nodes}
    assert {"VIRTUAL_MACHINE", "CONTAINER_IMAGE"} <= kinds
    for node in nodes:
        asset = node["vulnerableAsset"]
        assert "__typename" not in asset
        if asset["type"] == "VIRTUAL_MACHINE":
            assert asset["operatingSystem"] == "Linux" and isinstance(asset["ipAddresses"], list)
            assert "imageId" not in asset
        if asset["type"] == "CONTAINER_IMAGE":
            assert asset["imageId"].startswith("sha256:") and "operatingSystem" not in asset
