"""Server behaviour: concurrent clients, live traffic, immutable stored versions, lifecycle."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from sim_helpers import NOW, Api, Clock, window

from wizwatch_tools.simulator import WizSimulator


def test_concurrent_clients_each_get_complete_pages(sim: WizSimulator) -> None:
    sim.store.seed_history(NOW, hours=3)
    filter_by = window("timestamp", NOW - timedelta(hours=3), NOW - timedelta(minutes=30))
    expected = sorted(
        r["id"] for r in sim.store.records("Wiz.Audit", NOW - timedelta(hours=3), NOW - timedelta(minutes=30))
    )

    def crawl(_: int) -> list[str]:
        return sorted(n["id"] for n in Api(sim).all_pages("Wiz.Audit", filter_by, first=100))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(crawl, range(4)))
    assert all(r == expected for r in results)
    assert sim.stats.tokens_issued == 4


def test_live_mode_generates_traffic_as_the_clock_moves(clock: Clock) -> None:
    with WizSimulator(seed=1, clock=clock, live=True) as sim:
        sim.store.seed_history(clock.now, hours=1)
        before = sim.store.count("Wiz.Audit")
        clock.advance(minutes=30)
        api = Api(sim)
        api.fetch_token()
        assert sim.store.count("Wiz.Audit") > before + 50


def test_changing_a_returned_record_does_not_change_the_api(sim: WizSimulator, api: Api) -> None:
    record = sim.store.add_audit(timestamp=NOW - timedelta(minutes=5), action="CreateUser")
    record["action"] = "Tampered"
    (node,) = api.all_pages("Wiz.Audit", window("timestamp", NOW - timedelta(hours=1), NOW))
    assert node["action"] == "CreateUser"


def test_unknown_routes_and_bodies(sim: WizSimulator, api: Api) -> None:
    assert requests.get(sim.url + "/nope", timeout=5).status_code == 404
    api.fetch_token()
    resp = api.session.post(sim.api_url, data=b"{not json", headers={"Authorization": f"Bearer {api.token}"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # trailing slash is the same endpoint
    body = {"query": "{ auditLogEntries(first: 1) { nodes { id } } }"}
    assert api.session.post(sim.api_url + "/", json=body, headers={"Authorization": f"Bearer {api.token}"}).ok


def test_url_before_start_says_what_to_do() -> None:
    sim = WizSimulator()
    with pytest.raises(RuntimeError, match="start"):
        _ = sim.url
    sim.start()
    sim.stop()
    sim.stop()  # idempotent
