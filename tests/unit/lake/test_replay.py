"""wizwatch replay: the detector's path, windows in event (or archive) time, nothing sent anywhere."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import write_rules
from lake_fixtures import T0, ArchiveBuilder, audit_key, audit_record, graphql_page

from wizwatch import aws
from wizwatch.alerts import clock
from wizwatch_tools.lake.replay import Replayer, list_pages, load_engine, run_all
from wizwatch_tools.lake.replay_cmd import run_cmd
from wizwatch_tools.lake.sources import LocalArchive


@pytest.fixture(autouse=True)
def _no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replay must not create a single AWS client."""

    def refuse(service: str) -> Any:
        raise AssertionError(f"replay created an AWS client for {service}")

    monkeypatch.setattr(aws, "client", refuse)
    monkeypatch.setattr("boto3.client", refuse)


def _replay(
    root: Path, rules: Path, clock_kind: str = "event", baseline: Path | None = None
) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(
        archive=str(root), endpoint_url=None, start=None, end=None, log_type=None, rules=str(rules),
        baseline=str(baseline) if baseline else None, clock=clock_kind, quiet=False,
    )  # fmt: skip
    assert run_cmd(args, out, err) == 0, err.getvalue()
    return json.loads(out.getvalue().splitlines()[-1])


def test_dedup_windows_are_measured_in_event_time_or_in_archive_time(tmp_path: Path) -> None:
    """Two failed-login bursts 2 h apart, archived together by one backfill: live (and the archive
    clock) saw one 30-minute window, events happening 2 h apart make two."""
    rules = write_rules(tmp_path / "rules", ["test_failed_logins"])  # Threshold 5, 30 min, by IP
    builder = ArchiveBuilder(tmp_path / "a", rules)
    backfill = T0 + timedelta(hours=3)
    for n, start in enumerate((T0, T0 + timedelta(hours=2))):
        records = [
            audit_record(f"f{n}-{i}", start + timedelta(minutes=i), action="Login", status="FAILED")
            for i in range(5)
        ]
        builder.add(audit_key(start), graphql_page(records), processed_at=backfill, archived_at=backfill)
    live = [a["rule_id"] for a in builder.alerts]
    assert live == ["Test.FailedLogins"]
    assert _replay(tmp_path / "a", rules, "archive")["alerts"] == {"Test.FailedLogins": 1}
    event = _replay(tmp_path / "a", rules, "event")
    assert event["alerts"] == {"Test.FailedLogins": 2}
    assert (
        event["pages"] == 2 and event["events"] == 10 and event["invalid"] == 0 and event["rule_errors"] == {}
    )


