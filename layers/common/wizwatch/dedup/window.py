"""Planning one window write: the new window item, its condition, and the markers it needs.

Pure: reads the window as last seen (``state``) and the group's remaining hits, returns what to
write. :mod:`wizwatch.dedup.store` commits it and, on a lost race, plans again from the item
DynamoDB returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wizwatch.alerts import clock
from wizwatch.alerts.message import make_alert_id
from wizwatch.dedup import members as mem
from wizwatch.dedup.model import OPEN, PENDING, SENT, SUPPRESSED, AlertFacts, Group, Hit

#: Transactions hold at most 100 items: the window and 99 markers.
MAX_MARKERS = 99
#: How long after a window ends its item stays (TTL cleanup only; logic compares window_end).
WINDOW_RETENTION_S = 86_400
#: The dedup string is kept in the item for operators, cut to this length (the key is its digest).
DEDUP_KEPT_CHARS = 200
_PENDING_FIELDS = ("p_page", "p_gen", "p_at", "a_count", "a_first", "a_last", "a_created")


@dataclass
class Plan:
    group: Group
    source: str
    now_s: int
    new: dict[str, Any]
    condition: dict[str, Any]
    counted: list[Hit] = field(default_factory=list)  # hits this write counts
    markers: list[Hit] = field(default_factory=list)  # of those, the ones needing a marker item
    #: counted hits of a ``Group.markers`` group whose marker is written *ahead* of the window, by
    #: its own conditional PutItem (the window, remembering them inline, is the commit record)
    ahead: list[Hit] = field(default_factory=list)
    duplicates: dict[str, tuple[str, str]] = field(default_factory=dict)  # seen in the window
    alert: dict[str, Any] | None = None
    replaced: dict[str, Any] | None = None  # the ended window this write replaces
    marker_expiry: int = 0
    write: bool = True


def _min(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def plan_window(
    group: Group,
    state: dict[str, Any] | None,
    hits: list[Hit],
    now: datetime,
    source: str,
    page: str,
    gen: int,
    sent: set[tuple[str, int]],
    ttl_s: int,
) -> Plan:
    key = group.key
    now_s = int(now.timestamp())
    period_s = group.period_minutes * 60
    is_open = state is not None and int(state["window_end"]) > now_s

    # Events this key has counted (inline), minus those past the idempotency period.
    blob: bytes = (state.get("mem") or b"") if state else b""
    known = mem.decode(blob)
    cutoff_s = now_s - period_s - ttl_s
    live = [m for m in known if m.window_start_s > cutoff_s]
    if len(live) != len(known):
        blob = mem.encode(live)
    kept = len(live)  # members already encoded in ``blob``
    by_digest = {m.digest: m for m in live}
    spill_until = int(state.get("spill_until", 0)) if state else 0
    # Marker items may exist: every new hit goes through its marker, in the window's transaction.
    spilled = spill_until > now_s

    if is_open and state is not None:
        base = state
        new = dict(state)
    else:
        start_s = now_s  # whole seconds: a member's alert id can be derived from its 4-byte start
        base = {"ver": 0, "event_count": 0, "alert_state": OPEN}
        new = {
            "pk": key.pk,
            "sk": "w",
            "rule_id": key.rule_id,
            "dedup": key.dedup[:DEDUP_KEPT_CHARS],
            "window_start_ms": start_s * 1000,
            "window_end": start_s + period_s,
            "event_count": 0,
            "alert_id": make_alert_id(key.alert_type, key.rule_id, key.dedup, start_s * 1000),
            "alert_state": OPEN,
        }
    new["ver"] = (int(state["ver"]) if state else 0) + 1
    window_start_s = int(new["window_start_ms"]) // 1000
    plan = Plan(group=group, source=source, now_s=now_s, new=new, condition={})
    if state is not None and not is_open:
        plan.replaced = state

    tag = mem.source_tag(source)
    room = not spilled  # new hits may still be counted inline
    for hit in hits:
        digest = mem.digest(hit.identity)
        m = by_digest.get(digest)
        if m is not None:
            counted_in = (
                new["alert_id"]
                if m.window_start_s == window_start_s
                else make_alert_id(key.alert_type, key.rule_id, key.dedup, m.window_start_s * 1000)
            )
            plan.duplicates[hit.identity] = (counted_in, m.source)
            continue
        if room and mem.inline_size(len(live) + 1) <= mem.INLINE_BUDGET:
            entry = mem.Member(digest, window_start_s, tag)
            live.append(entry)
            by_digest[digest] = entry
            plan.counted.append(hit)
        elif len(plan.counted if group.markers else plan.markers) < MAX_MARKERS:
            room = False  # once a hit needs a marker, the rest of this write do too
            plan.markers.append(hit)
            plan.counted.append(hit)
    if not plan.counted:
        plan.write = False
        return plan
    if group.markers:
        # Every counted hit of such a group needs its (rule, event) marker. With a transaction
        # anyway (past the inline budget) they all commit in it; else each is claimed ahead of
        # the window write by its own PutItem (one unit, not two: see DedupStore._claim).
        if plan.markers:
            plan.markers = list(plan.counted)
        else:
            plan.ahead = list(plan.counted)

    chunk = plan.counted
    new["event_count"] = int(base["event_count"]) + len(chunk)
    times = [hit.event_time for hit in chunk if hit.event_time is not None]
    new["first_event_time"] = _min(new.get("first_event_time"), min(times) if times else None)
    new["last_event_time"] = _max(new.get("last_event_time"), max(times) if times else None)
    threshold = max(1, group.threshold)
    old_metric, new_metric = int(base["event_count"]), int(new["event_count"])
    if group.counts_unique:
        distinct = mem.split_distinct(base.get("distinct"))
        old_metric = len(distinct)
        seen = set(distinct)
        for hit in chunk:
            value = mem.distinct_digest(hit.unique)
            if value not in seen and len(distinct) < threshold:  # up to the threshold is enough
                seen.add(value)
                distinct.append(value)
        new_metric = len(distinct)
        new["distinct"] = b"".join(distinct)

    # The window's earlier alert is known to be on the queue (its page's receipt): say so here,
    # for free, so nobody checks again.
    if base.get("alert_state") == PENDING and (str(base.get("p_page")), int(base.get("p_gen", 0))) in sent:
        new["alert_state"] = SENT
        for name in _PENDING_FIELDS:
            new.pop(name, None)

    if base["alert_state"] == OPEN and old_metric < threshold <= new_metric:
        created = clock.iso(now)
        facts = AlertFacts(
            alert_id=new["alert_id"],
            event_count=new["event_count"],
            first_event_time=new.get("first_event_time"),
            last_event_time=new.get("last_event_time"),
            window_start=datetime.fromtimestamp(window_start_s, tz=now.tzinfo),
            created_at=created,
        )
        if group.suppressed:
            new["alert_state"] = SUPPRESSED
        else:
            plan.alert = group.render(facts)
            new.update(
                alert_state=PENDING,
                p_page=page,
                p_gen=gen,
                p_at=now_s,
                a_count=facts.event_count,
                a_first=facts.first_event_time,
                a_last=facts.last_event_time,
                a_created=created,
            )

    new["mem"] = blob + mem.encode(live[kept:])
    plan.marker_expiry = max(int(new["window_end"]), now_s + ttl_s)
    if plan.markers:
        spill_until = max(spill_until, plan.marker_expiry)
    if spill_until > now_s:
        new["spill_until"] = spill_until
    else:
        new.pop("spill_until", None)
    expires = max(int(new["window_end"]) + WINDOW_RETENTION_S, spill_until)
    if live:  # and until the newest event it remembers is past the idempotency period
        expires = max(expires, max(m.window_start_s for m in live) + period_s + ttl_s)
    new["expires_at"] = expires

    now_value = {":now": {"N": str(now_s)}}
    if is_open and state is not None:
        plan.condition = {
            # Join the current window only if nobody wrote it since we read it (same version)
            # and it has not ended meanwhile: the counts computed above are then exactly old +
            # ours, so the threshold crossing decided above is the real one, and the events it
            # remembers are exactly the ones we checked the hits against.
            "ConditionExpression": "ver = :ver AND window_end > :now",
            "ExpressionAttributeValues": {":ver": {"N": str(state["ver"])}, **now_value},
        }
    elif state is None:
        plan.condition = {
            # Start the key's first window only if there is still no item at all: an item that
            # appeared since we read may remember events (or an alert) we must see first.
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    else:
        plan.condition = {
            # Replace the ended window we read, and only that version of it (so the events it
            # remembers, carried over above, and its pending alert, taken over by the store, are
            # exactly what is overwritten). Its end is compared here because an ended item may
            # linger for days before TTL deletes it. Gone meanwhile (TTL) is fine: nothing lost.
            "ConditionExpression": "attribute_not_exists(pk) OR (window_end <= :now AND ver = :ver)",
            "ExpressionAttributeValues": {":ver": {"N": str(state["ver"])}, **now_value},
        }
    return plan
