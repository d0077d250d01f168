"""Dedup/threshold windows and event idempotency in DynamoDB, at about one write per group.

One call, :meth:`DedupStore.record`, takes every group of hits found in one archived page and
counts each new event exactly once into its window, then says which alerts must be queued;
:meth:`DedupStore.mark_sent` records, once they are on the queue, that they were sent.

What is written (layout: :mod:`wizwatch.dedup.model`), per page:

* one conditional PutItem per (rule, dedup) group with new hits: the window item, which also
  remembers the events it counted (:mod:`wizwatch.dedup.members`), so no marker item is needed
  while they fit (~30 events a key); a group past that writes its window and one marker per event
  in one transaction (the only transactions left: a transaction costs twice the capacity);
* for log types whose dedup string may change between two reads of one event (``Group.markers``:
  Wiz.Detections, Wiz.IssuesWebhook), one (rule, event) marker per match, claimed by its own
  conditional PutItem just before the window write (:meth:`DedupStore._claim`): 1 unit a match,
  where marker and window in one transaction cost 2 + 2;
* the alerts the page raised, compressed together, in its outbox (:mod:`wizwatch.dedup.outbox`),
  and, once queued, one receipt item for the page instead of one update per alert.

How "exactly one alert" is guaranteed with many detectors at once: every window write is
conditioned on the version read (or, for a new window, on the old one having ended), so it commits
only against the exact old values it was computed from; only the write that moves the count from
below ``Threshold`` to at-or-above it carries the alert. A lost race returns the current item
(``ReturnValuesOnConditionCheckFailure=ALL_OLD``) and the group is planned again from it.

Crash safety: the window write that crosses the threshold records the alert as pending under
(page, generation) with the facts needed to render it again. A retry of the same object renders
it again from the same page (same ``alert_id``) unless the page's receipt for that generation
says it was queued. Another object's pending alert without a receipt is queued from its outbox by
whoever touches the window after :data:`PENDING_GRACE_S`, or at once by the write that replaces
the window once it has ended.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from wizwatch.alerts import clock
from wizwatch.dedup.codec import from_item, to_item
from wizwatch.dedup.model import PENDING, SENT, AlertFacts, Group, GroupKey, Hit, Outcome
from wizwatch.dedup.outbox import Outbox, page_digest
from wizwatch.dedup.window import Plan, plan_window
from wizwatch.errors import WizwatchError
from wizwatch.logs import logger

#: A pending alert left by another invocation is re-queued only after this long (it may be
#: queueing it right now); the same object's retry re-queues at once.
PENDING_GRACE_S = 300
MAX_ROUNDS = 30
#: Codes worth a back-off and another round (the SDK has already retried them a few times).
_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
    "TransactionInProgressException",
    "InternalServerError",
}


class DedupContention(WizwatchError):
    """Writes kept conflicting or being throttled; the object is failed so SQS retries it later."""


@dataclass
class Receipt:
    """What :meth:`DedupStore.mark_sent` records once the alerts of one call are queued."""

    page: str
    gens: set[int] = field(default_factory=set)  # (page, gen) receipts to write
    #: windows (as read) whose alert, taken over from another object, is now queued
    windows: list[dict[str, Any]] = field(default_factory=list)


class Outcomes(dict[GroupKey, Outcome]):
    """Outcome per group, plus the receipt to record once the alerts are queued."""

    receipt: Receipt | None = None
    #: alert_id -> (alert, its JSON) for the alerts this call rendered and stored in the outbox:
    #: the queue sends those bytes instead of rendering the same alert again.
    rendered: dict[str, tuple[dict[str, Any], bytes]] | None = None


def _ref(state: dict[str, Any] | None) -> tuple[str, int] | None:
    """(page, generation) of the window's pending alert, if it has one."""
    if not state or state.get("alert_state") != PENDING or "p_page" not in state:
        return None
    return str(state["p_page"]), int(state["p_gen"])


def _facts(state: dict[str, Any], tzinfo: Any) -> AlertFacts:
    return AlertFacts(
        alert_id=state["alert_id"],
        event_count=int(state["a_count"]),
        first_event_time=state.get("a_first"),
        last_event_time=state.get("a_last"),
        window_start=datetime.fromtimestamp(int(state["window_start_ms"]) / 1000, tz=tzinfo),
        created_at=state.get("a_created"),
    )


