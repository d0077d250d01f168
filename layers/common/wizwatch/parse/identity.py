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
from wizwatch.parse.indicators import _ci_get

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

#: _FIELDS with every path split once: per field, its alternatives as key tuples.
_SPLIT: dict[str, tuple[tuple[tuple[str, ...], ...], ...]] = {
    log_type: tuple(tuple(tuple(alt.split(".")) for alt in f.split("|")) for f in fields)
    for log_type, fields in _FIELDS.items()
}

#: The log types whose identity is ``id`` alone (their split paths, for an identity check).
_SPLIT_ID_ONLY = {log_type: split for log_type, split in _SPLIT.items() if split == ((("id",),),)}


def _lookup(record: Any, alternatives: tuple[tuple[str, ...], ...]) -> Any:
    for keys in alternatives:
        node = record
        for key in keys:
            if node.__class__ is dict and key in node:
                node = node[key]  # the exact key (what _ci_get looks at first)
            else:
                node = _ci_get(node, key) if isinstance(node, dict) else None
        if node is not None and node != "":
            return node
    return None


def event_identity(log_type: str, record: dict[str, Any]) -> str:
    """``<log type>:<id>[:<state time>]``; ValueError when the record has no id at all."""
    split = _SPLIT.get(log_type)
    if split is None:
        raise ValueError(f"unknown log type {log_type!r}")
    if log_type in _SPLIT_ID_ONLY and record.__class__ is dict and "id" in record:
        value = record["id"]  # Wiz.Audit, Wiz.Detections: the exact key, as _lookup reads first
        if value is not None and value != "":
            return log_type + ":" + str(value)
    parts = [_lookup(record, f) for f in split]
    if parts[0] is None:
        raise ValueError(f"{log_type} record has no {_FIELDS[log_type][0]}")
    return ":".join([log_type, *("" if p is None else str(p) for p in parts)])
