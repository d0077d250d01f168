"""Every fault the simulator can inject: the run recovers (or stops the one log type with a clear
error), nothing is lost, and the request rate never exceeds the configured limit."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from poller_e2e_support import FAST, missing, now

AUDIT = {"log_type": "Wiz.Audit"}


def all_ok(result: dict[str, Any]) -> bool:
    """Every polled log type finished (not merely stopped for the budget)."""
    return all(v["status"] == "ok" for v in result["log_types"].values())


def graphql_requests(sim: Any) -> list[Any]:
    return [r for r in sim.stats.requests if r.path == "/graphql"]


def statuses(sim: Any) -> list[int]:
    return [r.status for r in graphql_requests(sim)]


@pytest.mark.parametrize(
    ("kind", "params", "count", "expect_status"),
    [
        ("rate_limit", {"retry_after": None}, 3, 429),
        ("server_error", {"status": 500}, 2, 500),
        ("server_error", {"status": 502}, 3, 502),
        ("server_error", {"status": 503}, 1, 503),
        ("server_error", {"status": 504}, 1, 504),
        ("graphql_error", {"code": "INTERNAL"}, 2, 200),
        ("graphql_error", {"code": "RATE_LIMIT_EXCEEDED"}, 2, 200),
    ],
)
def test_transient_faults_are_retried_without_loss(
    stack: Any, wiz_sim: Any, kind: str, params: dict[str, Any], count: int, expect_status: int
) -> None:
    wiz_sim.faults.add(kind, count=count, **params)
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides=FAST)
    assert result["log_types"]["Wiz.Audit"]["status"] == "ok", result
    assert statuses(wiz_sim)[:count] == [expect_status] * count
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_retry_after_is_honoured(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.faults.add("rate_limit", count=1, retry_after=1)
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides=FAST)
    assert all_ok(result), result
    first, second = graphql_requests(wiz_sim)[:2]
    assert first.status == 429 and second.status == 200
    assert second.time - first.time >= 1.0  # not the 50 ms base back-off
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_slow_answers_time_out_and_are_retried(stack: Any, wiz_sim: Any) -> None:
    # A time-out long enough that no ordinary answer reaches it on a loaded machine; the slow
    # answer takes twice as long.
    wiz_sim.faults.add("slow", count=1, delay=6.0)
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides={**FAST, "WIZ_HTTP_TIMEOUT_SECONDS": "3"})
    assert all_ok(result), result
    assert len(graphql_requests(wiz_sim)) >= 2
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_expired_token_is_refreshed_once_and_the_page_retried(stack: Any, wiz_sim: Any) -> None:
    stack.invoke("poller", {"log_type": "Wiz.Issues"}, env_overrides=FAST)
    assert wiz_sim.stats.tokens_issued == 1
    wiz_sim.faults.add("token_expired", count=1)
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides=FAST, fresh_process=True)
    assert all_ok(result), result
    assert wiz_sim.stats.tokens_issued == 2
    assert 401 in statuses(wiz_sim)
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_short_token_lifetimes_are_refreshed_ahead_of_expiry(stack: Any, wiz_sim: Any) -> None:
    lifetime = 3.0  # refreshed 20% (0.6 s) before it expires
    wiz_sim.token_lifetime_seconds = lifetime
    started = time.monotonic()
    for _ in range(4):
        result = stack.invoke("poller", AUDIT, env_overrides=FAST, fresh_process=True)
        assert all_ok(result), result
        time.sleep(0.9)  # 2.7 s of pauses alone pass the first token's refresh point
    elapsed = time.monotonic() - started
    assert 401 not in statuses(wiz_sim)  # never presented an expired token
    # A refresh at least once; and never more than one per refresh period (+ the first fetch):
    # bounds that hold however slowly the cold starts run.
    assert 2 <= wiz_sim.stats.tokens_issued <= 2 + elapsed / (lifetime * 0.8)


def test_expired_page_cursor_restarts_the_window(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.faults.add("cursor_expired", count=1)
    env = {**FAST, "WIZ_PAGE_SIZE": "100"}
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides=env)
    assert all_ok(result), result
    assert any(
        r.status in (200, 400) and r.variables and r.variables.get("after") for r in graphql_requests(wiz_sim)
    )
    parts = {k.split("/")[3].count("_") for k in stack.archived_keys("raw/Wiz.Audit/")}
    assert parts == {1, 2}  # first attempt's pages and the restart's (with a part suffix)
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_cursor_ttl_shorter_than_a_pause_restarts_cleanly(stack: Any, wiz_sim: Any) -> None:
    """A run stopped mid-window resumes later with a cursor the API has since expired."""
    wiz_sim.cursor_ttl_seconds = 1
    env = {**FAST, "WIZ_PAGE_SIZE": "100", "WIZ_REQUESTS_PER_SECOND": "6", "WIZ_TIME_RESERVE_SECONDS": "0.5"}
    first = stack.invoke("poller", AUDIT, env_overrides=env, remaining_ms=2_000)
    assert first["log_types"]["Wiz.Audit"]["status"] == "budget", first
    time.sleep(1.2)
    as_of = now()
    result = stack.invoke("poller", AUDIT, env_overrides={**env, "WIZ_REQUESTS_PER_SECOND": "50"})
    assert all_ok(result), result
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()


def test_unauthorized_stops_only_that_log_type_with_the_scope_to_add(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.faults.add("graphql_error", count=1, code="UNAUTHORIZED", connection="auditLogEntries")
    as_of = now()
    result = stack.invoke("poller", {}, env_overrides=FAST)
    audit = result["log_types"]["Wiz.Audit"]
    assert audit["status"] == "error" and "admin:audit" in audit["error"]
    assert [r.status for r in graphql_requests(wiz_sim) if r.operation == "auditLogEntries"] == [200]
    assert result["log_types"]["Wiz.Issues"]["status"] == "ok"
    assert result["log_types"]["Wiz.VulnerabilityFinding"]["status"] == "ok"
    assert missing(stack, wiz_sim, "Wiz.Issues", as_of) == set()


def test_request_rate_never_exceeds_the_limit(
    stack: Any, wiz_sim: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Measured where the poller decides (the start slot the shared limiter grants each request),
    # not at the simulator: arrival times add transit and scheduling delays that bunch requests
    # together under CPU load and say nothing about the poller.
    from wizwatch.poll.limiter import RateLimiter

    grants: list[float] = []
    real_acquire = RateLimiter.acquire

    def recording(self: RateLimiter, deadline: float | None = None) -> bool:
        granted = real_acquire(self, deadline)
        if granted:
            grants.append(self._next - self._interval)  # the start slot this request was given
        return granted

    monkeypatch.setattr(RateLimiter, "acquire", recording)
    env = {**FAST, "WIZ_REQUESTS_PER_SECOND": "4", "WIZ_MAX_WINDOW_SECONDS": "7200"}
    stack.invoke("poller", {}, env_overrides=env)
    wiz_sim.faults.add("rate_limit", count=2, retry_after=0)  # retries count against the limit too
    time.sleep(1.1)
    stack.invoke("poller", {}, env_overrides=env)  # the warm container keeps the same limiter
    sent = graphql_requests(wiz_sim)
    assert len(sent) >= 12 and 429 in statuses(wiz_sim)
    assert len(grants) == len(sent)  # every request, retries included, waited for a slot
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 0.25 - 1e-9, min(gaps)  # starts spaced 1/rate apart, across invocations
    for i, t in enumerate(grants):  # no one-second span [t, t + 1) holds more than the limit allows
        assert sum(1 for u in grants[i:] if u - t < 1.0 - 1e-6) <= 4


def _log_lines(stack: Any, fn: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.recorder.output[fn] if line.startswith('{"level"')]


def test_a_cursor_cycle_fails_the_window_until_the_api_pages_forward(stack: Any, wiz_sim: Any) -> None:
    # The API loops A -> B -> A on the audit connection. Before: each run re-archived the loop
    # within its budget, reported ok with a heartbeat and never reached the rest of the window.
    env = {**FAST, "WIZ_PAGE_SIZE": "20"}
    wiz_sim.faults.add("cursor_cycle", count=1000, connection="auditLogEntries")
    result = stack.invoke("poller", AUDIT, env_overrides=env)
    audit = result["log_types"]["Wiz.Audit"]
    assert not result["ok"] and audit["status"] == "error" and "CursorCycleError" in audit["error"], result
    blobs = [b for b in stack.recorder.metrics["poller"] if b.get("LogType") == "Wiz.Audit"]
    assert blobs and all("PollHeartbeat" not in b for b in blobs)  # the heartbeat alarm fires
    assert sum(b["ApiErrors"][0] for b in blobs) >= 1
    (line,) = [x for x in _log_lines(stack, "poller") if x["level"] == "ERROR"]
    assert line["log_type"] == "Wiz.Audit" and line["window_start"] and line["window_end"]
    assert line["cursor"] and line["first_seen_page"] == 1 and line["page"] == 3

    def window_requests() -> int:
        return sum(
            r.variables["filterBy"]["timestamp"]["after"] == line["window_start"]
            for r in graphql_requests(wiz_sim)
        )

    assert window_requests() == 3  # pages 1, 2 and the one that looped back: no more

    again = stack.invoke("poller", AUDIT, env_overrides=env)  # still looping: one request, same error
    assert again["log_types"]["Wiz.Audit"]["status"] == "error"
    assert window_requests() == 4

    wiz_sim.faults.clear()  # the API pages forward again: the window completes, nothing lost
    as_of = now()
    assert all_ok(stack.invoke("poller", AUDIT, env_overrides=env))
    assert missing(stack, wiz_sim, "Wiz.Audit", as_of) == set()
