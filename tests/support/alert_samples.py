"""A contract alert as the detector builds it (``alerts.message.build_alert``), for notifier tests."""

from __future__ import annotations

from typing import Any

from wizwatch.alerts.message import AlertSpec, build_alert


def contract_alert(alert_type: str = "RULE", *, alert_id: str = "c" * 32, **spec: Any) -> dict[str, Any]:
    """A valid alert; ``spec`` overrides :class:`AlertSpec` fields (RULE_ERROR gets an error)."""
    fields: dict[str, Any] = dict(
        alert_type=alert_type,
        rule_id="Wiz.Revoke.User.Sessions",
        rule_name="Wiz Revoke User Sessions",
        title="User sessions revoked",
        severity="MEDIUM",
        dedup_string="alice",
        dedup_period_minutes=60,
        threshold=1,
        log_types=["Wiz.Audit"],
        reports={"MITRE ATT&CK": ["TA0040:T1531"]},
        tags=["Wiz"],
        alert_context={"actor": "alice"},
        events=[{"id": "e1", "p_log_type": "Wiz.Audit"}],
        source={"raw_object": "s3://b/raw/Wiz.Audit/x.json.gz", "log_type": "Wiz.Audit"},
    )
    if alert_type == "RULE_ERROR":
        fields["error"] = {"type": "KeyError", "message": "'user'"}
    fields.update(spec)
    return build_alert(
        AlertSpec(**fields),
        alert_id=alert_id,
        event_count=1,
        first_event_time=None,
        last_event_time=None,
        created_at="2026-11-22T10:00:00.000Z",
    )
