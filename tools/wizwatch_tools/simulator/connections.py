"""The Relay connections: filters, Wiz-like defaults, ordering, limits and pagination.

Semantics chosen where Wiz's are not public (the poller must not depend on them):

- ``DateFilter``: ``after`` is inclusive, ``before`` exclusive, so windows [a, b) [b, c) tile.
- Order: audit newest ``timestamp`` first; issues newest ``statusChangedAt`` first unless
  ``orderBy``; findings newest ``updatedAt`` first unless ``orderBy``; ties by id.
- Findings without a ``status`` filter return only OPEN findings (as at Wiz; assumed the same
  for configuration findings). Configuration findings include deleted ones unless
  ``includeDeleted: false``; their project filter is ``resource.projectId`` (or ``projectId``).
- Detections: any ``filterBy`` without ``type`` serves only GENERATED_THREAT (as at Wiz, found by
  Elastic's defend_v2); newest ``updatedAt`` first.
- ``first`` above the connection's maximum fails with Wiz's message
  ``'first' must be less than or equal to 500``; ``first`` omitted means 50.
- Audit: one query yields at most 10,000 entries; the page reaching the cap says
  ``hasNextPage: false``. ``totalCount`` is the honest number of matches, beyond the cap too.
- Cursors are offsets into the result set as computed at each request, so records that appear,
  disappear or move during pagination shift pages (as with any offset pagination).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, DETECTIONS, ISSUES, VULNERABILITY_FINDING
from wizwatch_tools.simulator.cursors import Cursor, CursorCodec, fingerprint
from wizwatch_tools.simulator.errors import ApiError
from wizwatch_tools.simulator.store import RecordStore
from wizwatch_tools.simulator.versions import Version

CONNECTION_LOG_TYPE = {
    "auditLogEntries": AUDIT,
    "issuesV2": ISSUES,
    "vulnerabilityFindings": VULNERABILITY_FINDING,
    "detections": DETECTIONS,
    "configurationFindings": CLOUD_CONFIGURATION_FINDING,
}
#: The scope a service account needs to read each connection.
CONNECTION_SCOPE = {
    "auditLogEntries": "admin:audit",
    "issuesV2": "read:issues",
    "vulnerabilityFindings": "read:vulnerabilities",
    "detections": "read:detections",
    "configurationFindings": "read:cloud_configuration",
}

_SEVERITY_RANK = {"INFORMATIONAL": 0, "NONE": 0, "LOW": 1, "MEDIUM": 2, "HIGH": 3, "CRITICAL": 4}


@dataclass
class Limits:
    """Page-size limits, the audit result cap and cursor lifetime (all adjustable per test)."""

    max_first: dict[str, int] = field(
        default_factory=lambda: {
            "auditLogEntries": 500,
            "issuesV2": 500,
            "vulnerabilityFindings": 5000,
            "detections": 500,
            "configurationFindings": 500,
        }
    )
    default_first: int = 50
    audit_result_cap: int = 10_000
    cursor_ttl_seconds: float | None = None


Predicate = Callable[[Version], bool]


def _date_check(node_field: str, window: dict[str, Any] | None) -> Predicate | None:
    if not window:
        return None
    lo: datetime | None = window.get("after")
    hi: datetime | None = window.get("before")

    def check(v: Version) -> bool:
        at = v.dates.get(node_field)
        if at is None:
            return False
        return (lo is None or at >= lo) and (hi is None or at < hi)

    return check


def _in(values: list[Any] | None, get: Callable[[dict[str, Any]], Any]) -> Predicate | None:
    if not values:
        return None
    wanted = set(values)
    return lambda v: get(v.record) in wanted


def _projects(values: list[str] | None) -> Predicate | None:
    if not values:
        return None
    wanted = set(values)
    return lambda v: any(p.get("id") in wanted for p in (v.record.get("projects") or ()))


def _resource_projects(values: list[str] | None) -> Predicate | None:
    if not values:
        return None
    wanted = set(values)
    return lambda v: any(
        p.get("id") in wanted for p in ((v.record.get("resource") or {}).get("projects") or ())
    )


def _actor_in(key: str, values: list[str] | None) -> Predicate | None:
    if not values:
        return None
    wanted = set(values)

    def check(v: Version) -> bool:
        actor = v.record.get(key) or {}
        return actor.get("id") in wanted or actor.get("name") in wanted

    return check


def _predicate(connection: str, f: dict[str, Any]) -> Predicate:
    checks: list[Predicate | None]
    if connection == "auditLogEntries":
        checks = [
            _date_check("timestamp", f.get("timestamp")),
            _in(f.get("action"), lambda r: r.get("action")),
            _in(f.get("status"), lambda r: r.get("status")),
            _actor_in("user", f.get("user")),
            _actor_in("serviceAccount", f.get("serviceAccount")),
        ]
    elif connection == "issuesV2":
        checks = [
            _date_check("statusChangedAt", f.get("statusChangedAt")),
            _date_check("createdAt", f.get("createdAt")),
            _date_check("resolvedAt", f.get("resolvedAt")),
            _in(f.get("id"), lambda r: r.get("id")),
            _in(f.get("status"), lambda r: r.get("status")),
            _in(f.get("severity"), lambda r: r.get("severity")),
            _in(f.get("type"), lambda r: r.get("type")),
            _projects((f.get("project") or []) + (f.get("projectId") or [])),
        ]
    elif connection == "detections":
        types = (f.get("type") or {}).get("equals")
        if not types and f:
            # Wiz's default (Elastic defend_v2): any filterBy without a type list serves only
            # GENERATED_THREAT, silently dropping MATCH_ONLY detections.
            types = ["GENERATED_THREAT"]
        checks = [
            _date_check("updatedAt", f.get("updatedAt")),
            _date_check("createdAt", f.get("createdAt")),
            _in(f.get("id"), lambda r: r.get("id")),
            _in(types, lambda r: r.get("type")),
            _in((f.get("severity") or {}).get("equals"), lambda r: r.get("severity")),
        ]
    elif connection == "configurationFindings":
        checks = [
            _date_check("updatedAt", f.get("updatedAt")),
            _date_check("analyzedAt", f.get("analyzedAt")),
            _date_check("firstSeenAt", f.get("firstSeenAt")),
            _in(f.get("id"), lambda r: r.get("id")),
            _in(f.get("status") or ["OPEN"], lambda r: r.get("status")),
            _in(f.get("result"), lambda r: r.get("result")),
            _in(f.get("severity"), lambda r: r.get("severity")),
            None if f.get("includeDeleted", True) else (lambda v: not v.record.get("deleted")),
            _resource_projects(
                ((f.get("resource") or {}).get("projectId") or []) + (f.get("projectId") or [])
            ),
        ]
    else:
        checks = [
            _date_check("updatedAt", f.get("updatedAt")),
            _date_check("firstDetectedAt", f.get("firstSeenAt")),
            _date_check("resolvedAt", f.get("resolvedAt")),
            _in(f.get("id"), lambda r: r.get("id")),
            # Wiz's default: without an explicit status list only OPEN findings come back.
            _in(f.get("status") or ["OPEN"], lambda r: r.get("status")),
            _in(f.get("severity"), lambda r: r.get("CVSSSeverity")),
            _projects((f.get("project") or []) + (f.get("projectId") or [])),
        ]
    active = [c for c in checks if c is not None]
    return lambda v: all(c(v) for c in active)


def _ts(value: datetime | None) -> float:
    return value.timestamp() if value is not None else float("-inf")


def _sort_key(connection: str, order: dict[str, Any] | None) -> Callable[[Version], Any]:
    """Newest first by the delta field, unless ``orderBy`` says otherwise; ties by id."""
    if not order:
        return lambda v: (-v.time.timestamp(), v.rid)
    sign = -1 if order.get("direction") == "DESC" else 1
    fld = order.get("field")
    if fld == "SEVERITY":
        sev_field = "CVSSSeverity" if connection == "vulnerabilityFindings" else "severity"
        return lambda v: (sign * _SEVERITY_RANK.get(v.record.get(sev_field) or "", -1), v.rid)
    date_field = {
        "CREATED_AT": "createdAt",
        "RESOLVED_AT": "resolvedAt",
        "FIRST_DETECTED_AT": "firstDetectedAt",
        "UPDATED_AT": "updatedAt",
        "FIRST_SEEN_AT": "firstSeenAt",
        "ANALYZED_AT": "analyzedAt",
    }[str(fld)]
    return lambda v: (sign * _ts(v.dates.get(date_field)), v.rid)


class ConnectionResolver:
    """Answers one connection field: the page of records plus ``pageInfo`` and ``totalCount``."""

    def __init__(self, store: RecordStore, codec: CursorCodec, limits: Limits) -> None:
        self.store = store
        self.codec = codec
        self.limits = limits

    def resolve(self, connection: str, args: dict[str, Any], now: datetime) -> dict[str, Any]:
        first = args.get("first")
        maximum = self.limits.max_first.get(connection, 500)
        if first is None:
            first = min(self.limits.default_first, maximum)
        if first < 0:
            raise ApiError("BAD_USER_INPUT", "'first' must be greater than or equal to 0", http_status=200)
        if first > maximum:
            raise ApiError(
                "BAD_USER_INPUT", f"'first' must be less than or equal to {maximum}", http_status=200
            )
        filter_by = args.get("filterBy") or {}
        order_by = args.get("orderBy")
        fp = fingerprint(connection, filter_by, order_by)
        offset = 0
        after = args.get("after")
        if after:
            cursor = self.codec.decode(after, fp, now.timestamp(), self.limits.cursor_ttl_seconds)
            offset = cursor.offset
        log_type = CONNECTION_LOG_TYPE[connection]
        matches = self.store.served(
            log_type, fp, _predicate(connection, filter_by), _sort_key(connection, order_by), now
        )
        total = len(matches)
        reachable = min(total, self.limits.audit_result_cap) if log_type == AUDIT else total
        page = matches[offset : min(offset + first, reachable)]
        end = offset + len(page)
        return {
            "nodes": [v.record for v in page],
            "pageInfo": {
                "hasNextPage": end < reachable,
                "endCursor": self.codec.encode(Cursor(fp, end, now.timestamp()))
                if page or end < reachable
                else None,
            },
            "totalCount": total,
        }
