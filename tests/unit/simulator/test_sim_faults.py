"""Each fault kind answers as the real failure would, fires the requested number of times, then stops."""

from __future__ import annotations

import pytest
import requests
from sim_helpers import Api

from wizwatch_tools.simulator import Faults, WizSimulator


def _code(resp) -> str:  # type: ignore[no-untyped-def]
    return resp.json()["errors"][0]["extensions"]["code"]


def test_rate_limit_with_and_without_retry_after(sim: WizSimulator, api: Api) -> None:
    api.fetch_token()
    sim.faults.add("rate_limit", retry_after=7)
    sim.faults.add("rate_limit", retry_after=None)
    first = api.page("Wiz.Audit", {})
    assert first.status_code == 429 and first.headers["Retry-After"] == "7"
    assert _code(first) == "RATE_LIMIT_EXCEEDED"
    second = api.page("Wiz.Audit", {})
    assert second.status_code == 429 and "Retry-After" not in second.headers
    assert api.page("Wiz.Audit", {}).status_code == 200
    assert [r.status for r in sim.stats.graphql()] == [429, 429, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_bursts(sim: WizSimulator, api: Api, status: int) -> None:
    api.fetch_token()
    sim.faults.add("server_error", count=3, status=status)
    answers = [api.page("Wiz.Issues", {}) for _ in range(4)]
    assert [a.status_code for a in answers] == [status, status, status, 200]
    if status == 500:
        assert _code(answers[0]) == "INTERNAL"
    else:  # a gateway's page, not JSON: clients must not assume a JSON body
        assert answers[0].headers["Content-Type"] == "text/html"
        assert str(status) in answers[0].text


def test_slow_answer_outlasts_a_short_client_timeout_then_recovers(sim: WizSimulator, api: Api) -> None:
    api.fetch_token()
    sim.faults.add("slow", delay=1.0)
    headers = {"Authorization": f"Bearer {api.token}"}
    body = {"query": "{ auditLogEntries(first: 1) { nodes { id } } }"}
    with pytest.raises(requests.ReadTimeout):
        requests.post(sim.api_url, json=body, headers=headers, timeout=0.2)
    resp = api.page("Wiz.Audit", {})
    assert resp.status_code == 200 and "data" in resp.json()


def test_graphql_error_envelope_on_http_200(sim: WizSimulator, api: Api) -> None:
    api.fetch_token()
    sim.faults.add("graphql_error", code="INTERNAL")
    sim.faults.add("graphql_error", code="RATE_LIMIT_EXCEEDED", message="slow down")
    first = api.page("Wiz.Audit", {})
    assert first.status_code == 200 and first.json()["data"] is None and _code(first) == "INTERNAL"
    second = api.page("Wiz.Audit", {})
    assert second.status_code == 200 and second.json()["errors"][0]["message"] == "slow down"
    assert second.json()["errors"][0]["extensions"]["http"]["status"] == 429


def test_token_expired_kills_the_presented_token_until_a_new_one(sim: WizSimulator, api: Api) -> None:
    api.fetch_token()
    old = api.token
    sim.faults.add("token_expired")
    resp = api.page("Wiz.Audit", {})
    assert resp.status_code == 401 and _code(resp) == "UNAUTHENTICATED"
    assert api.page("Wiz.Audit", {}).status_code == 401  # the token stays dead
    api.fetch_token()
    assert api.token != old and api.page("Wiz.Audit", {}).status_code == 200


def test_cursor_expired_hits_only_requests_with_a_cursor(sim: WizSimulator, api: Api) -> None:
    for _ in range(6):
        sim.store.add_audit()
    api.fetch_token()
    sim.faults.add("cursor_expired")
    page1 = api.page("Wiz.Audit", {}, first=2)
    assert page1.status_code == 200 and "errors" not in page1.json()  # no cursor: untouched
    cursor = page1.json()["data"]["auditLogEntries"]["pageInfo"]["endCursor"]
    page2 = api.page("Wiz.Audit", {}, first=2, after=cursor)
    assert _code(page2) == "BAD_USER_INPUT" and "cursor" in page2.json()["errors"][0]["message"].lower()
    assert "errors" not in api.page("Wiz.Audit", {}, first=2, after=cursor).json()


def test_faults_target_connection_skip_and_token_endpoint(sim: WizSimulator, api: Api) -> None:
    sim.faults.add("rate_limit", target="token", retry_after=1)
    assert api.fetch_token().status_code == 429
    assert api.fetch_token().status_code == 200
    sim.faults.add("server_error", status=503, connection="issuesV2", skip=1)
    assert api.page("Wiz.Audit", {}).status_code == 200
    assert api.page("Wiz.Issues", {}).status_code == 200  # skipped
    assert api.page("Wiz.Issues", {}).status_code == 503
    assert len(sim.faults) == 0


def test_bad_fault_definitions_are_refused_clearly() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="unknown fault kind"):
        faults.add("meteor")
    with pytest.raises(ValueError, match="takes"):
        faults.add("rate_limit", status=500)
    with pytest.raises(ValueError, match="500, 502, 503 or 504"):
        faults.add("server_error", status=418)


def test_tenant_rate_limit_throttles_beyond_the_bucket(sim: WizSimulator, api: Api) -> None:
    ticks = [0.0]
    sim.set_rate_limit(2.0, burst=2, retry_after=None, monotonic=lambda: ticks[0])
    api.fetch_token()
    statuses = [api.page("Wiz.Audit", {}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    ticks[0] += 0.5  # one token refilled at 2/s
    assert [api.page("Wiz.Audit", {}).status_code for _ in range(2)] == [200, 429]
    sim.rate_limit_per_second = None
    assert api.page("Wiz.Audit", {}).status_code == 200


def test_cursor_cycle_loops_paging_back_byte_for_byte(sim: WizSimulator, api: Api) -> None:
    for _ in range(10):
        sim.store.add_audit()
    api.fetch_token()

    def end(after: str | None) -> str:
        resp = api.page("Wiz.Audit", {}, first=2, **({"after": after} if after else {}))
        assert resp.status_code == 200 and "errors" not in resp.json()
        return str(resp.json()["data"]["auditLogEntries"]["pageInfo"]["endCursor"])

    a = end(None)
    sim.faults.add("cursor_cycle", count=4)
    b = end(a)  # page 2: nothing earlier to loop back to
    assert end(b) == a  # page 3 answers page 2's cursor: A -> B -> A
    assert end(a) == b and end(b) == a  # and the loop repeats exactly
    c = end(b)  # the fault is used up: paging moves forward again
    assert c not in (a, b)
