"""Closed windows: settle behind now, overlap with the last one, look-back and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wizwatch.poll.queries import SPECS
from wizwatch.poll.windows import build_variables, next_window, rfc3339

NOW = datetime(2026, 11, 22, 12, 0, 0, 123456, tzinfo=UTC)
T0 = NOW.replace(microsecond=0)


def win(committed: datetime | None, **kw: object) -> tuple[datetime, datetime] | None:
    args = dict(
        log_type="Wiz.Issues",
        committed_end=committed,
        now=NOW,
        settle_seconds=120,
        overlap_seconds=300,
        max_window_seconds=3600,
        initial_lookback_hours=24,
        retention_seconds=None,
    )
    args.update(kw)
    return next_window(**args)  # type: ignore[arg-type]


def test_first_run_looks_back_and_caps_the_window() -> None:
    assert win(None) == (T0 - timedelta(hours=24), T0 - timedelta(hours=23))


def test_next_window_overlaps_and_ends_settle_behind_now() -> None:
    committed = T0 - timedelta(minutes=10)
    assert win(committed) == (committed - timedelta(seconds=300), T0 - timedelta(seconds=120))


def test_nothing_when_caught_up() -> None:
    assert win(T0 - timedelta(seconds=120)) is None
    assert win(T0 - timedelta(seconds=60)) is None


def test_audit_lookback_clamped_to_retention() -> None:
    w = win(None, initial_lookback_hours=24 * 365, retention_seconds=180 * 86400, log_type="Wiz.Audit")
    assert w is not None
    assert w[0] == T0 - timedelta(days=180) + timedelta(hours=1)


def test_stale_committed_end_is_clamped_but_still_advances() -> None:
    old = T0 - timedelta(days=400)
    w = win(old, retention_seconds=180 * 86400)
    assert w is not None and w[0] == T0 - timedelta(days=180) + timedelta(hours=1) and w[1] > w[0]


def test_issue_variables_carry_statuses_and_project_filter() -> None:
    v = build_variables(
        SPECS["Wiz.Issues"],
        start=T0,
        end=T0 + timedelta(minutes=5),
        after="",
        page_size=500,
        project_ids=["p1", "p2"],
        project_filter_key="project",
        with_count=True,
    )
    assert v == {
        "first": 500,
        "filterBy": {
            "statusChangedAt": {"after": rfc3339(T0), "before": rfc3339(T0 + timedelta(minutes=5))},
            "status": ["OPEN", "IN_PROGRESS", "RESOLVED", "REJECTED"],
            "project": ["p1", "p2"],
        },
        "withCount": True,
    }


def test_finding_variables_always_list_statuses() -> None:
    v = build_variables(
        SPECS["Wiz.VulnerabilityFinding"],
        start=T0,
        end=T0,
        after="abc",
        page_size=900,
        project_ids=[],
        project_filter_key="projectId",
        with_count=False,
    )
    assert v["filterBy"]["status"] == ["OPEN", "RESOLVED", "IN_PROGRESS", "REJECTED"]
    assert "updatedAt" in v["filterBy"] and "projectId" not in v["filterBy"]
    assert v["after"] == "abc" and v["first"] == 500


def test_rfc3339_format() -> None:
    assert rfc3339(NOW) == "2026-11-22T12:00:00.123Z"


def test_next_window_starts_before_the_committed_end_even_without_overlap() -> None:
    # The last window's `before` was the committed end; if Wiz treats both bounds as exclusive, a
    # record exactly at that instant is only read if the next window starts before it.
    committed = T0 - timedelta(minutes=10)
    w = win(committed, overlap_seconds=0)
    assert w is not None and w[0] < committed < w[1]
