"""Helpers for the poller's end-to-end tests (no tests here): ground truth vs the archive."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from wizwatch.archive.keys import parse_raw_key
from wizwatch.poll.queries import SPECS

#: Fast settings for tests: a high limiter rate, short settle, windows as wide as the history,
#: an overlap longer than the simulator's latest records (20 min), quick back-offs.
FAST = {
    "WIZ_REQUESTS_PER_SECOND": "50",
    "WIZ_SETTLE_SECONDS": "2",
    "WIZ_OVERLAP_SECONDS": "1300",
    "WIZ_INITIAL_LOOKBACK_HOURS": "6.5",
    "WIZ_MAX_WINDOW_SECONDS": "14400",
    "WIZ_RETRY_BASE_SECONDS": "0.05",
    "WIZ_RETRY_MAX_SECONDS": "0.5",
    "WIZ_TIME_RESERVE_SECONDS": "2",
}

ALL = ("Wiz.Audit", "Wiz.Issues", "Wiz.VulnerabilityFinding", "Wiz.CloudConfigurationFinding")


def _time_field(log_type: str) -> str:
    return SPECS[log_type].record_time_field


def archived_versions(stack: Any, log_type: str) -> set[tuple[str, str]]:
    """(id, delta time) of every record in the raw archive for ``log_type``."""
    spec = SPECS[log_type]
    out: set[tuple[str, str]] = set()
    for key in stack.archived_keys(f"raw/{log_type}/"):
        parse_raw_key(key)  # every object under raw/ has a contract key
        body = stack.s3.get_object(Bucket=stack.resources["bucket"], Key=key)["Body"].read()
        page = orjson.loads(gzip.decompress(body))
        for node in page["data"][spec.connection]["nodes"]:
            out.add((node["id"], _norm(node[spec.record_time_field])))
    return out


def _norm(ts: str) -> str:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).isoformat()


def committed_end(stack: Any, log_type: str) -> datetime | None:
    item = stack.dynamodb.get_item(
        TableName=stack.resources["state_table"], Key={"pk": {"S": f"cursor#{log_type}"}}, ConsistentRead=True
    ).get("Item")
    if not item or "S" not in item.get("committed_end", {}):
        return None
    return datetime.fromisoformat(item["committed_end"]["S"].replace("Z", "+00:00"))


def cursor_item(stack: Any, log_type: str) -> dict[str, Any]:
    return stack.dynamodb.get_item(
        TableName=stack.resources["state_table"], Key={"pk": {"S": f"cursor#{log_type}"}}, ConsistentRead=True
    ).get("Item", {})


def missing(
    stack: Any, sim: Any, log_type: str, as_of: datetime, start: datetime | None = None
) -> set[tuple[str, str]]:
    """Records the API showed at ``as_of`` (taken just before the last poll started) with a delta
    time in [``start``, committed end) that the archive lacks: must be empty. ``start`` defaults
    to where the first run's look-back began (older backlog is not in the covered period)."""
    end = committed_end(stack, log_type)
    assert end is not None, f"{log_type} never committed a window"
    if start is None:
        start = as_of - timedelta(hours=float(FAST["WIZ_INITIAL_LOOKBACK_HOURS"])) + timedelta(minutes=2)
    truth = {
        (r["id"], _norm(r[_time_field(log_type)]))
        for r in sim.store.records(log_type, start=start, end=end, visible_only=True, now=as_of)
    }
    assert truth, f"no ground truth for {log_type}: the test proves nothing"
    return truth - archived_versions(stack, log_type)


def now() -> datetime:
    return datetime.now(UTC)


def poll_until_ok(
    stack: Any, event: dict[str, Any], env: dict[str, str], *, fresh: bool = True, tries: int = 5
) -> dict[str, Any]:
    """Invoke until every selected log type reports ok (a crashed run's lease may need to lapse)."""
    import time

    result: dict[str, Any] = {}
    for _ in range(tries):
        result = stack.invoke("poller", event, env_overrides=env, fresh_process=fresh)
        if isinstance(result, dict) and all(v["status"] == "ok" for v in result["log_types"].values()):
            return result
        time.sleep(float(env.get("WIZ_LEASE_SECONDS", "1")) + 0.2)
    raise AssertionError(f"poller never finished cleanly: {result}")


def snapshot_folders(
    stack: Any, log_type: str = "Wiz.CloudConfigurationFinding"
) -> dict[str, dict[str, Any]]:
    """snapshot folder -> {"pages": {page number: node ids}, "manifest": dict | None}."""
    bucket = stack.resources["bucket"]
    out: dict[str, dict[str, Any]] = {}
    for key in stack.archived_keys(f"snapshots/{log_type}/"):
        folder, _, name = key.rpartition("/")
        entry = out.setdefault(folder, {"pages": {}, "manifest": None})
        body = stack.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if name == "manifest.json":
            entry["manifest"] = orjson.loads(body)
        else:
            page = orjson.loads(gzip.decompress(body))
            entry["pages"][int(name[5:10])] = [
                n["id"] for n in page["data"]["configurationFindings"]["nodes"]
            ]
    return out


def snapshot_item(stack: Any, log_type: str = "Wiz.CloudConfigurationFinding") -> dict[str, Any]:
    return cursor_item(stack, f"{log_type}/snapshot")
