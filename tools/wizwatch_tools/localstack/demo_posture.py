"""The demo's posture-snapshot section: the newest complete snapshot read back from the archive.

A snapshot is complete when its folder holds ``manifest.json`` (see ``wizwatch.poll.snapshot``);
"what is misconfigured right now" is its findings that are OPEN with result FAIL.
"""

from __future__ import annotations

import gzip
from collections import Counter
from typing import Any

import orjson
from rich.table import Table

from wizwatch.archive.keys import SNAPSHOT_MANIFEST, SNAPSHOT_PREFIX
from wizwatch.logtypes import CLOUD_CONFIGURATION_FINDING

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE")


def latest_snapshot(
    stack: Any, log_type: str = CLOUD_CONFIGURATION_FINDING
) -> tuple[dict[str, Any], list[Any]]:
    """(manifest, findings) of the newest complete snapshot; ({}, []) when there is none."""
    keys = stack.archived_keys(f"{SNAPSHOT_PREFIX}{log_type}/")
    manifests = sorted(k for k in keys if k.endswith("/" + SNAPSHOT_MANIFEST))
    if not manifests:
        return {}, []
    # Folder names are the slot's timestamp, so the newest sorts last within and across days.
    newest = max(manifests, key=lambda k: k.rsplit("/", 2)[-2])
    bucket = stack.resources["bucket"]
    manifest = orjson.loads(stack.s3.get_object(Bucket=bucket, Key=newest)["Body"].read())
    folder = newest[: -len(SNAPSHOT_MANIFEST)]
    findings: list[Any] = []
    for key in sorted(k for k in keys if k.startswith(folder) and k.endswith(".json.gz")):
        page = orjson.loads(gzip.decompress(stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()))
        findings += page["data"]["configurationFindings"]["nodes"]
    return manifest, findings


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
