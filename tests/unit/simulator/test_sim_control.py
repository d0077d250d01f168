"""The HTTP control API, and ``wizwatch simulate`` as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import requests
from sim_helpers import NOW, Api

from wizwatch_tools.simulator import WizSimulator
from wizwatch_tools.simulator.cli import parse_fault


def test_control_api_faults_stats_records_reset(sim: WizSimulator, api: Api) -> None:
    base = sim.url
    sim.store.add_audit(action="RevokeUserSessions", status="SUCCESS")
    added = requests.post(
        f"{base}/_sim/faults", json={"kind": "server_error", "status": 502}, timeout=5
    ).json()
    assert added[0]["kind"] == "server_error"
    assert requests.get(f"{base}/_sim/faults", timeout=5).json()[0]["status"] == 502
    assert api.page("Wiz.Audit", {}).status_code == 502
    stats = requests.get(f"{base}/_sim/stats", timeout=5).json()
    assert stats["tokens_issued"] == 1
    assert [(r["path"], r["operation"], r["status"]) for r in stats["requests"]] == [
        ("/oauth/token", "token", 200),
        ("/graphql", "auditLogEntries", 502),
    ]
    records = requests.get(f"{base}/_sim/records", params={"log_type": "Wiz.Audit"}, timeout=5).json()
    assert {r["action"] for r in records} == {"RevokeUserSessions", "Login"}
    assert requests.get(f"{base}/_sim/records", params={"log_type": "Wiz.Nope"}, timeout=5).status_code == 400
    requests.post(
        f"{base}/_sim/faults", json=[{"kind": "rate_limit"}, {"kind": "slow", "delay": 0}], timeout=5
    )
    assert requests.post(f"{base}/_sim/reset", timeout=5).json() == {"ok": True}
    assert sim.stats.requests == [] and len(sim.faults) == 0
    bad = requests.post(f"{base}/_sim/faults", json={"kind": "nope"}, timeout=5)
    assert bad.status_code == 400 and "unknown fault kind" in bad.json()["error"]


def test_control_api_config_and_generate(sim: WizSimulator) -> None:
    base = sim.url
    requests.post(
        f"{base}/_sim/config",
        json={"token_lifetime_seconds": 120, "page_delay_seconds": 0, "max_first": {"issuesV2": 100}},
        timeout=5,
    )
    assert sim.token_lifetime_seconds == 120 and sim.max_first["issuesV2"] == 100
    sim.store.seed_history(NOW, hours=1)
    before = sim.store.count("Wiz.Audit")
    until = "2026-03-01T13:00:00Z"
    assert requests.post(f"{base}/_sim/generate", json={"until": until}, timeout=5).json()["added"] > 50
    assert sim.store.count("Wiz.Audit") > before


def test_parse_fault_spec() -> None:
    assert parse_fault("rate_limit:retry_after=2,count=3") == {
        "kind": "rate_limit",
        "retry_after": 2,
        "count": 3,
    }
    assert parse_fault("rate_limit:retry_after=none") == {"kind": "rate_limit", "retry_after": None}
    assert parse_fault("graphql_error:code=INTERNAL") == {"kind": "graphql_error", "code": "INTERNAL"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_wizwatch_simulate_runs_answers_and_stops() -> None:
    port = _free_port()
    exe = Path(sys.executable).with_name("wizwatch")
    cmd = [
        str(exe),
        "simulate",
        "--port",
        str(port),
        "--seed",
        "3",
        "--history-hours",
        "1",
        "--fault",
        "server_error:status=503",
    ]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert proc.stdout is not None
        banner = [proc.stdout.readline() for _ in range(5)]
        assert f"http://127.0.0.1:{port}/oauth/token" in "".join(banner)
        assert f"http://127.0.0.1:{port}/graphql" in "".join(banner)
        url = f"http://127.0.0.1:{port}"
        form = {
            "grant_type": "client_credentials",
            "audience": "wiz-api",
            "client_id": "wizwatch-demo",
            "client_secret": "wizwatch-demo-secret",
        }
        token = requests.post(f"{url}/oauth/token", data=form, timeout=10).json()["access_token"]
        body = {"query": "{ auditLogEntries(first: 5) { nodes { id action } pageInfo { hasNextPage } } }"}
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.post(f"{url}/graphql", json=body, headers=headers, timeout=10).status_code == 503
        resp = requests.post(f"{url}/graphql", json=body, headers=headers, timeout=10)
        assert resp.status_code == 200 and len(resp.json()["data"]["auditLogEntries"]["nodes"]) == 5
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_wizwatch_simulate_refuses_a_bad_fault() -> None:
    exe = Path(sys.executable).with_name("wizwatch")
    result = subprocess.run(
        [str(exe), "simulate", "--fault", "meteor"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2 and "unknown fault kind" in result.stderr
