"""A small Panther-format rule set and audit records for the detector's tests (unit and e2e)."""

from __future__ import annotations

import gzip
import json
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wizwatch.archive.keys import raw_key

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)

RULES = {
    "test_delete_user": (
        """
        AnalysisType: rule
        RuleID: Test.DeleteUser
        DisplayName: Test user deleted
        Enabled: true
        Filename: test_delete_user.py
        Severity: High
        LogTypes: [Wiz.Audit]
        Runbook: Check who deleted the user.
        Reference: https://example.com/runbook
        Reports: {MITRE ATT&CK: ["TA0040:T1531"]}
        Tags: [test]
        DedupPeriodMinutes: 60
        """,
        """
        def rule(event):
            return event.get("status") == "SUCCESS" and event.get("action") == "DeleteUser"

        def title(event):
            return f"User deleted by {event.deep_get('user', 'name', default='unknown')}"

        def dedup(event):
            return event.get("id")

        def alert_context(event):
            return {"action": event.get("action"), "actor": event.deep_get("user", "name"),
                    "source_ip": event.get("sourceIP")}
        """,
    ),
    "test_failed_logins": (
        """
        AnalysisType: rule
        RuleID: Test.FailedLogins
        DisplayName: Repeated failed logins
        Enabled: true
        Filename: test_failed_logins.py
        Severity: Medium
        LogTypes: [Wiz.Audit]
        DedupPeriodMinutes: 30
        Threshold: 5
        """,
        """
        def rule(event):
            return event.get("action") == "Login" and event.get("status") == "FAILED"

        def dedup(event):
            return event.get("sourceIP")
        """,
    ),
    "test_explodes": (
        """
        AnalysisType: rule
        RuleID: Test.Explodes
        Enabled: true
        Filename: test_explodes.py
        Severity: Low
        LogTypes: [Wiz.Audit]
        """,
        """
        def rule(event):
            if event.get("action") == "Explode":
                raise RuntimeError("boom")
            return False
        """,
    ),
    "test_by_ip": (
        """
        AnalysisType: rule
        RuleID: Test.UpdatesByIp
        Enabled: true
        Filename: test_by_ip.py
        Severity: Info
        LogTypes: [Wiz.Audit]
        """,
        """
        def rule(event):
            return event.get("action") == "UpdateUser"

        def title(event):
            return f"User updates from {event.get('sourceIP')}"

        def dedup(event):
            return event.get("sourceIP")
        """,
    ),
    "test_huge": (
        """
        AnalysisType: rule
        RuleID: Test.Huge
        Enabled: true
        Filename: test_huge.py
        Severity: Critical
        LogTypes: [Wiz.Audit]
        DedupPeriodMinutes: 60
        Threshold: 1
        Description: A rule whose alerts are as large as an alert can be.
        """,
        """
        def rule(event):
            return event.get("action") == "Huge"

        def title(event):
            return '"' * 2000

        def dedup(event):
            return "huge"

        def description(event):
            return '"' * 2000

        def runbook(event):
            return '\\\\' * 2000

        def alert_context(event):
            return {"blob": '"' * 204_700}
        """,
    ),
}


def write_rules(directory: Path, names: list[str] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (spec, code) in RULES.items():
        if names is None or name in names:
            (directory / f"{name}.yml").write_text(textwrap.dedent(spec))
            (directory / f"{name}.py").write_text(textwrap.dedent(code))
    return directory


def audit(
    id_: str, action: str = "DeleteUser", status: str = "SUCCESS", ip: str = "1.2.3.4"
) -> dict[str, Any]:
    return {
        "id": id_,
        "action": action,
        "requestId": f"req-{id_}",
        "status": status,
        "timestamp": "2026-11-22T09:30:00.123Z",
        "actionParameters": {},
        "userAgent": "pytest",
        "sourceIP": ip,
        "serviceAccount": None,
        "user": {"id": "u1", "name": "alice@example.com"},
    }


def page_body(records: list[Any]) -> bytes:
    return gzip.compress(json.dumps({"data": {"auditLogEntries": {"nodes": records}}}).encode())


def key_for(page: int = 1, minute: int = 0) -> str:
    start = T0 - timedelta(hours=1) + timedelta(minutes=minute)
    return raw_key("Wiz.Audit", start, start + timedelta(minutes=15), page)
