"""The simulator's configurationFindings: the filters peers send, Wiz-like defaults, page cap."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sim_helpers import NOW, Api, Clock, window

from wizwatch.poll.queries import SNAPSHOT_STATUSES
from wizwatch.poll.windows import add_project_filter
from wizwatch_tools.simulator import WizSimulator

LT = "Wiz.CloudConfigurationFinding"
ALL = ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"]
PAYMENTS = "af52828c-4eb1-5c4e-847c-ebc3a5ead531"


def _seed(sim: WizSimulator) -> dict[str, dict[str, Any]]:
    s = sim.store
    t = NOW - timedelta(hours=1)
    out = {
        "open": s.add_configuration_finding(firstSeenAt=t, result="FAIL", delay=0),
        "resolved": s.add_configuration_finding(firstSeenAt=t, result="PASS", delay=0),
        "deleted": s.add_configuration_finding(firstSeenAt=t, result="FAIL", deleted=True, delay=0),
        "old": s.add_configuration_finding(firstSeenAt=t - timedelta(days=3), result="FAIL", delay=0),
    }
    out["old"] = s.reanalyze(out["old"]["id"], t + timedelta(minutes=5), delay=0)  # analyzedAt only
    return out


def _ids(api: Api, filter_by: dict[str, Any]) -> set[str]:
    return {n["id"] for n in api.all_pages(LT, filter_by, first=2)}


def test_status_default_delta_fields_and_include_deleted(sim: WizSimulator, api: Api, clock: Clock) -> None:
    f = _seed(sim)
    recent = window("updatedAt", NOW - timedelta(hours=2), NOW)
    assert _ids(api, recent) == {f["open"]["id"], f["deleted"]["id"]}  # no status list: OPEN only
    assert _ids(api, {**recent, "status": ALL}) == {f["open"]["id"], f["resolved"]["id"], f["deleted"]["id"]}
    # A re-assessment moved analyzedAt, not updatedAt: in an analyzedAt window, not the updatedAt one.
    assessed = window("analyzedAt", NOW - timedelta(hours=2), NOW)
    assert f["old"]["id"] in _ids(api, {**assessed, "status": ALL})
    snapshot = {"status": list(SNAPSHOT_STATUSES), "includeDeleted": False}
    assert _ids(api, snapshot) == {f["open"]["id"], f["resolved"]["id"], f["old"]["id"]}


def test_project_filter_nests_and_restricts(sim: WizSimulator, api: Api) -> None:
    _seed(sim)
    filter_by: dict[str, Any] = {"status": ALL}
    add_project_filter(filter_by, "resource.projectId", [PAYMENTS])
    assert filter_by["resource"] == {"projectId": [PAYMENTS]}
    nodes = api.all_pages(LT, filter_by, first=50)
    stored = [
        r for r in sim.store.records(LT) if any(p["id"] == PAYMENTS for p in r["resource"]["projects"] or [])
    ]
    assert {n["id"] for n in nodes} == {r["id"] for r in stored}


def test_page_size_cap_and_unknown_fields(sim: WizSimulator, api: Api) -> None:
    _seed(sim)
    body = api.page(LT, {"status": ALL}, first=501).json()
    assert "'first' must be less than or equal to 500" in body["errors"][0]["message"]
    bad = api.post(
        "query { configurationFindings(first: 1) { nodes { id resolvedAt } pageInfo { hasNextPage } } }"
    )
    assert bad.status_code == 400 and "resolvedAt" in bad.text  # unselectable: no peer selects it
