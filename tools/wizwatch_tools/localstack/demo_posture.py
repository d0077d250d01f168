"""The demo's posture-snapshot section: the newest complete snapshot read back from the archive.

A snapshot is complete when its folder holds a ``manifest.json`` that counts its pages (see
``wizwatch.poll.snapshot`` and ``wizwatch_tools.lake.posture``, shared with ``wizwatch query``);
"what is misconfigured right now" is its findings that are OPEN with result FAIL.
"""

from __future__ import annotations

import gzip
from collections import Counter
from typing import Any

import orjson
from rich.table import Table

from wizwatch_tools.lake.posture import latest_complete
from wizwatch_tools.lake.sources import S3Archive

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE")


def latest_snapshot(stack: Any) -> tuple[dict[str, Any], list[Any]]:
    """(manifest, findings) of the newest complete snapshot, as the posture table defines it
    (``wizwatch_tools.lake.posture``); ({}, []) when there is none."""
    archive = S3Archive(stack.resources["bucket"], "", stack.s3)
    snapshot = latest_complete(archive).snapshot
    if snapshot is None:
        return {}, []
    findings: list[Any] = []
    for _key, body, _ in archive.get_many(snapshot.pages):
        findings += orjson.loads(gzip.decompress(body))["data"]["configurationFindings"]["nodes"]
    return dict(snapshot.manifest), findings


def posture_table(stack: Any) -> Table | None:
    """Misconfigured-now counts by severity from the newest complete snapshot (None: no snapshot)."""
    manifest, findings = latest_snapshot(stack)
    if not manifest:
        return None
    live = [f for f in findings if f.get("status") == "OPEN" and f.get("result") == "FAIL"]
    by_severity = Counter(str(f.get("severity")) for f in live)
    table = Table(
        title=(
            f"Posture snapshot {manifest['snapshot_id']}: {len(findings)} findings in "
            f"{manifest['pages']} page(s); misconfigured right now (OPEN + FAIL)"
        ),
        title_justify="left",
    )
    table.add_column("severity")
    table.add_column("findings", justify="right")
    table.add_column("e.g.")
    for sev in SEVERITIES:
        if by_severity.get(sev):
            example = next(f for f in live if f.get("severity") == sev)
            name = (example.get("rule") or {}).get("name") or example.get("name") or ""
            table.add_row(sev, str(by_severity[sev]), name[:70])
    return table