def test_thresholds_count_only_events_inside_one_event_time_window(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules", ["test_failed_logins"])
    builder = ArchiveBuilder(tmp_path / "a", rules)
    at = T0 + timedelta(hours=5)
    for n, start in enumerate((T0, T0 + timedelta(minutes=45))):  # 3 + 2 failures, 45 min apart
        records = [audit_record(f"f{n}-{i}", start, action="Login", status="FAILED") for i in range(3 - n)]
        builder.add(audit_key(start), graphql_page(records), processed_at=at, archived_at=at)
    assert [a["event_count"] for a in builder.alerts] == [5]  # live: one backfill, one window
    assert _replay(tmp_path / "a", rules)["alerts"] == {}  # never 5 within 30 minutes


def test_errors_and_invalid_records_are_counted_and_the_clock_is_restored(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules", ["test_explodes", "test_delete_user"])
    builder = ArchiveBuilder(tmp_path / "a", rules)
    records = [audit_record("x1", T0, action="Explode"), audit_record("d1", T0), {"id": 1}]
    builder.add(audit_key(T0), graphql_page(records), processed_at=T0 + timedelta(minutes=20))
    (tmp_path / "a" / "raw" / "Wiz.Audit" / "dt=2026-11-22" / "junk").mkdir()
    junk = tmp_path / "a" / audit_key(T0 + timedelta(minutes=15))
    junk.parent.mkdir(parents=True)
    junk.write_bytes(b"\x1f\x8b not really gzip")  # a corrupt page: quarantined whole, the rest runs
    saved = clock.now
    result = _replay(tmp_path / "a", rules)
    assert clock.now is saved
    assert result["alerts"] == {"Test.DeleteUser": 1} and result["rule_errors"] == {"Test.Explodes": 1}
    assert result["invalid"] == 2 and result["events"] == 2 and result["pages"] == 2
    assert sorted(result) == ["alerts", "events", "invalid", "pages", "rule_errors"]


NEW_RULE = (
    """
    AnalysisType: rule
    RuleID: Test.AnyLogin
    Enabled: true
    Filename: test_any_login.py
    Severity: Low
    LogTypes: [Wiz.Audit]
    """,
    """
    def rule(event):
        return event.get("action") == "Login"

    def dedup(event):
        return event.get("id")
    """,
)


def test_a_rule_added_in_a_second_tree_shows_as_added_alerts(tmp_path: Path) -> None:
    base = write_rules(tmp_path / "base", ["test_delete_user", "test_failed_logins"])
    changed = shutil.copytree(base, tmp_path / "changed")
    (changed / "test_any_login.yml").write_text(textwrap.dedent(NEW_RULE[0]))
    (changed / "test_any_login.py").write_text(textwrap.dedent(NEW_RULE[1]))
    builder = ArchiveBuilder(tmp_path / "a", base)
    for h in range(3):
        start = T0 + timedelta(hours=h)
        records = [
            audit_record(f"d{h}", start),
            audit_record(f"l{h}", start, action="Login", status="FAILED"),
        ]
        builder.add(audit_key(start), graphql_page(records), processed_at=start + timedelta(minutes=20))
    result = _replay(tmp_path / "a", changed, baseline=base)
    assert result["alerts"] == {"Test.AnyLogin": 3, "Test.DeleteUser": 3}
    assert result["baseline"]["alerts"] == {"Test.DeleteUser": 3}
    assert result["diff"] == {"Test.AnyLogin": {"added": 3, "removed": 0}}
    assert _replay(tmp_path / "a", base, baseline=changed)["diff"] == {
        "Test.AnyLogin": {"added": 0, "removed": 3}
    }


def test_a_month_keeps_the_dedup_store_as_small_as_dynamodb_would(tmp_path: Path) -> None:
    """Markers live IDEMPOTENCY_HOURS and windows a day past their end; the replay's store sweeps
    them as TTL would, so its size follows the window of time, not the length of the archive."""
    rules = write_rules(tmp_path / "rules", ["test_delete_user"])
    root = tmp_path / "a"
    for day in range(30):
        for hour in range(0, 24, 2):
            start = T0 + timedelta(days=day, hours=hour)
            path = root / audit_key(start)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(graphql_page([audit_record(f"d{day}-{hour}", start)]))
    archive = LocalArchive(root)
    pages = list_pages(archive)
    assert len(pages) == 360 and pages == sorted(pages, key=lambda p: p.event_time)
    replayer = Replayer(load_engine(rules), idempotency_ttl_s=2 * 86_400)
    sizes = []
    for i in range(0, len(pages), 60):
        run_all(archive, pages[i : i + 60], [replayer])
        sizes.append(len(replayer.dynamodb))
    assert replayer.tally.alerts == {"Test.DeleteUser": 360}
    assert max(sizes) < 2 * 3 * 12 * 2 + 60 * 2  # ~3 days of (marker + window) items, not 30
    assert sizes[-1] <= sizes[2] + 24


def test_list_pages_filters_by_date_and_log_type(tmp_path: Path) -> None:
    root = tmp_path / "a"
    for day in range(3):
        path = root / audit_key(T0 + timedelta(days=day))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(graphql_page([]))
    pushed = root / "raw" / "Wiz.IssuesWebhook" / "dt=2026-11-23" / ("ab" * 32 + ".json.gz")
    pushed.parent.mkdir(parents=True)
    pushed.write_bytes(b"{}")
    archive = LocalArchive(root)
    start, end = datetime(2026, 11, 23, tzinfo=UTC).date(), datetime(2026, 11, 23, tzinfo=UTC).date()
    pages = list_pages(archive, start=start, end=end)
    assert sorted(p.log_type for p in pages) == ["Wiz.Audit", "Wiz.IssuesWebhook"]
    assert [p.log_type for p in list_pages(archive, log_types=["Wiz.Audit"])] == ["Wiz.Audit"] * 3
