"""WIZ_PROJECT_IDS restricts issues and findings to those projects (audit and detections are
tenant-wide)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from poller_e2e_support import FAST, archived_versions, committed_end, now

PAYMENTS = "af52828c-4eb1-5c4e-847c-ebc3a5ead531"


def _t(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def _in_payments(record: dict[str, Any]) -> bool:
    return any(p["id"] == PAYMENTS for p in (record.get("projects") or []))


def test_project_ids_restrict_issues_and_findings(stack: Any, wiz_sim: Any) -> None:
    as_of = now()
    result = stack.invoke("poller", {}, env_overrides={**FAST, "WIZ_PROJECT_IDS": PAYMENTS})
    assert all(v["status"] == "ok" for v in result["log_types"].values()), result
    requests = [r for r in wiz_sim.stats.requests if r.path == "/graphql"]
    sent = [r.variables["filterBy"] for r in requests]
    assert all(f["project"] == [PAYMENTS] for f in sent if "statusChangedAt" in f)  # issues
    for r in requests:
        if r.operation == "vulnerabilityFindings":
            assert r.variables["filterBy"]["projectId"] == [PAYMENTS]
        elif r.operation == "configurationFindings":  # a nested key (resource.projectId)
            assert r.variables["filterBy"]["resource"] == {"projectId": [PAYMENTS]}
    assert not any("project" in f or "projectId" in f for f in sent if "timestamp" in f)  # audit
    # Detections: tenant-wide, no peer shows a project filter for them.
    detections = [r.variables["filterBy"] for r in requests if r.operation == "detections"]
    assert detections and not any("project" in f or "projectId" in f for f in detections)
    for log_type, field, operation in (
        ("Wiz.Issues", "statusChangedAt", "issuesV2"),
        ("Wiz.VulnerabilityFinding", "updatedAt", "vulnerabilityFindings"),
    ):
        first = min(_t(r.variables["filterBy"][field]["after"]) for r in requests if r.operation == operation)
        end = committed_end(stack, log_type)
        assert end is not None
        records = [r for r in wiz_sim.store.records(log_type, now=as_of) if first <= _t(r[field]) < end]
        got = {rid for rid, _ in archived_versions(stack, log_type)}
        wanted = {r["id"] for r in records if _in_payments(r)}
        assert wanted, f"no {log_type} in the project: the test proves nothing"
        assert wanted <= got
        assert not got & {r["id"] for r in records if not _in_payments(r)}
