"""Poller benchmark: pages archived per second against a 100 ms API, and memory over 1,000 pages.

The Wiz simulator and the moto server each run in their own process, so this process holds only
the poller (the real handler code, in-process like a warm Lambda container) and its RSS and CPU
are the poller's. Throughput: the simulator answers each page a fixed 100 ms after the request
arrived (its own work included) and the limiter is set well above 10/s, so 10 pages/s is the
API-bound ceiling; the poller reaches it only if archiving page N overlaps fetching page N+1.
Memory: with no added latency, RSS after page 1,000 must be within 30 MB of RSS after page 10
(re-polling the same history, the cursor item deleted between passes, as a warm container would
see over many invocations).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import requests

API_BOUND_PAGES_PER_S = 10.0
PAGE_DELAY_SECONDS = 0.1
#: Audit history seeded into the simulator: ~8,500 entries (below the 10,000-result cap, so
#: the whole history is one window of ~17 pages of 500).
HISTORY_HOURS = 34.0
THROUGHPUT_PASSES = 4
MEMORY_PAGES = 1000
CLIENT_ID, CLIENT_SECRET = "bench-client", "bench-secret-not-real"
TABLE, BUCKET, SECRET = "bench-state", "bench-raw", "bench-wiz-credentials"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up at {url}")


@contextlib.contextmanager
def _process(args: list[str], health: str, what: str) -> Iterator[None]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(health, proc, what)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def _provision(endpoint: str) -> None:
    kw: dict[str, Any] = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    ddb = boto3.client("dynamodb", **kw)
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    boto3.client("s3", **kw).create_bucket(Bucket=BUCKET)
    boto3.client("secretsmanager", **kw).create_secret(
        Name=SECRET, SecretString=json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    )


class _PageCounter:
    """Wraps the archive writer to count pages and sample RSS at chosen page numbers."""

    def __init__(self, samples: tuple[int, ...]) -> None:
        from wizwatch.archive import writer

        self.writer = writer
        self.original = writer.put_page
        self.count = 0
        self.samples = samples
        self.rss: dict[int, float] = {}

    def __enter__(self) -> _PageCounter:
        original = self.original

        def counted(*args: Any, **kwargs: Any) -> None:
            original(*args, **kwargs)
            self.count += 1
            if self.count in self.samples:
                self.rss[self.count] = _rss_mb()

        self.writer.put_page = counted
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.put_page = self.original


class _Context:
    aws_request_id = "bench"
    function_name = "poller"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _poll_once(endpoint: str) -> dict[str, Any]:
    """One warm invocation for Wiz.Audit from a fresh cursor (the previous pass's is deleted)."""
    from wizwatch.poll import runner

    boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1").delete_item(
        TableName=TABLE, Key={"pk": {"S": "cursor#Wiz.Audit"}}
    )
    with contextlib.redirect_stdout(io.StringIO()):  # EMF blobs and logs
        result = runner.handle({"log_type": "Wiz.Audit"}, _Context())
    status = result["log_types"]["Wiz.Audit"]
    if status["status"] != "ok":
        raise RuntimeError(f"poller run failed: {status}")
    return status


