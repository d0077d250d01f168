"""Correlation rules in production, through the moto server and the real handlers.

The shipped rule tree runs; a GLOBAL_ADMIN user created by alice and, 10 minutes later (event
time) on another page, an IP-restriction change by alice make one alert of the Sequence rule
Wizwatch.Correlation.Admin.Created.Then.IP.Restrictions: the first page's signal is read back
from the dedup table when the second page arrives. A redelivered page alerts nothing new; bob's
change after alice's admin does not correlate.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from detector_fixtures import T0, audit, delivered, key_for, page_body

from wizwatch.alerts import clock

RULE = "Wizwatch.Correlation.Admin.Created.Then.IP.Restrictions"


@pytest.fixture
def det(stack: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(clock, "now", lambda: T0)
    return stack


def _entry(id_: str, action: str, user: str, minute: int) -> dict[str, Any]:
    record = audit(id_, action=action)
    record["timestamp"] = f"2026-11-22T09:{minute:02d}:00.000Z"
    record["user"] = {"id": user, "name": user}
    if action == "CreateUser":
        record["actionParameters"] = {"input": {"email": f"new-{id_}@example.com", "role": "GLOBAL_ADMIN"}}
    return record


def test_a_sequence_across_pages_alerts_once_through_the_normal_alert_path(det: Any) -> None:
    bucket = det.resources["bucket"]
    det.s3.put_object(
        Bucket=bucket, Key=key_for(1), Body=page_body([_entry("a1", "CreateUser", "alice", 10)])
    )
    first = delivered(det)
    assert RULE not in {a["rule_id"] for a in first}
    assert "Wizwatch.Audit.Global.Admin.User.Created" in {a["rule_id"] for a in first}

    page2 = page_body(
        [_entry("b1", "UpdateIPRestrictions", "bob", 15), _entry("a2", "UpdateIPRestrictions", "alice", 20)]
    )
    det.s3.put_object(Bucket=bucket, Key=key_for(2), Body=page2)
    second = delivered(det)
    (corr,) = [a for a in second if a["rule_id"] == RULE]
    assert corr["alert_type"] == "RULE" and corr["severity"] == "CRITICAL"
    assert corr["dedup_string"] == "alice"
    members = sorted((s["member"], s["rule_id"]) for s in corr["alert_context"]["signals"])
    assert members == [
        ("IPRestrictionChange", "Wiz.Update.IP.Restrictions"),
        ("NewAdmin", "Wizwatch.Audit.Global.Admin.User.Created"),
    ]
    assert [e["id"] for e in corr["events"]] == ["a2"]  # the event that completed it, on this page
    assert json.dumps(corr)  # contract alert: plain JSON

    # The same page again (an overlapping poll): nothing new.
    det.s3.put_object(Bucket=bucket, Key=key_for(3), Body=page2)
    assert [a for a in delivered(det) if a["rule_id"] == RULE] == []
