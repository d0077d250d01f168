"""Every record the simulator holds for the covered period lands in the archive: many cold starts,
live traffic, late records, status changes; the token is fetched once; metrics every run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from poller_e2e_support import ALL, FAST, archived_versions, committed_end, missing, poll_until_ok


def test_completeness_over_cold_starts_with_live_traffic_and_late_records(stack: Any, wiz_sim: Any) -> None:
    env = {**FAST, "WIZ_LEASE_SECONDS": "30"}
    late: list[dict[str, Any]] = []
    # The covered period starts where the first run's look-back does (older backlog is not polled).
    covered_from = (
        datetime.now(UTC) - timedelta(hours=float(FAST["WIZ_INITIAL_LOOKBACK_HOURS"])) + timedelta(minutes=1)
    )
    issue: dict[str, Any] | None = None
    for _ in range(3):
        now = datetime.now(UTC)
        wiz_sim.store.generate(until=now)  # live traffic since the last run
        if issue is not None:  # a status change: a new version of an issue already archived
            wiz_sim.store.change_status("Wiz.Issues", issue["id"], "RESOLVED", now - timedelta(seconds=30))
        poll_until_ok(stack, {}, env, fresh=True)  # a cold start: a new process, nothing cached
        # Late records: stamped inside windows already committed, shown by the API only now.
        # Only a later run's overlap can pick them up.
        end = committed_end(stack, "Wiz.Audit")
        assert end is not None
        late.append(
            wiz_sim.store.add_audit(timestamp=end - timedelta(minutes=15), visible_at=datetime.now(UTC))
        )
        issue = wiz_sim.store.add_issue(
            statusChangedAt=end - timedelta(minutes=12), visible_at=datetime.now(UTC)
        )
        # A configuration finding that turns up late, and one re-assessed without a change.
        late.append(
            wiz_sim.store.add_configuration_finding(
                firstSeenAt=end - timedelta(minutes=14), visible_at=datetime.now(UTC)
            )
        )
        wiz_sim.store.reanalyze(late[-1]["id"], datetime.now(UTC) - timedelta(seconds=5))
        time.sleep(1.2)
    time.sleep(1.5)
    as_of = datetime.now(UTC)
    poll_until_ok(stack, {}, env, fresh=True)
    for log_type in ALL:
        assert missing(stack, wiz_sim, log_type, as_of, start=covered_from) == set(), log_type
    archived_ids = {
        rid
        for lt in ("Wiz.Audit", "Wiz.CloudConfigurationFinding")
        for rid, _ in archived_versions(stack, lt)
    }
    assert {rec["id"] for rec in late} <= archived_ids
    assert wiz_sim.stats.tokens_issued == 1  # five cold starts, one Login in the tenant's audit log


def test_every_run_emits_heartbeat_and_lag_per_log_type(stack: Any, wiz_sim: Any) -> None:
    stack.invoke("poller", {}, env_overrides=FAST)
    stack.recorder.clear()
    time.sleep(1.1)
    result = stack.invoke("poller", {}, env_overrides=FAST)  # a run with (almost) nothing new
    assert result["ok"], result
    blobs = stack.recorder.metrics["poller"]
    for log_type in ALL:
        (blob,) = [b for b in blobs if b.get("LogType") == log_type]
        assert blob["PollHeartbeat"] == [1.0]
        assert 0 <= blob["IngestionLagSeconds"][0] < 60
        assert blob["ApiRequests"][0] >= 1
    names = {name for _, name, _ in stack.recorder.metric_names("poller")}
    assert {
        "PollHeartbeat",
        "IngestionLagSeconds",
        "RecordsArchived",
        "PagesArchived",
        "ApiRequests",
    } <= names
    # The warm container reused its token: no TokenFetches blob on the second run.
    assert not [b for b in blobs if "TokenFetches" in b]
