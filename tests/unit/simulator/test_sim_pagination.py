"""Relay pagination: complete and exactly once, newest first, cursor rules, page-size limit, audit cap."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sim_helpers import NOW, Api, Clock, window

from wizwatch.poll.queries import SPECS
from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.timestamps import parse_datetime

DAY_AGO = NOW - timedelta(hours=24)


@pytest.mark.parametrize(
    ("log_type", "first"), [("Wiz.Audit", 500), ("Wiz.Issues", 7), ("Wiz.VulnerabilityFinding", 50)]
)
def test_pagination_returns_every_record_exactly_once(
    sim: WizSimulator, api: Api, log_type: str, first: int
) -> None:
    sim.store.seed_history(NOW, hours=6)
    spec = SPECS[log_type]
    start, end = NOW - timedelta(hours=5), NOW - timedelta(minutes=30)
    filter_by = window(spec.delta_field, start, end)
    if spec.statuses:
        filter_by["status"] = list(spec.statuses)
    nodes = api.all_pages(log_type, filter_by, first=first)
    truth = sim.store.records(log_type, start, end)
    assert len(truth) > first  # more than one page
    ids = [n["id"] for n in nodes]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(r["id"] for r in truth)
    # newest first by the delta field (all three connections, by default)
    times = [parse_datetime(n[spec.record_time_field]) for n in nodes]
    assert times == sorted(times, reverse=True)


def test_total_count_is_honest_and_only_when_asked(sim: WizSimulator, api: Api) -> None:
    for i in range(12):
        sim.store.add_audit(timestamp=NOW - timedelta(minutes=i + 1))
    # (the window ends where the token request's own Login entry starts: ``before`` is exclusive)
    hour = window("timestamp", NOW - timedelta(hours=1), NOW)
    body = api.page("Wiz.Audit", hour, first=5).json()["data"]["auditLogEntries"]
    assert body["totalCount"] == 12 and len(body["nodes"]) == 5 and body["pageInfo"]["hasNextPage"]
    body = api.page("Wiz.Audit", hour, first=5, with_count=False).json()["data"]["auditLogEntries"]
    assert "totalCount" not in body


def test_last_page_has_no_next_and_empty_window_has_no_cursor(sim: WizSimulator, api: Api) -> None:
    for i in range(3):
        sim.store.add_audit(timestamp=NOW - timedelta(minutes=i + 1))
    hour = window("timestamp", NOW - timedelta(hours=1), NOW)
    page = api.page("Wiz.Audit", hour, first=3).json()["data"]["auditLogEntries"]
    assert len(page["nodes"]) == 3 and page["pageInfo"]["hasNextPage"] is False
    empty = api.page("Wiz.Audit", window("timestamp", DAY_AGO, DAY_AGO + timedelta(hours=1))).json()
    assert empty["data"]["auditLogEntries"] == {
        "nodes": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "totalCount": 0,
    }


def test_first_above_500_for_issues_is_wiz_message(api: Api) -> None:
    resp = api.page("Wiz.Issues", {}, first=501)
    err = resp.json()["errors"][0]
    assert err["message"] == "'first' must be less than or equal to 500"
    assert err["extensions"]["code"] == "BAD_USER_INPUT"
    assert resp.json()["data"] is None
    assert api.page("Wiz.Issues", {}, first=500).status_code == 200


def test_max_first_is_configurable_per_connection(sim: WizSimulator, api: Api) -> None:
    sim.max_first["auditLogEntries"] = 100
    err = api.page("Wiz.Audit", {}, first=101).json()["errors"][0]
    assert err["message"] == "'first' must be less than or equal to 100"


def test_cursor_reused_with_another_filter_is_rejected(sim: WizSimulator, api: Api) -> None:
    for i in range(10):
        sim.store.add_audit(timestamp=NOW - timedelta(minutes=i + 1))
    filter_a = window("timestamp", NOW - timedelta(hours=1), NOW)
    cursor = api.page("Wiz.Audit", filter_a, first=3).json()["data"]["auditLogEntries"]["pageInfo"][
        "endCursor"
    ]
    assert api.page("Wiz.Audit", filter_a, first=3, after=cursor).json()["data"]["auditLogEntries"]["nodes"]
    filter_b = window("timestamp", NOW - timedelta(hours=2), NOW)
    err = api.page("Wiz.Audit", filter_b, first=3, after=cursor).json()["errors"][0]
    assert err["extensions"]["code"] == "BAD_USER_INPUT" and "cursor" in err["message"].lower()
    # page size may change between pages; only the result set must stay the same
    assert api.page("Wiz.Audit", filter_a, first=5, after=cursor).status_code == 200


def test_forged_cursor_is_rejected(api: Api) -> None:
    resp = api.page("Wiz.Audit", {}, after="bm90LWEtY3Vyc29y")
    assert resp.status_code == 200
    assert resp.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_cursor_older_than_ttl_is_rejected(sim: WizSimulator, api: Api, clock: Clock) -> None:
    sim.cursor_ttl_seconds = 300
    for i in range(10):
        sim.store.add_audit(timestamp=NOW - timedelta(minutes=i + 1))
    cursor = api.page("Wiz.Audit", {}, first=3).json()["data"]["auditLogEntries"]["pageInfo"]["endCursor"]
    clock.advance(seconds=299)
    assert "errors" not in api.page("Wiz.Audit", {}, first=3, after=cursor).json()
    clock.advance(seconds=2)
    err = api.page("Wiz.Audit", {}, first=3, after=cursor).json()["errors"][0]
    assert "expired" in err["message"]


def test_audit_query_stops_at_10000_results(sim: WizSimulator, api: Api) -> None:
    for i in range(10_050):
        sim.store.add_audit(timestamp=NOW - timedelta(seconds=i + 1))
    filter_by = window("timestamp", DAY_AGO, NOW)
    first = api.page("Wiz.Audit", filter_by, first=500).json()["data"]["auditLogEntries"]
    assert first["totalCount"] == 10_050
    nodes = api.all_pages("Wiz.Audit", filter_by)
    assert len(nodes) == 10_000
    # the newest 10,000: the oldest 50 are only reachable with a smaller window
    oldest = min(n["timestamp"] for n in nodes)
    rest = api.all_pages("Wiz.Audit", window("timestamp", DAY_AGO, NOW - timedelta(seconds=10_000)))
    assert len(rest) == 50 and max(n["timestamp"] for n in rest) < oldest
