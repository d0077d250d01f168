"""Token endpoint: client credentials, Wiz-like errors, Login audit entries, expiry and scopes."""

from __future__ import annotations

from sim_helpers import NOW, Api, Clock, window

from wizwatch.poll.queries import SPECS
from wizwatch_tools.simulator import WizSimulator


def test_token_response_shape_and_use(api: Api, sim: WizSimulator) -> None:
    resp = api.fetch_token()
    body = resp.json()
    assert resp.status_code == 200
    assert set(body) == {"access_token", "refresh_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 86400
    assert len(body["access_token"]) > 40
    assert api.page("Wiz.Audit", {}).status_code == 200
    assert sim.stats.tokens_issued == 1


def test_every_token_is_a_login_entry_of_the_service_account(
    api: Api, sim: WizSimulator, clock: Clock
) -> None:
    api.fetch_token()
    clock.advance(seconds=30)
    api.fetch_token()
    logins = [e for e in sim.store.records("Wiz.Audit") if e["action"] == "Login"]
    assert len(logins) == 2
    for entry in logins:
        assert entry["status"] == "SUCCESS"
        assert entry["user"] is None
        assert entry["serviceAccount"]["name"] == "wizwatch"
        assert entry["actionParameters"]["clientID"] == "wizwatch-demo"
        assert "admin:audit" in entry["actionParameters"]["scopes"]
        assert entry["sourceIP"] == "127.0.0.1"
    # ... and the poller sees them through the API like any other entry.
    nodes = api.all_pages("Wiz.Audit", window("timestamp", NOW, NOW.replace(hour=13)))
    assert sorted(n["id"] for n in nodes) == sorted(e["id"] for e in logins)


def test_wrong_secret_is_401_access_denied_and_a_failed_login(sim: WizSimulator) -> None:
    resp = Api(sim, secret="nope").fetch_token()
    assert resp.status_code == 401
    assert resp.json()["error"] == "access_denied"
    (entry,) = sim.store.records("Wiz.Audit")
    assert entry["action"] == "Login" and entry["status"] == "FAILED"
    assert entry["actionParameters"]["error"]
    assert sim.stats.tokens_issued == 0


def test_unknown_client_wrong_audience_wrong_grant(sim: WizSimulator) -> None:
    assert Api(sim, client_id="someone").fetch_token().status_code == 401
    resp = Api(sim).fetch_token(audience="api.example.com")
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
    resp = Api(sim).fetch_token(grant_type="password")
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"
    assert Api(sim).fetch_token(audience="beyond-api").status_code == 200  # legacy Auth0 tenants


def test_missing_or_garbage_token_is_401_unauthenticated(api: Api) -> None:
    api.token = "not-a-token"
    resp = api.page("Wiz.Audit", {})
    assert resp.status_code == 401
    err = resp.json()["errors"][0]
    assert err["extensions"] == {"code": "UNAUTHENTICATED", "http": {"status": 401}}
    resp = api.session.post(api.sim.api_url, json={"query": SPECS["Wiz.Audit"].query})
    assert resp.status_code == 401


def test_token_expires_after_its_lifetime(sim: WizSimulator, api: Api, clock: Clock) -> None:
    sim.token_lifetime_seconds = 60
    assert api.fetch_token().json()["expires_in"] == 60
    clock.advance(seconds=59)
    assert api.page("Wiz.Audit", {}).status_code == 200
    clock.advance(seconds=1)
    assert api.page("Wiz.Audit", {}).json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    api.fetch_token()
    assert api.page("Wiz.Audit", {}).status_code == 200


def test_missing_scope_is_403_unauthorized_for_that_connection_only(sim: WizSimulator) -> None:
    sim.add_client("issues-only", "s3cret", ("read:issues",))
    api = Api(sim, client_id="issues-only", secret="s3cret")
    resp = api.page("Wiz.Audit", {})
    assert resp.status_code == 403
    err = resp.json()["errors"][0]
    assert err["extensions"]["code"] == "UNAUTHORIZED" and "admin:audit" in err["message"]
    assert api.page("Wiz.Issues", {}).status_code == 200
    assert api.page("Wiz.VulnerabilityFinding", {}).status_code == 403
