"""What the dedup layer works on: groups of hits, window items, outcomes.

Item layout in the dedup table (HASH ``pk``, RANGE ``sk``, TTL ``expires_at``), kept under 1 KB
where it can be (a write costs one unit per started KB, of the larger of the old and new item):

* window item, one per (alert type, rule, dedup string): ``pk = "w#<type>#<rule>#<sha(dedup)>"``,
  ``sk = "w"``. Holds the current window (``window_start_ms``, ``window_end``, ``event_count``,
  first/last event time, ``alert_id``, ``alert_state``, ``ver``), the distinct unique() values up
  to the threshold as 8-byte digests (``distinct``), and the events this key counted within the
  idempotency period (``mem``, 16 bytes each; see
  :mod:`wizwatch.dedup.members`). While an alert is pending (queued but not confirmed) it holds
  where it came from (``p_page`` object digest, ``p_gen`` processing generation, ``p_at``) and
  what is needed to render it again (``a_count``, ``a_first``, ``a_last``, ``a_created``).
* marker item: one per (alert type, rule, event identity) that matched,
  ``pk = "e#<type>#<rule>#<identity>"``, ``sk = "e"``, with the alert id it was counted under and
  its object. Written for keys with more events than fit inline (``spill_until`` on the window
  says markers may exist), in one transaction with the window; and for every match of a
  ``Group.markers`` group (log types whose dedup string may change between reads of one event),
  claimed *ahead* of the window by its own conditional PutItem, with ``pg`` (the object version
  that claimed it): the window, which remembers the event inline, is then the claim's commit
  record (see ``DedupStore._claim``).
* outbox and receipt items of a raw object: ``pk = "o#<page>"``, ``sk = "a<gen>.<n>"`` (its alerts,
  compressed together) and ``sk = "s<gen>"`` (they are on the queue); see
  :mod:`wizwatch.dedup.outbox`.

Only matching events ever get items, so writes scale with matches, not events. ``expires_at``
lets DynamoDB delete old items eventually; correctness never depends on it (every condition
compares times itself, because TTL deletion can lag by days).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wizwatch.dedup.members import source_tag

RULE = "RULE"
RULE_ERROR = "RULE_ERROR"

#: Alert states of a window.
OPEN = "open"  # below threshold: nothing sent yet
PENDING = "pending"  # threshold crossed, alert stored in the item, not yet confirmed queued
SENT = "sent"
SUPPRESSED = "suppressed"  # destinations() == []: counted, never sent


@dataclass(frozen=True)
class GroupKey:
    """One dedup group: matches of a rule (or its errors) that share a dedup string."""

    alert_type: str
    rule_id: str
    dedup: str

    @functools.cached_property
    def pk(self) -> str:  # cached: asked for by every read, plan and write of the group
        digest = hashlib.sha256(self.dedup.encode()).hexdigest()[:40]
        return f"w#{self.alert_type}#{self.rule_id}#{digest}"

    def marker_pk(self, identity: str) -> str:
        if len(identity) > 400:
            identity = "sha256:" + hashlib.sha256(identity.encode()).hexdigest()
        return f"e#{self.alert_type}#{self.rule_id}#{identity}"


@dataclass(frozen=True)
class Hit:
    """One event that matched (or made the rule raise)."""

    identity: str
    event_time: str | None = None  # RFC 3339
    unique: str | None = None  # the rule's unique() value, when it defines one


@dataclass(frozen=True)
class AlertFacts:
    """Window facts an alert message needs, known only once the window is decided."""

    alert_id: str
    event_count: int
    first_event_time: str | None
    last_event_time: str | None
    window_start: datetime
    #: When the alert was first rendered: a retry renders the very same message again.
    created_at: str | None = None


@dataclass
class Group:
    """Hits of one group from one object, plus how to build its alert if the threshold is crossed."""

    key: GroupKey
    period_minutes: int
    threshold: int
    counts_unique: bool
    hits: list[Hit]
    render: Callable[[AlertFacts], dict[str, Any]]
    suppressed: bool = False
    #: One marker item per (rule, event), claimed ahead of the window: for events whose dedup
    #: string may differ between reads (wizwatch.parse.identity.CONTENT_MAY_CHANGE), which a
    #: window (one per dedup string) cannot recognise on its own.
    markers: bool = False


@dataclass
class Outcome:
    """What happened to one group."""

    alert_id: str | None = None  # the window the new hits were counted in
    counted: list[str] = field(default_factory=list)  # identities counted by this call
    #: identity -> (alert id, raw object key or its source_tag) it was counted under before this call
    duplicates: dict[str, tuple[str, str]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)  # to queue now
    event_count: int = 0

    def alert_id_of(self, identity: str) -> str | None:
        dup = self.duplicates.get(identity)
        return dup[0] if dup else self.alert_id

    def counted_from(self, identity: str, source: str) -> bool:
        """True if ``source`` is the object this event was (first) counted from (a duplicate
        found in a window item names its object by :func:`wizwatch.dedup.members.source_tag`)."""
        dup = self.duplicates.get(identity)
        return dup is None or dup[1] in (source, source_tag(source))