def _marker(plan: Plan, hit: Hit, page: str, *, claim: bool) -> dict[str, Any]:
    """The (rule, event) marker Put of ``hit``: claimed ahead of its window (:meth:`DedupStore._claim`,
    with ``pg``: this object version's claim) or committed in one transaction with it (no ``pg``).

    Either way it counts this event for this rule only if it was never counted (no marker, or one
    that has outlived the idempotency period and awaits TTL deletion), or if the marker there is
    one this object version claimed ahead of a window write that never happened (``pg``: had it
    written its window, the window would remember the event and the hit would not be planned).
    """
    return {
        "Item": to_item(
            {
                "pk": plan.group.key.marker_pk(hit.identity),
                "sk": "e",
                "alert_id": plan.new["alert_id"],
                "source": plan.source,
                "pg": page if claim else None,  # None: left out of the item
                "expires_at": plan.marker_expiry,
            }
        ),
        "ConditionExpression": "attribute_not_exists(pk) OR expires_at <= :now OR pg = :pg",
        "ExpressionAttributeValues": {":now": {"N": str(plan.now_s)}, ":pg": {"S": page}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _refused(outcome: Outcome, hits: list[Hit], hit: Hit, item: Any) -> None:
    """A refused marker: ``hit``'s event was counted already (by ``item``'s alert); drop it."""
    old = from_item(dict(item or {})) or {}
    outcome.duplicates[hit.identity] = (old.get("alert_id", ""), old.get("source", ""))
    hits[:] = [h for h in hits if h.identity != hit.identity]


class DedupStore:
    """The dedup table, as the detector uses it."""

    def __init__(self, client: Any, table: str, *, idempotency_ttl_s: int = 14 * 86_400) -> None:
        self.client = client
        self.table = table
        self.idempotency_ttl_s = idempotency_ttl_s
        self.outbox = Outbox(client, table, idempotency_ttl_s)
        self._requests = 0

    @property
    def requests(self) -> int:
        """DynamoDB calls made (the benchmark reports these per 10k events)."""
        return self._requests + self.outbox.requests

    def _read_windows(self, keys: list[GroupKey]) -> dict[str, dict[str, Any] | None]:
        items = self.outbox.batch_get([(k.pk, "w") for k in keys])
        return {k.pk: from_item(items.get((k.pk, "w"))) for k in keys}

    # ---------------------------------------------------------------- writing one group

    def _claim(self, plan: Plan, page: str, claimed: set[str], outcome: Outcome, hits: list[Hit]) -> bool:
        """Write the (rule, event) markers of ``plan.ahead`` before its window; False if one was
        refused (the event was counted already: ``hits`` and ``outcome`` say so, plan again).

        Why ahead and not in one transaction with the window (half the units: a transaction
        costs twice): the window remembers the events it counted inline (``mem``), so it is the
        commit record of the marker. A marker of this object version whose event the window
        does not remember is from a run of this object that stopped (or lost a race) before its
        window write: it is ours to count again. A marker of another object is honoured whether
        or not that object's window write has happened yet: if it has not, that object's retry
        counts the event (it finds its own marker), so the event is counted once either way.
        """
        refused = False
        for hit in plan.ahead:
            pk = plan.group.key.marker_pk(hit.identity)
            if pk in claimed:
                continue  # claimed earlier in this call (the window write then lost a race)
            self._requests += 1
            try:
                self.client.put_item(TableName=self.table, **_marker(plan, hit, page, claim=True))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
                _refused(outcome, hits, hit, dict(exc.response).get("Item"))
                refused = True
                continue
            claimed.add(pk)
        return not refused

    def _write(self, plan: Plan, page: str) -> None:
        """Commit one plan; raises ClientError as DynamoDB does."""
        self._requests += 1
        window = {"TableName": self.table, "Item": to_item(plan.new), **plan.condition}
        window["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        if not plan.markers:
            self.client.put_item(**window)
            return
        ops = [{"Put": window}]
        ops += [
            {"Put": {"TableName": self.table, **_marker(plan, hit, page, claim=False)}}
            for hit in plan.markers
        ]
        self.client.transact_write_items(TransactItems=ops)

    def _lost(self, exc: ClientError, plan: Plan, outcome: Outcome, hits: list[Hit]) -> dict[str, Any] | None:
        """Learn from a refused write: the current window (to plan again from) and duplicates."""
        code = exc.response.get("Error", {}).get("Code")
        key = plan.group.key
        if code == "ConditionalCheckFailedException":
            returned: dict[str, Any] = dict(exc.response)
            if "Item" in returned:
                return from_item(dict(returned["Item"])) or {}
            return self._read_windows([key])[key.pk] or {}
        if code != "TransactionCanceledException":
            if code in _RETRYABLE:
                return None
            raise exc
        reasons: list[Any] = list(exc.response.get("CancellationReasons") or [])
        if len(reasons) != 1 + len(plan.markers):
            return None
        window_reason, *marker_reasons = reasons
        for hit, reason in zip(plan.markers, marker_reasons, strict=True):
            if reason.get("Code") == "ConditionalCheckFailed":
                _refused(outcome, hits, hit, reason.get("Item"))
        if window_reason.get("Code") == "ConditionalCheckFailed":
            return from_item(dict(window_reason.get("Item") or {})) or {}
        return None

    # ---------------------------------------------------------------- the one entry point

    def record(self, groups: list[Group], *, source: str, version_id: str | None = None) -> Outcomes:
        """Count every new hit of ``groups`` once; return per group what to keep and to queue."""
        now = clock.now()
        now_s = int(now.timestamp())
        # This run's generation: unique per run (a retry, even at the same clock reading, is
        # another generation), so a receipt names exactly the alerts one run queued.
        gen = int(now.timestamp() * 1000) * 1000 + random.randrange(1000)
        page = page_digest(source, version_id)
        outcomes = Outcomes({g.key: Outcome() for g in groups})
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
            if state is not None and int(state["window_end"]) > now_s:
                outcome.alert_id = state["alert_id"]
                outcome.event_count = int(state["event_count"])

        # Which pending alerts are already known to be on the queue (their page's receipt): a
        # window write then records it as sent for free, and nobody queues it again.
        checked: set[tuple[str, int]] = set()
        sent: set[tuple[str, int]] = set()

        def check(refs: set[tuple[str, int]]) -> None:
            todo = refs - checked
            if todo:
                sent.update(self.outbox.sent(todo))
                checked.update(todo)

        check({r for s in states.values() if (r := self._to_check(s, page, gen, now_s)) is not None})

        new_alerts: list[dict[str, Any]] = []
        inherited: list[tuple[GroupKey, dict[str, Any]]] = []
        conflicts = 0
        ahead: set[str] = set()  # marker keys claimed ahead of their window by this call
        while True:
            contended = False
            for key, hits in pending.items():
                if not hits:
                    continue
                group, outcome = by_key[key], outcomes[key]
                while True:
                    plan = plan_window(
                        group, states[key.pk], hits, now, source, page, gen, sent, self.idempotency_ttl_s
                    )
                    if not plan.write or not plan.ahead or self._claim(plan, page, ahead, outcome, hits):
                        break  # a refused claim removed its hit: plan the window again without it
                try:
                    if plan.write:
                        self._write(plan, page)
                except ClientError as exc:
                    current = self._lost(exc, plan, outcome, hits)
                    if current is not None:
                        states[key.pk] = current or None
                    contended = True
                    continue
                done = {h.identity for h in plan.counted} | set(plan.duplicates)
                pending[key] = [h for h in hits if h.identity not in done]
                outcome.duplicates.update(plan.duplicates)
                if not plan.write:
                    continue
                states[key.pk] = plan.new
                outcome.alert_id = plan.new["alert_id"]
                outcome.event_count = int(plan.new["event_count"])
                outcome.counted.extend(h.identity for h in plan.counted)
                if plan.alert is not None:
                    new_alerts.append(plan.alert)
                    outcome.alerts.append(plan.alert)
                if plan.replaced is not None and _ref(plan.replaced) is not None:
                    inherited.append((key, plan.replaced))
            if not any(pending.values()):
                break
            if contended:  # rounds that only continue a long group are not conflicts
                conflicts += 1
                if conflicts >= MAX_ROUNDS:
                    raise DedupContention(
                        f"dedup writes for {source} kept conflicting after {MAX_ROUNDS} rounds"
                    )
                time.sleep(min(2.0, 0.02 * 2**conflicts) * (0.5 + random.random()))

        receipt = Receipt(page=page)
        if new_alerts:
            receipt.gens.add(gen)
        self._recover(by_key, states, inherited, outcomes, receipt, check, sent, page, gen, now)
        if new_alerts:
            # Before anything is queued: another detector may have to queue them from here.
            bodies = self.outbox.put(page, gen, new_alerts, now_s)
            outcomes.rendered = {a["alert_id"]: (a, b) for a, b in zip(new_alerts, bodies, strict=True)}
        if receipt.gens or receipt.windows:
            outcomes.receipt = receipt
        return outcomes

    def _too_old(self, state: dict[str, Any], now_s: int) -> bool:
        """The pending alert of ``state`` is past the idempotency period. Its receipt and outbox
        live this long; past it TTL may have taken the receipt and not yet the outbox: never queue
        an alert that old on the strength of a missing item."""
        return now_s - int(state.get("p_at", 0)) >= self.idempotency_ttl_s

    def _to_check(
        self, state: dict[str, Any] | None, page: str, gen: int, now_s: int
    ) -> tuple[str, int] | None:
        """The pending alert of ``state`` this call must find out about, if any."""
        ref = _ref(state)
        if ref is None or ref == (page, gen) or state is None:
            return None
        if self._too_old(state, now_s):
            return None
        ended = int(state["window_end"]) <= now_s
        stale = now_s - int(state.get("p_at", 0)) >= PENDING_GRACE_S
        return ref if ref[0] == page or stale or ended else None

    def _recover(
        self,
        by_key: dict[GroupKey, Group],
        states: dict[str, dict[str, Any] | None],
        inherited: list[tuple[GroupKey, dict[str, Any]]],
        outcomes: Outcomes,
        receipt: Receipt,
        check: Any,
        sent: set[tuple[str, int]],
        page: str,
        gen: int,
        now: datetime,
    ) -> None:
        """Queue pending alerts nobody confirmed: this object's own from an earlier run (rendered
        again), another object's from its outbox (stale, or in a window this call replaced)."""
        now_s = int(now.timestamp())
        candidates: list[tuple[GroupKey, dict[str, Any], bool]] = []  # (key, state, replaced)
        for key in by_key:
            state = states[key.pk]
            if self._to_check(state, page, gen, now_s) is not None and state is not None:
                candidates.append((key, state, False))
        candidates += [(key, state, True) for key, state in inherited if not self._too_old(state, now_s)]
        if not candidates:
            return
        check({r for _, s, _ in candidates if (r := _ref(s)) is not None})
        theirs: list[tuple[GroupKey, dict[str, Any], bool]] = []
        queued = {a["alert_id"] for o in outcomes.values() for a in o.alerts}
        for key, state, replaced in candidates:
            ref = _ref(state)
            if ref is None or ref in sent or state["alert_id"] in queued:
                continue
            if ref[0] == page:  # ours, from an earlier run that did not confirm it: render it again
                alert = by_key[key].render(_facts(state, now.tzinfo))
                outcomes[key].alerts.append(alert)
                queued.add(alert["alert_id"])
                receipt.gens.add(ref[1])
            else:
                theirs.append((key, state, replaced))
        if not theirs:
            return
        bodies = self.outbox.bodies({r for _, s, _ in theirs if (r := _ref(s)) is not None})
        for key, state, replaced in theirs:
            body = bodies.get(state["alert_id"])
            ref = _ref(state)
            if body is None or ref is None:
                logger.warning(
                    "pending alert %s has no outbox yet: its object's retry queues it", state["alert_id"]
                )
                continue
            if body["alert_id"] not in queued:
                outcomes[key].alerts.append(body)
                queued.add(body["alert_id"])
            if not replaced:
                receipt.windows.append(state)

    # ---------------------------------------------------------------- after queueing

    def mark_sent(self, receipt: Receipt | None) -> None:
        """Record that the alerts of one :meth:`record` call are on the queue."""
        if receipt is None:
            return
        now_s = int(clock.now().timestamp())
        for gen in sorted(receipt.gens):
            self.outbox.mark_sent(receipt.page, gen, now_s)
        for state in receipt.windows:
            done = {k: v for k, v in state.items() if k not in ("p_page", "p_gen", "p_at")}
            done.update(alert_state=SENT, ver=int(state["ver"]) + 1)
            try:
                self._requests += 1
                self.client.put_item(
                    TableName=self.table,
                    Item=to_item(done),
                    # Only the window exactly as we read it (same version), so this records the
                    # alert we took over and queued as sent and nothing else: if anyone wrote the
                    # window since, leave it (the next writer checks again). A PutItem rather than
                    # an UpdateItem: the detector's role needs no UpdateItem at all.
                    ConditionExpression="ver = :ver",
                    ExpressionAttributeValues={":ver": {"N": str(state["ver"])}},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise


__all__ = ["DedupContention", "DedupStore", "Outcomes", "Receipt"]
