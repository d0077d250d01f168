"""The lake on a local-stack run: the archive the real pipeline wrote is queried and replayed.

Query: count(*) of wiz_audit equals the audit records the poller archived. Replay (the detector's
own path, in archive time) over the bucket on the moto server and over a kept copy of it reports
exactly the alerts per rule that SNS delivered live; a rule added in a second tree shows as added.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

from poller_e2e_support import FAST, now, poll_until_ok

from wizwatch_tools.lake import query as lake_query
from wizwatch_tools.lake.replay_cmd import DEFAULT_RULES, run_cmd
from wizwatch_tools.lake.sources import LocalArchive, copy_to_folder, open_archive
from wizwatch_tools.localstack.invoke import CrashResult

EVERY_AUDIT = (
    """
    AnalysisType: rule
    RuleID: Test.EveryAuditEntry
    Enabled: true
    Filename: test_every_audit_entry.py
    Severity: Info
    LogTypes: [Wiz.Audit]
    DedupPeriodMinutes: 60
    """,
    """
    def rule(event):
        return True

    def dedup(event):
        return event.get("action")
    """,
)


def _replay(archive: str, endpoint: str | None, **extra: Any) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(
        archive=archive, endpoint_url=endpoint, start=None, end=None, log_type=None, rules=str(DEFAULT_RULES),
        baseline=None, clock="archive", quiet=True,
    )  # fmt: skip
    for k, v in extra.items():
        setattr(args, k, v)
    assert run_cmd(args, out, err) == 0, err.getvalue()
    return json.loads(out.getvalue().splitlines()[-1])


def test_query_and_replay_over_what_the_pipeline_archived(stack: Any, tmp_path: Path) -> None:
    summary = stack.run_pipeline()
    assert stack.errors == []
    audit_records = summary["poller"]["Wiz.Audit"]["log_types"]["Wiz.Audit"]["records"]
    assert audit_records > 0
    live = stack.received_alerts()
    delivered = Counter(a["rule_id"] for a in live if a["alert_type"] == "RULE")
    delivered_errors = Counter(a["rule_id"] for a in live if a["alert_type"] == "RULE_ERROR")
    assert delivered

    bucket = stack.resources["bucket"]
    s3_archive = open_archive(f"s3://{bucket}", endpoint_url=stack.endpoint)
    with lake_query.run(s3_archive, "SELECT count(*), count(DISTINCT p_source_key) FROM wiz_audit") as result:
        ((count, pages),) = [r for b in result.batches() for r in b]
    assert count == audit_records
    assert pages == len(stack.archived_keys("raw/Wiz.Audit/"))

    # the same alerts, per rule, as the live pipeline delivered through SNS (dedup windows included)
    over_s3 = _replay(f"s3://{bucket}", stack.endpoint)
    assert over_s3["alerts"] == dict(delivered)
    assert over_s3["pages"] == len(stack.archived_keys("raw/"))
    kept = tmp_path / "archive"
    copy_to_folder(stack.s3, bucket, kept)
    over_folder = _replay(str(kept), None)
    assert over_folder == over_s3
    assert sum(delivered_errors.values()) == 0 or over_s3["rule_errors"]

    # the alerts table answers "what alerted, on what": every delivered alert id is in it
    with lake_query.run(LocalArchive(kept), "SELECT DISTINCT p_alert_id FROM alerts") as result:
        ids = {r[0] for b in result.batches() for r in b}
    assert {a["alert_id"] for a in live} <= ids

    # a rule added in a second tree shows up as added alerts, nothing else changes
    changed = shutil.copytree(DEFAULT_RULES, tmp_path / "changed")
    (changed / "test_every_audit_entry.yml").write_text(textwrap.dedent(EVERY_AUDIT[0]))
    (changed / "test_every_audit_entry.py").write_text(textwrap.dedent(EVERY_AUDIT[1]))
    compared = _replay(str(kept), None, rules=str(changed), baseline=str(DEFAULT_RULES))
    assert set(compared["diff"]) == {"Test.EveryAuditEntry"}
    added = compared["diff"]["Test.EveryAuditEntry"]
    assert added["added"] == compared["alerts"]["Test.EveryAuditEntry"] > 0 and added["removed"] == 0
    assert compared["baseline"]["alerts"] == dict(delivered)


def test_the_posture_table_is_the_complete_snapshot_never_an_interrupted_one(
    stack: Any, wiz_sim: Any
) -> None:
    """A snapshot killed after its last page but before its manifest is invisible to the posture
    table; once a later run writes the manifest, the table is exactly what the API showed."""
    lt = "Wiz.CloudConfigurationFinding"
    snapshot = {"log_type": lt, "snapshot": True}
    env = {**FAST, "WIZ_PAGE_SIZE": "25", "WIZ_LEASE_SECONDS": "1"}
    sql = "SELECT id, p_snapshot_id, p_source_key FROM wiz_cloud_configuration_posture"
    archive = open_archive(f"s3://{stack.resources['bucket']}", endpoint_url=stack.endpoint)

    as_of = now()
    crashed = stack.invoke(
        "poller",
        snapshot,
        env_overrides=env,
        fresh_process=True,
        crash_at="before:wizwatch.archive.writer.put_json",
    )
    assert isinstance(crashed, CrashResult), crashed
    pages = [k for k in stack.archived_keys("snapshots/") if k.endswith(".json.gz")]
    assert len(pages) > 2 and not [
        k for k in stack.archived_keys("snapshots/") if k.endswith("manifest.json")
    ]
    with lake_query.run(archive, sql) as result:
        assert result.cursor.fetchall() == []
        assert list(result.reads[0].skipped.values()) == ["no manifest.json (being taken, or abandoned)"]

    time.sleep(1.2)  # the crashed run's lease lapses
    poll_until_ok(stack, snapshot, env)
    truth = {r["id"] for r in wiz_sim.store.records(lt, visible_only=True, now=as_of) if not r.get("deleted")}
    with lake_query.run(
        open_archive(f"s3://{stack.resources['bucket']}", endpoint_url=stack.endpoint), sql
    ) as result:
        got = [r for b in result.batches() for r in b]
    assert len(truth) > 50 and {str(r[0]) for r in got} == truth and len(got) == len(truth)  # id: UUID
    [manifest] = [k for k in stack.archived_keys("snapshots/") if k.endswith("manifest.json")]
    assert {r[1] for r in got} == {manifest.split("/")[-2]}
    assert {r[2] for r in got} == set(pages)
