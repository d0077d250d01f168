"""The alert message: deterministic ids and staying under SNS's limit."""

from __future__ import annotations

from typing import Any

from wizwatch.alerts.message import (
    QUEUE_BUDGET_BYTES,
    AlertSpec,
    build_alert,
    dumps,
    make_alert_id,
)

CONTRACT_FIELDS = {
    "version",
    "alert_id",
    "alert_type",
    "rule_id",
    "rule_name",
    "title",
    "severity",
    "dedup_string",
    "dedup_period_minutes",
    "threshold",
    "log_types",
    "event_count",
    "first_event_time",
    "last_event_time",
    "created_at",
    "description",
    "runbook",
    "reference",
    "reports",
    "tags",
    "alert_context",
    "events",
    "error",
    "source",
}


def spec(**kw: Any) -> AlertSpec:
    base: dict[str, Any] = dict(
        alert_type="RULE",
        rule_id="R",
        rule_name="Rule",
        title="t",
        severity="HIGH",
        dedup_string="d",
        dedup_period_minutes=60,
        threshold=1,
        log_types=["Wiz.Audit"],
    )
    base.update(kw)
    return AlertSpec(**base)


def build(s: AlertSpec) -> dict[str, Any]:
    return build_alert(
        s,
        alert_id="x",
        event_count=1,
        first_event_time=None,
        last_event_time=None,
        created_at="2026-11-22T10:00:00.000Z",
    )


def test_alert_ids_are_deterministic_and_distinct() -> None:
    assert make_alert_id("RULE", "R", "d", 1) == make_alert_id("RULE", "R", "d", 1)
    assert (
        len(
            {
                make_alert_id("RULE", "R", "d", 1),
                make_alert_id("RULE", "R", "d", 2),
                make_alert_id("RULE_ERROR", "R", "d", 1),
                make_alert_id("RULE", "R", "e", 1),
            }
        )
        == 4
    )


def test_every_contract_field_is_present() -> None:
    assert set(build(spec())) >= CONTRACT_FIELDS


def test_events_are_trimmed_before_anything_else() -> None:
    events = [{"blob": "x" * 50_000, "n": i} for i in range(10)]
    alert = build(spec(events=events, alert_context={"a": 1}))
    assert len(dumps(alert)) <= QUEUE_BUDGET_BYTES
    assert 0 < len(alert["events"]) < 10 and alert["events_omitted"] == 10 - len(alert["events"])
    assert alert["alert_context"] == {"a": 1}


def test_the_largest_possible_alert_fits() -> None:
    huge = {"k": '"' * 204_800}  # the engine caps alert_context at 204,800 characters
    alert = build(
        spec(
            events=[{"e": '"' * 200_000}] * 10,
            alert_context=huge,
            title="t" * 1000,
            description="d" * 1000,
            runbook="r" * 1000,
            reference="f" * 1000,
            dedup_string="s" * 1000,
            error={"type": "E", "message": "m" * 100_000},
        )
    )
    assert len(dumps(alert)) <= QUEUE_BUDGET_BYTES
    assert "_error" in alert["alert_context"]
