"""Which closed time window a log type should fetch next (pure functions, no I/O).

Windows end ``settle`` seconds behind now, so records Wiz makes visible late still fall inside a
window that has not been fetched yet; each window starts ``overlap`` seconds before the previous
one ended, because late records are real and duplicates are acceptable while gaps are not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from wizwatch.logtypes import AUDIT
from wizwatch.poll.queries import QuerySpec

#: Stay this far inside the 180-day audit retention so the oldest entries do not expire mid-query.
RETENTION_MARGIN = timedelta(hours=1)


def floor_seconds(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(microsecond=0)


def next_window(
    *,
    log_type: str,
    committed_end: datetime | None,
    now: datetime,
    settle_seconds: int,
    overlap_seconds: int,
    max_window_seconds: int,
    initial_lookback_hours: float,
    retention_seconds: int | None = None,
) -> tuple[datetime, datetime] | None:
    """(start, end) of the next window to fetch, or None while there is nothing new and closed."""
    now = floor_seconds(now)
    horizon = now - timedelta(seconds=settle_seconds)
    if committed_end is None:
        start = floor_seconds(now - timedelta(hours=initial_lookback_hours))
        floor = start
    else:
        # At least 1 s back even with no overlap configured: the last window's `before` was
        # committed_end, and if Wiz's bounds are both exclusive a record exactly there is read
        # only by a window starting before it.
        start = committed_end - timedelta(seconds=max(overlap_seconds, 1))
        floor = committed_end
    if retention_seconds is not None:
        oldest = now - timedelta(seconds=retention_seconds) + RETENTION_MARGIN
        start = max(start, oldest)
        floor = max(floor, start)
    end = min(start + timedelta(seconds=max_window_seconds), horizon)
    if end <= floor:
        return None
    return start, end


def retention_for(log_type: str, audit_retention_seconds: int) -> int | None:
    return audit_retention_seconds if log_type == AUDIT else None


def rfc3339(t: datetime) -> str:
    """Filter timestamps: RFC 3339 UTC with milliseconds, as Wiz's own examples send them."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def add_project_filter(filter_by: dict[str, Any], key: str | None, project_ids: list[str]) -> None:
    """Restrict ``filter_by`` to ``project_ids`` under ``key``; a dotted key nests
    (``resource.projectId`` -> ``{"resource": {"projectId": [...]}}``)."""
    if not project_ids or not key:
        return
    *parents, leaf = key.split(".")
    node = filter_by
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = list(project_ids)


def build_variables(
    spec: QuerySpec,
    *,
    start: datetime,
    end: datetime,
    after: str,
    page_size: int,
    project_ids: list[str],
    project_filter_key: str | None,
    with_count: bool,
) -> dict[str, Any]:
    """The query variables of one page; ``filterBy`` is identical for every page of a window."""
    filter_by: dict[str, Any] = {spec.delta_field: {"after": rfc3339(start), "before": rfc3339(end)}}
    if spec.statuses:
        # Explicit on purpose: without it Wiz returns only OPEN findings.
        filter_by["status"] = list(spec.statuses)
    for key, value in spec.static_filter.items():
        filter_by[key] = value
    add_project_filter(filter_by, project_filter_key, project_ids)
    variables: dict[str, Any] = {
        "first": min(page_size, spec.page_size),
        "filterBy": filter_by,
        "withCount": with_count,
    }
    if after:
        variables["after"] = after
    return variables
