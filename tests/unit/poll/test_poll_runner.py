"""The poll loop against FakeWiz + moto: completeness, resume, restarts, faults, fairness."""

from __future__ import annotations

import gzip
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import orjson
import pytest
from poll_fakewiz import FakeWiz, Scripted
from poll_unit_support import BUCKET, TABLE, ManualClock, archived, emf, ids, invoke

from wizwatch.archive import writer
from wizwatch.archive.keys import parse_raw_key
from wizwatch.poll.state import CursorStore

NOW = datetime.now(UTC)


def seed(fake: FakeWiz, connection: str, n: int, span: timedelta = timedelta(minutes=90)) -> set[str]:
    return {
        fake.add(connection, NOW - span + span * i / n - timedelta(seconds=5), status="OPEN")["id"]
        for i in range(n)
    }


@pytest.fixture(autouse=True)
def _fresh_now() -> None:
    """Records are placed relative to NOW: take it as each test starts, not at import (a loaded
    run can reach a test many minutes after collecting it, and old records fall out of the look-back)."""
    global NOW
    NOW = datetime.now(UTC)


def test_every_record_archived_with_contract_keys_and_metadata(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIZ_PAGE_SIZE", "4")
    monkeypatch.setenv("WIZ_MAX_WINDOW_SECONDS", "1800")
    want = {c: seed(wiz, c, 23) for c in ("auditLogEntries", "issues", "vulnerabilityFindings")}
    result = invoke(wiz)
    assert result["ok"], result
    assert ids("Wiz.Audit", "auditLogEntries") == want["auditLogEntries"]
    assert ids("Wiz.Issues", "issues") == want["issues"]
    assert ids("Wiz.VulnerabilityFinding", "vulnerabilityFindings") == want["vulnerabilityFindings"]
    objs = archived("Wiz.Audit")
    for key, obj in objs.items():
        rk = parse_raw_key(key)
        meta = obj["meta"]
        assert set(meta) >= {
            "log-type",
            "window-start",
            "window-end",
            "page",
            "cursor",
            "request-time",
            "request-id",
            "record-count",
            "wizwatch-version",
        }
        assert meta["log-type"] == "Wiz.Audit" and int(meta["page"]) == rk.page
        assert meta["cursor"] == ("" if rk.page == 1 else f"c:{(rk.page - 1) * 4}")
        assert int(meta["record-count"]) == len(obj["body"]["data"]["auditLogEntries"]["nodes"])
    # Issues and findings always ask for every status; audit asks for the count on page 1 only.
    for req in wiz.requests:
        if req["connection"] != "auditLogEntries":
            assert len(req["variables"]["filterBy"]["status"]) == 4
        else:
            assert req["variables"]["withCount"] == ("after" not in req["variables"])
    state = CursorStore(TABLE).read("Wiz.Audit")
    assert not state.in_window and state.lease_owner is None
    assert state.committed_end is not None and NOW - state.committed_end < timedelta(seconds=30)
    blobs = emf(capsys)
    audit = next(b for b in blobs if b.get("LogType") == "Wiz.Audit")
    # Overlapping windows may archive a record twice (duplicates, never gaps): count what was written.
    written = sum(int(o["meta"]["record-count"]) for o in objs.values())
    assert written >= 23 and audit["RecordsArchived"] == [float(written)] and audit["PollHeartbeat"] == [1.0]
    assert audit["PagesArchived"] == [float(len(objs))] and audit["ApiRequests"][0] >= len(objs)
    assert 0 <= audit["IngestionLagSeconds"][0] < 30
    assert any(b.get("TokenFetches") == [1.0] for b in blobs)


def test_archive_body_is_the_exact_response_bytes(wiz: FakeWiz) -> None:
    seed(wiz, "auditLogEntries", 3, span=timedelta(minutes=5))
    invoke(wiz, {"log_type": "Wiz.Audit"})
    (obj,) = archived("Wiz.Audit").values()
    expected = orjson.dumps({"data": {"auditLogEntries": obj["body"]["data"]["auditLogEntries"]}})
    assert obj["raw"] == expected


def test_second_run_overlaps_and_heartbeats_with_no_records(
    wiz: FakeWiz, capsys: pytest.CaptureFixture[str]
) -> None:
    invoke(wiz, {"log_type": "Wiz.Issues"})
    first = CursorStore(TABLE).read("Wiz.Issues").committed_end
    capsys.readouterr()
    before = len(wiz.requests)
    time.sleep(1.1)  # one second more is closed (WIZ_SETTLE_SECONDS=1)
    invoke(wiz, {"log_type": "Wiz.Issues"}, cold=True)
    assert len(wiz.requests) == before + 1
    last = wiz.requests[-1]["variables"]["filterBy"]["statusChangedAt"]
    assert first is not None
    start = datetime.fromisoformat(last["after"].replace("Z", "+00:00"))
    assert start == first - timedelta(seconds=5)  # WIZ_OVERLAP_SECONDS
    blob = next(b for b in emf(capsys) if b.get("LogType") == "Wiz.Issues")
    assert blob["PollHeartbeat"] == [1.0] and blob["RecordsArchived"] == [0.0]
    assert archived() == {}  # empty pages are not archived
    assert wiz.tokens_issued == 1  # the cold start reused the stored token


def test_crash_after_a_put_resumes_mid_window_without_loss(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIZ_PAGE_SIZE", "2")
    want = seed(wiz, "auditLogEntries", 11, span=timedelta(minutes=20))
    real_put = writer.put_page
    calls = {"n": 0}

    def flaky(*a: Any, **kw: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("S3 unavailable")
        real_put(*a, **kw)

    monkeypatch.setattr(writer, "put_page", flaky)
    res = invoke(wiz, {"log_type": "Wiz.Audit"})
    assert res["log_types"]["Wiz.Audit"]["status"] == "error"
    state = CursorStore(TABLE).read("Wiz.Audit")
    assert state.in_window and state.page == 3 and state.after == "c:4" and state.lease_owner is None
    res = invoke(wiz, {"log_type": "Wiz.Audit"}, cold=True)
    assert res["ok"]
    assert ids("Wiz.Audit", "auditLogEntries") == want
    resumed = [r for r in wiz.requests if r["variables"].get("after") == "c:4"]
    assert len(resumed) == 2  # the page whose put failed was fetched again


def test_expired_cursor_restarts_the_window(wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIZ_PAGE_SIZE", "3")
    want = seed(wiz, "vulnerabilityFindings", 10, span=timedelta(minutes=20))
    wiz.expire_next_cursor = True
    res = invoke(wiz, {"log_type": "Wiz.VulnerabilityFinding"})
    assert res["ok"], res
    assert ids("Wiz.VulnerabilityFinding", "vulnerabilityFindings") == want
    parts = {parse_raw_key(k).part for k in archived()}
    assert parts == {"", "00000001"}  # the restart wrote next to, not over, the first attempt


def test_unauthorized_stops_one_log_type_only(wiz: FakeWiz) -> None:
    want = seed(wiz, "issues", 5)
    seed(wiz, "auditLogEntries", 5)
    wiz.deny = {"auditLogEntries"}
    res = invoke(wiz)
    audit = res["log_types"]["Wiz.Audit"]
    assert audit["status"] == "error" and "admin:audit" in audit["error"]
    assert res["log_types"]["Wiz.Issues"]["status"] == "ok"
    assert ids("Wiz.Issues", "issues") == want
    assert sum(r["connection"] == "auditLogEntries" for r in wiz.requests) == 1  # no hammering
    assert CursorStore(TABLE).read("Wiz.Audit").committed_end is None


def test_unauthenticated_refreshes_the_token_once_and_retries(wiz: FakeWiz) -> None:
    want = seed(wiz, "issues", 3)
    invoke(wiz, {"log_type": "Wiz.Audit"})  # gets a token
    wiz.valid_tokens.clear()  # revoked server-side
    res = invoke(wiz, {"log_type": "Wiz.Issues"}, cold=True)
    assert res["ok"] and ids("Wiz.Issues", "issues") == want
    assert wiz.tokens_issued == 2


def test_throttling_and_server_errors_are_retried(wiz: FakeWiz, capsys: pytest.CaptureFixture[str]) -> None:
    want = seed(wiz, "issues", 3, span=timedelta(minutes=5))
    rl = {"errors": [{"message": "slow down", "extensions": {"code": "RATE_LIMIT_EXCEEDED"}}], "data": None}
    wiz.script = [
        Scripted(429, rl, {"Retry-After": "0"}),
        Scripted(429, rl),
        Scripted(502, b"<html>bad gateway</html>"),
        Scripted(200, {"errors": [{"message": "boom", "extensions": {"code": "INTERNAL"}}], "data": None}),
    ]
    res = invoke(wiz, {"log_type": "Wiz.Issues"})
    assert res["ok"], res
    assert ids("Wiz.Issues", "issues") == want
    blob = next(b for b in emf(capsys) if b.get("LogType") == "Wiz.Issues")
    assert blob["ApiThrottles"] == [2.0] and blob["ApiErrors"] == [2.0]


def test_gives_up_after_max_attempts_without_moving_the_cursor(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("WIZ_MAX_ATTEMPTS", "3")
    seed(wiz, "issues", 3)
    wiz.script = [Scripted(503, b"down")] * 3
    res = invoke(wiz, {"log_type": "Wiz.Issues"})
    assert res["log_types"]["Wiz.Issues"]["status"] == "error"
    assert "giving up after 3 attempts" in res["log_types"]["Wiz.Issues"]["error"]
    assert CursorStore(TABLE).read("Wiz.Issues").committed_end is None
    # The operator's log line says what failed, where (log type, window, page) and that it retries.
    (failure,) = [vars(r) for r in caplog.records if r.levelname == "ERROR"]
    assert failure["log_type"] == "Wiz.Issues" and failure["page"] == 1 and "window_start" in failure
    assert "giving up after 3 attempts" in failure["error"] and "next run retries" in failure["msg"]


def test_audit_window_at_the_result_cap_is_split(wiz: FakeWiz) -> None:
    n = 10_500
    base = NOW - timedelta(minutes=100)
    for i in range(n):
        wiz.add("auditLogEntries", base + timedelta(seconds=i * 0.5))
    res = invoke(wiz, {"log_type": "Wiz.Audit"}, remaining_ms=120_000)
    assert res["ok"], res
    assert len(ids("Wiz.Audit", "auditLogEntries")) == n
    counted_windows = {(m["window-start"], m["window-end"]) for m in (o["meta"] for o in archived().values())}
    # No archived window holds as many entries as the cap.
    for start, end in counted_windows:
        s = datetime.fromisoformat(start.replace("Z", "+00:00"))
        e = datetime.fromisoformat(end.replace("Z", "+00:00"))
        inside = sum(
            1
            for r in wiz.records["auditLogEntries"]
            if s <= datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) <= e
        )
        assert inside < 10_000


def test_time_budget_stops_cleanly_and_the_next_run_resumes(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Time is a manual clock: each API request costs 0.25 s of it and the limiter's waits advance
    # it, so the budget runs out after the same amount of work however loaded the machine is.
    monkeypatch.setenv("WIZ_PAGE_SIZE", "2")
    monkeypatch.setenv("WIZ_REQUESTS_PER_SECOND", "5")
    monkeypatch.setenv("WIZ_INITIAL_LOOKBACK_HOURS", "0.5")  # one window per log type
    clock = ManualClock(cost=0.25)
    wiz.on_request = clock.charge
    want = seed(wiz, "auditLogEntries", 60, span=timedelta(minutes=20))
    issues = seed(wiz, "issues", 1, span=timedelta(minutes=20))
    # 6 s of budget after the 1 s reserve; audit's 30 pages need 30 x 0.25 s > its share.
    res = invoke(wiz, {}, remaining_ms=7_000, clock=clock)
    assert res["log_types"]["Wiz.Audit"]["status"] == "budget"
    assert res["log_types"]["Wiz.Issues"]["status"] == "ok"  # not starved by the busy audit
    assert ids("Wiz.Issues", "issues") == issues
    state = CursorStore(TABLE).read("Wiz.Audit")
    assert state.in_window and state.page > 1 and state.lease_owner is None
    fetched = len([r for r in wiz.requests if r["connection"] == "auditLogEntries"])
    assert 3 <= fetched < 30
    monkeypatch.setenv("WIZ_REQUESTS_PER_SECOND", "50")
    res = invoke(wiz, {"log_type": "Wiz.Audit"}, remaining_ms=60_000, clock=clock)
    assert res["log_types"]["Wiz.Audit"]["status"] == "ok", res
    assert ids("Wiz.Audit", "auditLogEntries") == want
    resumed = [r for r in wiz.requests if r["connection"] == "auditLogEntries"][fetched:]
    assert resumed[0]["variables"].get("after") == state.after  # from where it stopped, not page 1


def test_a_held_lease_skips_the_log_type(wiz: FakeWiz) -> None:
    CursorStore(TABLE).acquire("Wiz.Audit", "someone-else", 300)
    seed(wiz, "auditLogEntries", 2)
    res = invoke(wiz)
    assert res["log_types"]["Wiz.Audit"]["status"] == "skipped"
    assert res["log_types"]["Wiz.Issues"]["status"] == "ok"
    assert not any(r["connection"] == "auditLogEntries" for r in wiz.requests)


def test_project_ids_filter_issues_and_findings_only(wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIZ_PROJECT_IDS", "p-1, p-2")
    monkeypatch.setenv("WIZ_PROJECT_FILTER_KEY_FINDINGS", "project")
    invoke(wiz)
    by_conn = {r["connection"]: r["variables"]["filterBy"] for r in wiz.requests}
    assert by_conn["issues"]["project"] == ["p-1", "p-2"]
    assert by_conn["vulnerabilityFindings"]["project"] == ["p-1", "p-2"]
    assert "project" not in by_conn["auditLogEntries"] and "projectId" not in by_conn["auditLogEntries"]


def test_single_type_event_gets_its_share_of_the_rate(wiz: FakeWiz) -> None:
    from wizwatch.logtypes import DEFAULT_POLLED_LOG_TYPES
    from wizwatch.poll import runner

    invoke(wiz, {"log_type": "Wiz.Audit"})
    share = 50 / len(DEFAULT_POLLED_LOG_TYPES)
    assert runner.get_poller(runner.load_settings()).limiter.rate == pytest.approx(share)
    invoke(wiz, {})
    assert runner.get_poller(runner.load_settings()).limiter.rate == pytest.approx(50)


def test_unknown_event_log_type_is_a_clear_error(wiz: FakeWiz) -> None:
    from wizwatch.errors import ConfigError

    with pytest.raises(ConfigError, match=r"Wiz\.Nope"):
        invoke(wiz, {"log_type": "Wiz.Nope"})


def test_no_secret_or_token_in_logs_or_results(wiz: FakeWiz, capsys: pytest.CaptureFixture[str]) -> None:
    seed(wiz, "issues", 3)
    wiz.deny = {"auditLogEntries"}
    wiz.script = [
        Scripted(401, {"errors": [{"message": "expired", "extensions": {"code": "UNAUTHENTICATED"}}]})
    ]
    res = invoke(wiz)
    out = capsys.readouterr().out + json.dumps(res)
    assert wiz.tokens_issued == 2
    assert "s3cret-value" not in out
    assert "tok-" not in out  # neither the rejected nor the current token
    assert "admin:audit" in out  # but the operator is told what to fix


def test_bad_credentials_stop_every_log_type_with_the_fix(wiz: FakeWiz) -> None:
    wiz.client_secret = "rotated"
    res = invoke(wiz)
    for outcome in res["log_types"].values():
        assert outcome["status"] == "error"
        assert "WIZ_CREDENTIALS_SECRET" in outcome["error"]
        assert "s3cret-value" not in outcome["error"]


def _commit(log_type: str, committed_end: datetime) -> None:
    """Leave ``log_type``'s cursor as a finished earlier run would: window closed at ``committed_end``."""
    import dataclasses

    store = CursorStore(TABLE)
    state = store.acquire(log_type, "earlier-run", 60)
    store.release(store.save(dataclasses.replace(state, committed_end=committed_end), 60))


def test_split_inside_a_dense_overlap_still_advances_the_cursor(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The re-read overlap alone holds more than the cap: a split that ends inside it used to close
    # the window *before* the committed end, moving the cursor backwards and re-reading forever.
    from wizwatch.poll import runner

    monkeypatch.setattr(runner, "AUDIT_RESULT_CAP", 20)
    monkeypatch.setenv("WIZ_OVERLAP_SECONDS", "60")
    committed = NOW.replace(microsecond=0) - timedelta(seconds=200)
    _commit("Wiz.Audit", committed)
    for i in range(200):  # re-read overlap [committed - 60 s, committed): 200 entries
        wiz.add("auditLogEntries", committed - timedelta(seconds=50) + timedelta(milliseconds=200 * i))
    new = {wiz.add("auditLogEntries", committed + timedelta(seconds=20 + i))["id"] for i in range(5)}
    res = invoke(wiz, {"log_type": "Wiz.Audit"}, remaining_ms=8_000)
    state = CursorStore(TABLE).read("Wiz.Audit")
    assert state.committed_end is not None and state.committed_end > committed + timedelta(seconds=25), res
    assert res["log_types"]["Wiz.Audit"]["status"] == "ok", res
    assert new <= ids("Wiz.Audit", "auditLogEntries")


def test_a_single_second_beyond_the_cap_is_split_by_milliseconds(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Filter timestamps carry milliseconds; a second holding more than the cap used to be fetched
    # whole, and Wiz would silently drop everything past the cap.
    from wizwatch.poll import runner

    monkeypatch.setattr(runner, "AUDIT_RESULT_CAP", 20)
    second = NOW.replace(microsecond=0) - timedelta(minutes=30)
    want = {wiz.add("auditLogEntries", second + timedelta(milliseconds=20 * i))["id"] for i in range(50)}
    res = invoke(wiz, {"log_type": "Wiz.Audit"}, remaining_ms=20_000)
    assert res["log_types"]["Wiz.Audit"]["status"] == "ok", res
    assert ids("Wiz.Audit", "auditLogEntries") == want
    for obj in archived("Wiz.Audit").values():
        s = datetime.fromisoformat(obj["meta"]["window-start"].replace("Z", "+00:00"))
        e = datetime.fromisoformat(obj["meta"]["window-end"].replace("Z", "+00:00"))
        inside = [
            r for r in wiz.records["auditLogEntries"] if s <= datetime.fromisoformat(r["timestamp"]) <= e
        ]
        assert len(inside) < 20
    assert all(r["variables"]["first"] for r in wiz.requests)


def test_split_windows_never_end_before_the_committed_end() -> None:
    from wizwatch.poll.runner import _split_window

    c = NOW.replace(microsecond=0)
    for start_back, total in ((1200, 10_000), (1200, 400_000), (1, 10_000), (60, 10_000_000)):
        start, end = c - timedelta(seconds=start_back), c + timedelta(seconds=5)
        while True:
            got = _split_window(start, end, total, c)
            if got is None:
                break
            assert got[0] < c < got[1] and start <= got[0] and got[1] <= end and got != (start, end)
            assert got[0].microsecond % 1000 == 0 and got[1].microsecond % 1000 == 0
            start, end = got
        assert end - start <= timedelta(milliseconds=2)  # splits go down to milliseconds


def test_a_run_whose_lease_lapsed_never_overwrites_the_new_holders_pages(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Run A's lease lapses during a long fetch (retries and time-outs can outlast it); run B takes
    # over and archives page 2 from a newer view of the window. A must not put its own page 2 over
    # B's: B has moved past it, so anything only B's copy holds would be lost.
    from wizwatch.archive.keys import raw_key
    from wizwatch.poll import runner

    monkeypatch.setenv("WIZ_PAGE_SIZE", "2")
    seed(wiz, "auditLogEntries", 7, span=timedelta(minutes=20))
    poller = runner.get_poller(runner.load_settings())
    skew = {"s": 0.0}
    poller.store._clock = lambda: time.time() + skew["s"]
    b_key: dict[str, str] = {}

    def take_over(req: dict[str, Any]) -> None:
        if req["variables"].get("after") != "c:2" or b_key:
            return
        b = CursorStore(TABLE, clock=lambda: time.time() + 1000.0)
        for _ in range(200):  # A's archive thread commits page 1 while A fetches page 2
            if b.read("Wiz.Audit").page == 2:
                break
            time.sleep(0.01)
        state = b.acquire("Wiz.Audit", "run-B", 120)
        assert state.window_start and state.window_end and state.page == 2
        b_key["key"] = raw_key("Wiz.Audit", state.window_start, state.window_end, 2)
        writer.put_page(BUCKET, b_key["key"], b'{"from":"B"}', {})
        b.commit_page(state.next_page("c:4"), 120)
        skew["s"] = 1000.0  # A's fetch of page 2 outlasted its lease

    wiz.on_request = take_over
    res = invoke(wiz, {"log_type": "Wiz.Audit"})
    assert res["log_types"]["Wiz.Audit"]["status"] == "lost_lease", res
    body = boto3.client("s3").get_object(Bucket=BUCKET, Key=b_key["key"])["Body"].read()
    assert gzip.decompress(body) == b'{"from":"B"}'
    assert CursorStore(TABLE).read("Wiz.Audit").lease_owner == "run-B"


def test_an_answer_cut_off_mid_body_is_retried(wiz: FakeWiz) -> None:
    # A connection dropped while the body streams in raises ChunkedEncodingError (not a
    # ConnectionError): it is as transient as a time-out and must be retried, not stop the type.
    import requests

    want = seed(wiz, "issues", 3, span=timedelta(minutes=5))
    cut = {"n": 0}

    def drop(req: dict[str, Any]) -> None:
        if cut["n"] < 2:
            cut["n"] += 1
            raise requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead")

    wiz.on_request = drop
    res = invoke(wiz, {"log_type": "Wiz.Issues"})
    assert res["ok"], res
    assert ids("Wiz.Issues", "issues") == want and cut["n"] == 2


def test_default_log_types_are_the_contracts_three_api_types() -> None:
    """CONTRACT: WIZ_LOG_TYPES defaults to the three API types; the template opts in to more."""
    from wizwatch.logtypes import DEFAULT_POLLED_LOG_TYPES

    assert DEFAULT_POLLED_LOG_TYPES == ("Wiz.Audit", "Wiz.Issues", "Wiz.VulnerabilityFinding")
