"""Dedup/threshold windows and event idempotency in DynamoDB.

One call, :meth:`DedupStore.record`, takes every group of hits found in one archived page and,
with one consistent batch read and (normally) one transaction, counts each new event exactly once
into the right window and says which alerts must be queued.

How "exactly one alert" is guaranteed with many detectors running at once: every window write is
conditioned on the version read (or, for a new window, on the old one having expired), so a
write commits only against the exact old values it was computed from. The old and new counts are
therefore both known when the write commits, and only the one write that moves the count from
below ``Threshold`` to at-or-above it carries the alert. The event markers are written in the same
transaction, so an event is never counted without its marker nor marked without being counted.
A lost race cancels the transaction; the cancellation reasons carry the current items
(``ReturnValuesOnConditionCheckFailure=ALL_OLD``), so the retry needs no extra read.

The alert itself is stored in the window item in that same write (state ``pending``) and cleared
once it is on the queue (:meth:`mark_sent`): a crash in between is recovered by the retry of the
same object, which finds the pending alert and queues it again with the same ``alert_id``. If the
window ends first, the write that replaces it takes the pending alert over and queues it.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from wizwatch.alerts import clock
from wizwatch.alerts.message import dumps, make_alert_id
from wizwatch.dedup.model import (
    OPEN,
    PENDING,
    SENT,
    SUPPRESSED,
    AlertFacts,
    Group,
    GroupKey,
    Hit,
    Outcome,
)
from wizwatch.errors import WizwatchError

_SER = TypeSerializer()
_DES = TypeDeserializer()

#: DynamoDB's limits on one TransactWriteItems call.
MAX_TX_ITEMS = 100
MAX_TX_BYTES = 3_500_000
#: How long after a window ends its item stays (TTL cleanup only; logic compares window_end).
WINDOW_RETENTION_S = 86_400
#: A pending alert left by another invocation is re-queued only after this long (it may be
#: queueing it right now); the same object's retry re-queues at once.
PENDING_GRACE_S = 300
MAX_ROUNDS = 30


class DedupContention(WizwatchError):
    """Transactions kept being cancelled; the object is failed so SQS retries it later."""


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


def _from_item(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    out: dict[str, Any] = {}
    for k, v in item.items():
        value = _DES.deserialize(v)
        if isinstance(value, Decimal):
            value = int(value)
        elif isinstance(value, Binary):
            value = bytes(value.value)  # type: ignore[attr-defined]
        out[k] = value
    return out


def _min(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def _distinct_value(unique: str | None) -> str:
    """A short digest of a unique() value: the window item holds up to ``Threshold`` of them and
    must stay under DynamoDB's 400 KB item limit beside the outbox alert, whatever the values'
    length (64 bits: a collision among a window's values is negligible)."""
    return hashlib.blake2b((unique or "").encode(), digest_size=8).hexdigest()


@dataclass
class _Plan:
    group: Group
    chunk: list[Hit]
    new: dict[str, Any]
    ops: list[dict[str, Any]]
    alert: dict[str, Any] | None
    size: int = 0
    #: The pending alert of the expired window this plan overwrites (queued by whoever overwrites).
    inherited: dict[str, Any] | None = None


@dataclass
class _Tx:
    plans: list[_Plan] = field(default_factory=list)
    ops: list[dict[str, Any]] = field(default_factory=list)
    refs: list[tuple[_Plan, str | None]] = field(default_factory=list)  # (plan, identity|None=window)
    size: int = 0


class DedupStore:
    """The dedup table, as the detector uses it."""

    def __init__(self, client: Any, table: str, *, idempotency_ttl_s: int = 14 * 86_400) -> None:
        self.client = client
        self.table = table
        self.idempotency_ttl_s = idempotency_ttl_s
        self.requests = 0  # DynamoDB calls made (the benchmark reports these per 10k events)

    # ---------------------------------------------------------------- reads

    def _read_windows(self, keys: list[GroupKey]) -> dict[str, dict[str, Any] | None]:
        found: dict[str, dict[str, Any] | None] = {k.pk: None for k in keys}
        pks = list(found)
        for start in range(0, len(pks), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": "w"}} for pk in pks[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(10):
                self.requests += 1
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    window = _from_item(item)
                    if window:
                        found[window["pk"]] = window
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt) * random.random())
            else:
                raise DedupContention("BatchGetItem kept returning unprocessed keys")
        return found

    # ---------------------------------------------------------------- planning

    def _new_window(self, group: Group, now: datetime) -> dict[str, Any]:
        now_ms = int(now.timestamp() * 1000)
        end = now_ms // 1000 + group.period_minutes * 60
        key = group.key
        return {
            "pk": key.pk,
            "sk": "w",
            "alert_type": key.alert_type,
            "rule_id": key.rule_id,
            "dedup": key.dedup,
            "window_start_ms": now_ms,
            "window_end": end,
            "ver": 0,
            "event_count": 0,
            "distinct": [],
            "alert_id": make_alert_id(key.alert_type, key.rule_id, key.dedup, now_ms),
            "alert_state": OPEN,
            "expires_at": end + WINDOW_RETENTION_S,
        }

    def _plan(
        self, group: Group, state: dict[str, Any] | None, hits: list[Hit], now: datetime, source: str
    ) -> _Plan:
        now_s = int(now.timestamp())
        is_open = state is not None and int(state["window_end"]) > now_s
        base = state if is_open and state is not None else self._new_window(group, now)
        chunk = hits[: MAX_TX_ITEMS - 1]
        new = dict(base)
        new["ver"] = int(base["ver"]) + 1
        new["event_count"] = int(base["event_count"]) + len(chunk)
        for hit in chunk:
            new["first_event_time"] = _min(new.get("first_event_time"), hit.event_time)
            new["last_event_time"] = _max(new.get("last_event_time"), hit.event_time)
        threshold = max(1, group.threshold)
        old_metric = int(base["event_count"])
        new_metric = int(new["event_count"])
        if group.counts_unique:
            distinct = list(base.get("distinct") or [])
            seen = set(distinct)
            for hit in chunk:
                # Only up to the threshold is needed to know whether it was crossed.
                value = _distinct_value(hit.unique)
                if value not in seen and len(distinct) < threshold:
                    seen.add(value)
                    distinct.append(value)
            old_metric, new_metric = len(base.get("distinct") or []), len(distinct)
            new["distinct"] = distinct
        alert = None
        inherited = None
        # The expired window's alert is still in its outbox (its detector may have died before
        # queueing it). Overwriting the item would lose it, so this write takes it over: it is
        # queued with ours (same alert_id; the notifier drops a second copy).
        if (
            not is_open
            and state is not None
            and state.get("alert_state") == PENDING
            and state.get("alert_body")
        ):
            inherited = orjson.loads(gzip.decompress(state["alert_body"]))
        if base["alert_state"] == OPEN and old_metric < threshold <= new_metric:
            facts = AlertFacts(
                alert_id=new["alert_id"],
                event_count=new["event_count"],
                first_event_time=new.get("first_event_time"),
                last_event_time=new.get("last_event_time"),
                window_start=datetime.fromtimestamp(int(new["window_start_ms"]) / 1000, tz=now.tzinfo),
            )
            if group.suppressed:
                new["alert_state"] = SUPPRESSED
            else:
                alert = group.render(facts)
                new["alert_state"] = PENDING
                new["alert_body"] = gzip.compress(dumps(alert), 5)
                new["pending_at"] = now_s
                new["pending_source"] = source
        if is_open:
            window_op = {
                "Put": {
                    "TableName": self.table,
                    "Item": _to_item(new),
                    # Join the current window only if nobody wrote it since we read it (same
                    # version) and it has not ended meanwhile: the counts we computed are then
                    # exactly old + ours, so the threshold crossing decided above is the real one.
                    "ConditionExpression": "ver = :ver AND window_end > :now",
                    "ExpressionAttributeValues": {
                        ":ver": {"N": str(base["ver"])},
                        ":now": {"N": str(now_s)},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        elif state is None:
            window_op = {
                "Put": {
                    "TableName": self.table,
                    "Item": _to_item(new),
                    # Start a new window only if there is none or the previous one has ended.
                    # The end time is compared here, in the condition, because an expired item
                    # may linger for days before TTL deletes it.
                    "ConditionExpression": "attribute_not_exists(pk) OR window_end <= :now",
                    "ExpressionAttributeValues": {":now": {"N": str(now_s)}},
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        else:
            window_op = {
                "Put": {
                    "TableName": self.table,
                    "Item": _to_item(new),
                    # Replace the expired window we read, and only that version of it (so the
                    # pending alert we took over from it is the one being overwritten); its end
                    # is compared here because an expired item may linger for days before TTL
                    # deletes it. Gone meanwhile (TTL) is fine too: nothing left to lose.
                    "ConditionExpression": "attribute_not_exists(pk) OR (window_end <= :now AND ver = :ver)",
                    "ExpressionAttributeValues": {
                        ":now": {"N": str(now_s)},
                        ":ver": {"N": str(state["ver"])},
                    },
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
        marker_expiry = max(int(new["window_end"]), now_s + self.idempotency_ttl_s)
        ops = [window_op]
        for hit in chunk:
            ops.append(
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _to_item(
                            {
                                "pk": group.key.marker_pk(hit.identity),
                                "sk": "e",
                                "alert_id": new["alert_id"],
                                "source": source,
                                "expires_at": marker_expiry,
                            }
                        ),
                        # Count this event for this rule only if it was never counted (or its
                        # marker has outlived the idempotency period and awaits TTL deletion).
                        "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now",
                        "ExpressionAttributeValues": {":now": {"N": str(now_s)}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                }
            )
        size = len(new.get("alert_body", b"")) + 1000 + 300 * len(chunk)
        return _Plan(group=group, chunk=chunk, new=new, ops=ops, alert=alert, size=size, inherited=inherited)

    @staticmethod
    def _pack(plans: list[_Plan]) -> list[_Tx]:
        txs: list[_Tx] = []
        tx = _Tx()
        for plan in plans:
            if tx.ops and (len(tx.ops) + len(plan.ops) > MAX_TX_ITEMS or tx.size + plan.size > MAX_TX_BYTES):
                txs.append(tx)
                tx = _Tx()
            tx.plans.append(plan)
            tx.ops.extend(plan.ops)
            tx.refs.append((plan, None))
            tx.refs.extend((plan, hit.identity) for hit in plan.chunk)
            tx.size += plan.size
        if tx.ops:
            txs.append(tx)
        return txs

    # ---------------------------------------------------------------- the one entry point

    def record(self, groups: list[Group], *, source: str) -> dict[GroupKey, Outcome]:
        """Count every new hit of ``groups`` once; return per group what to keep and to queue."""
        now = clock.now()
        now_s = int(now.timestamp())
        outcomes = {g.key: Outcome() for g in groups}
        if not groups:
            return outcomes
        pending: dict[GroupKey, list[Hit]] = {}
        claimed: set[tuple[str, str, str]] = set()
        for g in groups:
            hits: list[Hit] = []
            for hit in g.hits:  # an event counts once per rule even if listed twice
                marker = (g.key.alert_type, g.key.rule_id, hit.identity)
                if marker not in claimed:
                    claimed.add(marker)
                    hits.append(hit)
            pending[g.key] = hits
        by_key = {g.key: g for g in groups}
        states = self._read_windows(list(by_key))
        for key, outcome in outcomes.items():
            state = states[key.pk]
            if state is None:
                continue
            if int(state["window_end"]) > now_s:
                outcome.alert_id = state["alert_id"]
                outcome.event_count = int(state["event_count"])
            if state.get("alert_state") == PENDING and state.get("alert_body") is not None:
                mine = state.get("pending_source") == source
                stale = now_s - int(state.get("pending_at", 0)) >= PENDING_GRACE_S
                if mine or stale:  # a crash after the window write: queue it (same alert_id)
                    outcome.alerts.append(orjson.loads(gzip.decompress(state["alert_body"])))
        for attempt in range(MAX_ROUNDS):
            plans = []
            for key, hits in pending.items():
                if hits:
                    plans.append(self._plan(by_key[key], states[key.pk], hits, now, source))
            if not plans:
                return outcomes
            contended = False
            for tx in self._pack(plans):
                try:
                    self.requests += 1
                    self.client.transact_write_items(TransactItems=tx.ops)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    contended |= self._apply_cancellation(exc, tx, states, pending, outcomes)
                    continue
                for plan in tx.plans:
                    key = plan.group.key
                    states[key.pk] = plan.new
                    done = {h.identity for h in plan.chunk}
                    pending[key] = [h for h in pending[key] if h.identity not in done]
                    out = outcomes[key]
                    out.alert_id = plan.new["alert_id"]
                    out.event_count = int(plan.new["event_count"])
                    out.counted.extend(h.identity for h in plan.chunk)
                    queued = {a["alert_id"] for a in out.alerts}
                    if plan.alert is not None:
                        out.alerts.append(plan.alert)
                    if plan.inherited is not None and plan.inherited["alert_id"] not in queued:
                        out.alerts.append(plan.inherited)
            if contended:
                time.sleep(min(2.0, 0.02 * 2**attempt) * (0.5 + random.random()))
        raise DedupContention(f"dedup writes for {source} kept conflicting after {MAX_ROUNDS} rounds")

    def _apply_cancellation(
        self,
        exc: ClientError,
        tx: _Tx,
        states: dict[str, dict[str, Any] | None],
        pending: dict[GroupKey, list[Hit]],
        outcomes: dict[GroupKey, Outcome],
    ) -> bool:
        """Learn from a cancelled transaction; True if it was a conflict worth backing off for."""
        reasons: list[Any] = list(exc.response.get("CancellationReasons") or [])
        if len(reasons) != len(tx.refs):
            return True  # no per-item detail: just retry after a pause
        contended = False
        for (plan, identity), reason in zip(tx.refs, reasons, strict=True):
            code = reason.get("Code") or "None"
            if code == "None":
                continue
            key = plan.group.key
            if code != "ConditionalCheckFailed":
                contended = True  # TransactionConflict, throttling...
                continue
            old = _from_item(dict(reason.get("Item") or {}))
            if identity is None:
                states[key.pk] = old  # someone else moved the window: plan again from it
                contended = True
            else:
                pending[key] = [h for h in pending[key] if h.identity != identity]
                old = old or {}
                outcomes[key].duplicates[identity] = (old.get("alert_id", ""), old.get("source", ""))
        return contended

    # ---------------------------------------------------------------- after queueing

    def mark_sent(self, sent: list[tuple[GroupKey, str]]) -> None:
        """Clear the outbox of windows whose alerts are now on the queue."""
        todo = list(dict.fromkeys(sent))
        for _ in range(5):
            if not todo:
                return
            failed: list[tuple[GroupKey, str]] = []
            for chunk in _one_op_per_item(todo):
                ops = [
                    {
                        "Update": {
                            "TableName": self.table,
                            "Key": {"pk": {"S": key.pk}, "sk": {"S": "w"}},
                            "UpdateExpression": "SET alert_state = :sent "
                            "REMOVE alert_body, pending_source, pending_at",
                            # Only the window whose alert we queued, and only while its alert is
                            # still pending: a newer window (other alert_id) must stay untouched.
                            "ConditionExpression": "alert_id = :id AND alert_state = :pending",
                            "ExpressionAttributeValues": {
                                ":sent": {"S": SENT},
                                ":pending": {"S": PENDING},
                                ":id": {"S": alert_id},
                            },
                        }
                    }
                    for key, alert_id in chunk
                ]
                try:
                    self.requests += 1
                    self.client.transact_write_items(TransactItems=ops)
                except ClientError as exc:
                    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                        raise
                    reasons = exc.response.get("CancellationReasons") or []
                    for entry, reason in zip(chunk, reasons, strict=False):
                        # ConditionalCheckFailed: already cleared or superseded; nothing to do.
                        # Any other entry ("None" included: it was only cancelled alongside)
                        # is tried again.
                        if reason.get("Code") != "ConditionalCheckFailed":
                            failed.append(entry)
                    if len(reasons) != len(chunk):
                        failed.extend(chunk)
            todo = failed


def _one_op_per_item(entries: list[tuple[GroupKey, str]]) -> list[list[tuple[GroupKey, str]]]:
    """Transactions of at most MAX_TX_ITEMS that never name one window twice (DynamoDB refuses
    that), e.g. an expired window's taken-over alert and the alert of the window replacing it."""
    chunks: list[tuple[set[GroupKey], list[tuple[GroupKey, str]]]] = []
    for entry in entries:
        for keys, chunk in chunks:
            if entry[0] not in keys and len(chunk) < MAX_TX_ITEMS:
                keys.add(entry[0])
                chunk.append(entry)
                break
        else:
            chunks.append(({entry[0]}, [entry]))
    return [chunk for _, chunk in chunks]