def _raw_client_pages_per_s(sim_url: str, passes: int) -> float:
    """The same pages fetched by a bare sequential client (no archive, no state): the ceiling
    this simulator allows, which is below 10/s by its own per-page work on top of the 100 ms."""
    from datetime import UTC, datetime, timedelta

    from wizwatch.poll.queries import AUDIT_QUERY

    session = requests.Session()
    form = {"grant_type": "client_credentials", "audience": "wiz-api", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}  # fmt: skip
    token = session.post(sim_url + "/oauth/token", data=form, timeout=10).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    pages, elapsed = 0, 0.0
    for _ in range(passes):
        now = datetime.now(UTC)
        window = {"after": (now - timedelta(hours=HISTORY_HOURS + 1)).isoformat(), "before": now.isoformat()}
        variables: dict[str, Any] = {"first": 500, "filterBy": {"timestamp": window}, "withCount": True}
        start = time.perf_counter()
        while True:
            body = session.post(
                sim_url + "/graphql", json={"query": AUDIT_QUERY, "variables": variables}, headers=headers,
                timeout=30,
            ).json()  # fmt: skip
            pages += 1
            info = body["data"]["auditLogEntries"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            variables = {**variables, "after": info["endCursor"], "withCount": False}
        elapsed += time.perf_counter() - start
    return pages / elapsed


def run(corpus: Path) -> dict[str, Any]:
    """Throughput (100 ms API) and RSS over 1,000 pages; ``corpus`` is unused (the simulator's
    seeded data is the input)."""
    del corpus
    moto_port, sim_port = _free_port(), _free_port()
    endpoint = f"http://127.0.0.1:{moto_port}"
    sim_url = f"http://127.0.0.1:{sim_port}"
    py = sys.executable
    moto_cmd = [py, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(moto_port)]
    sim_cmd = [
        py, "-m", "wizwatch_tools.cli", "simulate", "--port", str(sim_port), "--seed", "7", "--static",
        "--history-hours", str(HISTORY_HOURS), "--page-delay", str(PAGE_DELAY_SECONDS),
        "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET,
    ]  # fmt: skip
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WIZ_API_URL": sim_url + "/graphql",
        "WIZ_TOKEN_URL": sim_url + "/oauth/token",
        "WIZ_AUDIENCE": "wiz-api",
        "WIZ_CREDENTIALS_SECRET": SECRET,
        "STATE_TABLE": TABLE,
        "RAW_BUCKET": BUCKET,
        "WIZ_LOG_TYPES": "Wiz.Audit",
        "WIZ_INITIAL_LOOKBACK_HOURS": str(HISTORY_HOURS + 1),
        "WIZ_MAX_WINDOW_SECONDS": str(int((HISTORY_HOURS + 2) * 3600)),
        "WIZ_SETTLE_SECONDS": "1",
        "WIZ_OVERLAP_SECONDS": "60",
        "WIZ_REQUESTS_PER_SECOND": "40",  # well above the API-bound 10/s: the API is the limit
        "LOG_LEVEL": "WARNING",  # the handler applies it at each invocation
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        with (
            _process(moto_cmd, endpoint + "/moto-api/", "moto server"),
            _process(sim_cmd, sim_url + "/_sim/health", "Wiz simulator"),
        ):
            _provision(endpoint)
            from wizwatch import aws
            from wizwatch.poll import runner

            aws.reset_clients()
            runner._poller = None
            _poll_once(endpoint)  # warm up: token, clients, connection pool

            pages = 0
            elapsed = 0.0
            for _ in range(THROUGHPUT_PASSES):
                start = time.perf_counter()
                pages += _poll_once(endpoint)["pages"]
                elapsed += time.perf_counter() - start
            pages_per_s = pages / elapsed
            raw_pages_per_s = _raw_client_pages_per_s(sim_url, THROUGHPUT_PASSES)

            requests.post(
                sim_url + "/_sim/config", json={"page_delay_seconds": 0}, timeout=5
            ).raise_for_status()
            with _PageCounter((10, MEMORY_PAGES)) as counter:
                while counter.count < MEMORY_PAGES:
                    _poll_once(endpoint)
            rss10, rss1000 = counter.rss[10], counter.rss[MEMORY_PAGES]
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        from wizwatch import aws

        aws.reset_clients()
    return {
        "pages_per_s": round(pages_per_s, 2),
        "api_bound_pages_per_s": API_BOUND_PAGES_PER_S,
        "ratio": round(pages_per_s / API_BOUND_PAGES_PER_S, 3),
        "target_ratio": 0.85,
        "pages_measured": pages,
        "raw_client_pages_per_s": round(raw_pages_per_s, 2),
        "ratio_vs_raw_client": round(pages_per_s / raw_pages_per_s, 3),
        "page_delay_ms": int(PAGE_DELAY_SECONDS * 1000),
        "rss_after_10_pages_mb": round(rss10, 1),
        "rss_after_1000_pages_mb": round(rss1000, 1),
        "rss_growth_mb": round(rss1000 - rss10, 1),
        "rss_growth_limit_mb": 30,
    }
