"""Wiz.CloudConfigurationFinding end to end: incremental windows survive kills like the other
types; the daily posture snapshot survives kills and time-outs midway, restarts cleanly on a
rejected cursor, is complete against the simulator's ground truth, and never reaches the rules."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from poller_e2e_support import (
    FAST,
    archived_versions,
    cursor_item,
    missing,
    now,
    poll_until_ok,
    snapshot_folders,
    snapshot_item,
)

from wizwatch_tools.localstack.invoke import CrashResult

LT = "Wiz.CloudConfigurationFinding"
INCREMENTAL = {"log_type": LT}
SNAPSHOT = {"log_type": LT, "snapshot": True}
#: Several pages per window or snapshot, and a lease short enough that a crashed run's lapses.
ENV = {**FAST, "WIZ_PAGE_SIZE": "25", "WIZ_LEASE_SECONDS": "1"}


def snapshot_truth(sim: Any, as_of: datetime) -> set[str]:
    """Ids of every finding the API shows at ``as_of`` that a snapshot must hold."""
    records = sim.store.records(LT, visible_only=True, now=as_of)
    truth = {r["id"] for r in records if not r.get("deleted")}
    assert len(truth) > 2 * int(ENV["WIZ_PAGE_SIZE"]), "too few findings: the test proves nothing"
    return truth


def complete_snapshots(stack: Any) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in snapshot_folders(stack).items() if v["manifest"] is not None}


def snapshot_until_ok(stack: Any, env: dict[str, str], tries: int = 5) -> dict[str, Any]:
    return poll_until_ok(stack, SNAPSHOT, env, fresh=True, tries=tries)


@pytest.mark.parametrize(
    "crash_at",
    [
        "before:wizwatch.archive.writer.put_page",
        "after:wizwatch.archive.writer.put_page",  # archived, cursor not moved
        "after:wizwatch.poll.state.CursorStore.commit_page",  # moved, lease never released
    ],
)
def test_incremental_killed_at_each_step_loses_nothing(stack: Any, wiz_sim: Any, crash_at: str) -> None:
    crashed = stack.invoke("poller", INCREMENTAL, env_overrides=ENV, fresh_process=True, crash_at=crash_at)
    assert isinstance(crashed, CrashResult), crashed
    assert cursor_item(stack, LT).get("lease_owner")
    time.sleep(1.2)  # the lease lapses on its own
    as_of = now()
    poll_until_ok(stack, INCREMENTAL, ENV, fresh=True)
    assert missing(stack, wiz_sim, LT, as_of) == set()


def test_incremental_sends_every_status_and_archives_status_changes(stack: Any, wiz_sim: Any) -> None:
    poll_until_ok(stack, INCREMENTAL, FAST)
    sent = [r.variables["filterBy"] for r in wiz_sim.stats.requests if r.operation == "configurationFindings"]
    assert sent and all(f["status"] == ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"] for f in sent)
    assert all(set(f) == {"updatedAt", "status"} for f in sent)
    # A finding fixed, then back: both changes archived; re-assessments alone are not changes.
    finding = next(r for r in wiz_sim.store.records(LT) if r["status"] == "OPEN")
    t = now()
    wiz_sim.store.change_status(LT, finding["id"], "RESOLVED", t - timedelta(seconds=40), delay=0)
    wiz_sim.store.change_status(LT, finding["id"], "OPEN", t - timedelta(seconds=20), delay=0)
    time.sleep(2.2)  # past the settle delay
    as_of = now()
    poll_until_ok(stack, INCREMENTAL, FAST)
    assert missing(stack, wiz_sim, LT, as_of) == set()
    versions = {ts for rid, ts in archived_versions(stack, LT) if rid == finding["id"]}
    assert len(versions) >= 2  # the resolution and the re-opening, as separate versions


def test_analyzed_at_windows_when_configured(stack: Any, wiz_sim: Any) -> None:
    env = {**FAST, "WIZ_CONFIGURATION_DELTA_FIELD": "analyzedAt"}
    as_of = now()
    poll_until_ok(stack, INCREMENTAL, env)
    sent = [r.variables["filterBy"] for r in wiz_sim.stats.requests if r.operation == "configurationFindings"]
    assert sent and all("analyzedAt" in f and "updatedAt" not in f for f in sent)
    start = as_of - timedelta(hours=float(FAST["WIZ_INITIAL_LOOKBACK_HOURS"])) + timedelta(minutes=2)
    end = datetime.fromisoformat(cursor_item(stack, LT)["committed_end"]["S"].replace("Z", "+00:00"))
    truth = {r["id"] for r in wiz_sim.store.records(LT, start, end, now=as_of, time_field="analyzedAt")}
    assert truth and truth <= {rid for rid, _ in archived_versions(stack, LT)}


def test_snapshot_is_complete_has_a_manifest_and_never_reaches_the_detector(stack: Any, wiz_sim: Any) -> None:
    stack.run_detector()  # whatever the bucket sent before (S3's test event)
    as_of = now()
    result = snapshot_until_ok(stack, ENV)
    assert result["log_types"][f"{LT}/snapshot"]["pages"] > 2
    [(folder, snap)] = complete_snapshots(stack).items()
    ids = [i for page in snap["pages"].values() for i in page]
    assert set(ids) == snapshot_truth(wiz_sim, as_of)
    assert sorted(snap["pages"]) == list(range(1, snap["manifest"]["pages"] + 1))
    assert snap["manifest"]["filter"] == {
        "status": ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"],
        "includeDeleted": False,
    }
    sent = [r.variables["filterBy"] for r in wiz_sim.stats.requests if r.operation == "configurationFindings"]
    assert all(f == snap["manifest"]["filter"] for f in sent)  # no time window, same filter every page
    # A second tick the same day does nothing: one snapshot per day.
    requests = len(wiz_sim.stats.requests)
    assert (
        stack.invoke("poller", SNAPSHOT, env_overrides=ENV)["log_types"][f"{LT}/snapshot"]["status"] == "ok"
    )
    assert len(wiz_sim.stats.requests) == requests
    stamp = folder.rsplit("/", 1)[1]  # the slot, e.g. 20261122T020000000000Z
    assert snapshot_item(stack)["committed_end"]["S"][:10].replace("-", "") == stamp[:8]
    # Only raw/ notifies the detector: the snapshot's pages are never evaluated by rules.
    drained = stack.run_detector()
    assert drained.messages == 0
    assert not stack.archived_keys("matches/")


def test_snapshot_interrupted_midway_resumes_in_later_invocations(stack: Any, wiz_sim: Any) -> None:
    """A snapshot larger than one invocation's time: each run stops for its budget after a few
    pages with the cursor saved, the next continues from there, and the result is whole."""
    # 5 streams share the budget: 2 requests/s for the snapshot (the pace, not the CPU, decides
    # how far a run gets), 5 findings a page: a few dozen pages, several runs of 4 s each.
    slow = {**ENV, "WIZ_REQUESTS_PER_SECOND": "10", "WIZ_TIME_RESERVE_SECONDS": "0.5", "WIZ_PAGE_SIZE": "5"}
    as_of = now()
    statuses, stopped_at = [], []
    for _ in range(30):
        result = stack.invoke("poller", SNAPSHOT, env_overrides=slow, fresh_process=True, remaining_ms=4_000)
        if isinstance(result, CrashResult):
            # Killed at the time-out itself (a loaded machine overran the reserve): a harder stop,
            # which the next run must survive too once the lease lapses.
            statuses.append("killed")
            time.sleep(1.2)
            continue
        outcome = result["log_types"][f"{LT}/snapshot"]
        statuses.append(outcome["status"])
        if outcome["status"] == "ok":
            break
        assert outcome["status"] == "budget", result
        item = snapshot_item(stack)
        assert "lease_owner" not in item  # released for the next tick
        stopped_at.append(int(item["page"]["N"]))
        if stopped_at[-1] > 1:
            assert item["after"]["S"]  # stopped midway with the cursor of the next page saved
    assert statuses[-1] == "ok" and len(statuses) >= 3 and "budget" in statuses, statuses
    assert [p for p in stopped_at if p > 1], stopped_at  # interrupted midway, with pages on both sides
    assert stopped_at == sorted(stopped_at)  # every run went on from where the last one stopped
    [snap] = complete_snapshots(stack).values()
    ids = [i for page in snap["pages"].values() for i in page]
    assert len(ids) == len(set(ids))  # resumed exactly where it stopped: no page twice
    assert set(ids) == snapshot_truth(wiz_sim, as_of)


@pytest.mark.parametrize(
    "crash_at",
    [
        "after:wizwatch.poll.client.GraphQLClient.execute",
        "after:wizwatch.archive.writer.put_page",
        "before:wizwatch.poll.state.CursorStore.commit_page",
        "after:wizwatch.poll.state.CursorStore.commit_page",
        "before:wizwatch.archive.writer.put_json",  # the last page stored, the manifest not
    ],
)
def test_snapshot_killed_at_each_step_loses_nothing(stack: Any, wiz_sim: Any, crash_at: str) -> None:
    as_of = now()
    crashed = stack.invoke("poller", SNAPSHOT, env_overrides=ENV, fresh_process=True, crash_at=crash_at)
    assert isinstance(crashed, CrashResult), crashed
    assert not complete_snapshots(stack)  # nothing claims completeness before the manifest
    assert snapshot_item(stack).get("lease_owner")
    time.sleep(1.2)
    snapshot_until_ok(stack, ENV)
    [snap] = complete_snapshots(stack).values()
    assert {i for page in snap["pages"].values() for i in page} == snapshot_truth(wiz_sim, as_of)
    assert "lease_owner" not in snapshot_item(stack)


def test_snapshot_cursor_rejected_midway_restarts_under_a_new_id(stack: Any, wiz_sim: Any) -> None:
    wiz_sim.faults.add("cursor_expired", count=1, skip=1, connection="configurationFindings")
    as_of = now()
    snapshot_until_ok(stack, ENV)
    folders = snapshot_folders(stack)
    assert len(folders) == 2  # the abandoned first attempt and the complete restart
    [(folder, snap)] = complete_snapshots(stack).items()
    assert folder.endswith("_00000001")
    assert {i for page in snap["pages"].values() for i in page} == snapshot_truth(wiz_sim, as_of)


def test_a_cursor_cycle_in_a_snapshot_is_stopped_and_reported(stack: Any, wiz_sim: Any) -> None:
    # The snapshot pages with the incremental windows' page loop, cursor-cycle check included:
    # paging that loops (A -> B -> A) stops the stream at the first repeat instead of storing the
    # loop's pages until the budget runs out and completing a snapshot that lacks the rest.
    wiz_sim.faults.add("cursor_cycle", count=1000, connection="configurationFindings")
    result = stack.invoke("poller", SNAPSHOT, env_overrides=ENV)
    snap = result["log_types"][f"{LT}/snapshot"]
    assert not result["ok"] and snap["status"] == "error" and "CursorCycleError" in snap["error"], result
    assert "page 3 of snapshot" in snap["error"] and "page 1 already returned" in snap["error"]
    blobs = [b for b in stack.recorder.metrics["poller"] if b.get("LogType") == f"{LT}/snapshot"]
    assert blobs and all("PollHeartbeat" not in b for b in blobs)  # the heartbeat alarm fires
    assert sum(b["ApiErrors"][0] for b in blobs) >= 1
    logs = [json.loads(x) for x in stack.recorder.output["poller"] if x.startswith('{"level"')]
    (line,) = [x for x in logs if x["level"] == "ERROR"]
    assert line["log_type"] == f"{LT}/snapshot" and line["snapshot_id"] and line["cursor"]
    assert line["first_seen_page"] == 1 and line["page"] == 3

    def snapshot_requests() -> int:
        return sum(r.operation == "configurationFindings" for r in wiz_sim.stats.requests)

    assert snapshot_requests() == 3  # pages 1, 2 and the one that looped back: no more
    assert not complete_snapshots(stack)  # a looping listing never claims completeness
    item = snapshot_item(stack)
    assert item["window_start"].get("S") and int(item["page"]["N"]) == 3 and "lease_owner" not in item

    again = stack.invoke("poller", SNAPSHOT, env_overrides=ENV)  # still looping: one request, same error
    assert again["log_types"][f"{LT}/snapshot"]["status"] == "error"
    assert snapshot_requests() == 4

    wiz_sim.faults.clear()  # the API pages forward again: the same snapshot completes, whole
    as_of = now()
    snapshot_until_ok(stack, ENV)
    [snap_folder] = complete_snapshots(stack).values()
    assert {i for page in snap_folder["pages"].values() for i in page} == snapshot_truth(wiz_sim, as_of)


def test_snapshot_respects_the_project_filter(stack: Any, wiz_sim: Any) -> None:
    payments = "af52828c-4eb1-5c4e-847c-ebc3a5ead531"
    snapshot_until_ok(stack, {**ENV, "WIZ_PROJECT_IDS": payments})
    sent = [r.variables["filterBy"] for r in wiz_sim.stats.requests if r.operation == "configurationFindings"]
    assert sent and all(f["resource"] == {"projectId": [payments]} for f in sent)
    [snap] = complete_snapshots(stack).values()
    got = {i for page in snap["pages"].values() for i in page}
    wanted = {
        r["id"]
        for r in wiz_sim.store.records(LT)
        if any(p["id"] == payments for p in (r["resource"].get("projects") or []))
    }
    assert wanted and got == wanted


def test_snapshot_disabled_does_nothing(stack: Any, wiz_sim: Any) -> None:
    result = stack.invoke("poller", SNAPSHOT, env_overrides={**ENV, "WIZ_SNAPSHOT_LOG_TYPES": ""})
    assert result["log_types"][f"{LT}/snapshot"]["status"] == "disabled"
    assert not [r for r in wiz_sim.stats.requests if r.path == "/graphql"]
    assert not stack.archived_keys("snapshots/")


def test_next_day_takes_a_new_snapshot(stack: Any, wiz_sim: Any) -> None:
    snapshot_until_ok(stack, ENV)
    # Pretend the last complete snapshot was yesterday's: the next tick takes today's again.
    item = snapshot_item(stack)
    yesterday = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    item["committed_end"] = {"S": yesterday}
    item["version"] = {"N": str(int(item["version"]["N"]) + 1)}
    stack.dynamodb.put_item(TableName=stack.resources["state_table"], Item=item)
    added = wiz_sim.store.add_configuration_finding(analyzedAt=now() - timedelta(seconds=5), delay=0)
    before = len(wiz_sim.stats.requests)
    snapshot_until_ok(stack, ENV)
    assert len(wiz_sim.stats.requests) > before  # a new snapshot was taken
    [snap] = complete_snapshots(stack).values()  # today's slot: the same folder, written again
    assert added["id"] in {i for page in snap["pages"].values() for i in page}
