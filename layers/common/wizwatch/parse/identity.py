"""The identity of a record: the same Wiz event fetched twice (overlapping windows, retried
pages) gets the same string, so the detector can count it once.

Audit entries are immutable (``id``); issues and findings change state under one id, so the
state timestamp is part of their identity (``id`` + ``statusChangedAt`` / ``updatedAt``).

A Wiz Defend detection is one event whichever way it arrives: Wiz's webhook template sends
``"id": "{{detection.id}}"``, the id the ``detections`` connection returns. Its identity is that
id alone, so the same detection pushed by the webhook, re-delivered, and later polled (possibly in
a newer version: ``updatedAt`` moves when Wiz links it to a threat; the webhook has no
``updatedAt`` at all) is counted once per rule and alerts once.

Configuration findings: ``updatedAt`` else ``analyzedAt``, plus the status.
"""

from __future__ import annotations

from typing import Any

from wizwatch import logtypes
from wizwatch.parse.normalize import _ci_get

_FIELDS: dict[str, tuple[str, ...]] = {
    logtypes.AUDIT: ("id",),
    logtypes.ISSUES: ("id", "statusChangedAt|updatedAt"),
    logtypes.VULNERABILITY_FINDING: ("id", "updatedAt|lastDetectedAt"),
    logtypes.ISSUES_WEBHOOK: ("issue.id", "trigger.type", "issue.status"),
    logtypes.DETECTIONS: ("id",),  # pushed or polled, any version: one detection (see above)
    # A re-assessment that changes nothing moves only analyzedAt: same identity (counted once).
    logtypes.CLOUD_CONFIGURATION_FINDING: ("id", "updatedAt|analyzedAt", "status"),
}


#: Log types whose identity stays the same while the record's content changes (a detection pushed,
#: then polled in a newer version; a webhook issue re-sent with other fields): a rule's dedup()
#: may differ between two reads of one event, so the dedup store keeps a marker per
#: (rule, event) for them rather than only remembering events per (rule, dedup string).
CONTENT_MAY_CHANGE = frozenset({logtypes.DETECTIONS, logtypes.ISSUES_WEBHOOK})


def _lookup(record: Any, path: str) -> Any:
    for alternative in path.split("|"):
        node = record
        for key in alternative.split("."):
            node = _ci_get(node, key) if isinstance(node, dict) else None
        if node is not None and node != "":
            return node
    return None


def event_identity(log_type: str, record: dict[str, Any]) -> str:
    """``<log type>:<id>[:<state time>]``; ValueError when the record has no id at all."""
    fields = _FIELDS.get(log_type)
    if fields is None:
        raise ValueError(f"unknown log type {log_type!r}")
    parts = [_lookup(record, f) for f in fields]
    if parts[0] is None:
        raise ValueError(f"{log_type} record has no {fields[0]}")
    return ":".join([log_type, *("" if p is None else str(p) for p in parts)])
