"""Correlation signals in the dedup table: written as input rules match, read back per key.

Item layout (HASH ``pk``, RANGE ``sk``, TTL ``expires_at`` of the dedup table):
``pk = "x#<correlation RuleID>#<sha256(partition value)[:40]>"`` — one partition per value of the
criterion every member shares (e.g. the resource id), so one Query returns every member's
signals for that value.

One item holds every signal one page wrote to a partition (not one item per signal: a write
costs a unit per started KB, so ten 300-byte signals of one actor cost 3 units packed, 10 apart):
``sk = "p<newest event ms>#<digest of its signals>"``, ``t`` its newest event time (ms),
``expires_at`` its latest signal's expiry, and ``z`` the signals, zlib-compressed JSON, each with
its own event time and expiry. The sort key is derived from the signals themselves, so a re-read
page or a redelivered notification writes the very same item again (idempotent); an overlapping
page that holds the same event too writes it into its own item, and the reader keeps one signal
per (member, event time, identity). Items written one per signal by earlier versions (``sk =
"<member>#<event ms>#<event identity>"``, attributes ``member``, ``t``, ``identity``, ``values``,
``info``) are read as well.

Expiry is checked on read, never left to TTL: a signal counts only while its event time lies
within the correlation's lookback window of the newest signal being evaluated, and only while
its expiry is in the future (TTL deletion may lag by days; ``expires_at`` is housekeeping).
"""

from __future__ import annotations

import hashlib
import random
import time
import zlib
from typing import Any

import orjson

from wizwatch.dedup.codec import to_item
from wizwatch.detect.correlation import Signal
from wizwatch.errors import WizwatchError
from wizwatch.render import RenderError, clean, dumps

#: How long a signal item outlives its usefulness (event time + lookback) before TTL may take it.
RETENTION_S = 86_400
#: Signals of one page and partition are packed into items of about this many bytes (before
#: compression): a few units each, well under DynamoDB's 400 KB item limit.
ITEM_BYTES = 32_768


class SignalStoreError(WizwatchError):
    """BatchWriteItem kept returning unprocessed items; the object is failed and retried by SQS."""


def _blob(obj: Any) -> bytes:
    """JSON for a signal's values or info (``wizwatch.render.dumps``). What orjson cannot take
    (nesting past 254 levels, lone surrogates, integers beyond 64 bits, odd keys), which a hostile
    event can put in a matched field, is written as its clean copy: never an exception that would
    fail the whole page."""
    try:
        return dumps(obj)
    except RenderError:
        return dumps(clean(obj)[0])


def partition(rule_id: str, value: Any) -> str:
    digest = hashlib.sha256(repr(value).encode()).hexdigest()[:40]
    return f"x#{rule_id}#{digest}"


def _signal(key: tuple[str, int, str], values: Any, info: Any) -> Signal:
    member, t_ms, identity = key
    return Signal(
        member=member, time=t_ms / 1000, values=tuple(tuple(v) for v in values), identity=identity, info=info
    )


class SignalStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.requests = 0

    def put(self, items: list[tuple[str, Signal, int]], now_s: int) -> None:
        """Write (partition key, signal, lookback seconds) items, one item per partition (split
        past :data:`ITEM_BYTES`); the same signal twice is written once."""
        by_pk: dict[str, dict[tuple[str, int, str], tuple[bytes, int]]] = {}
        for pk, s, lookback in items:
            t_ms = int(s.time * 1000)
            expires = max(now_s, int(s.time)) + lookback + RETENTION_S
            head = _blob([s.member, t_ms, s.identity, expires])
            entry = b"[" + head + b"," + _blob(list(s.values)) + b"," + _blob(s.info) + b"]"
            by_pk.setdefault(pk, {})[(s.member, t_ms, s.identity)] = (entry, expires)
        pending: list[dict[str, Any]] = []
        for pk, signals in by_pk.items():
            chunk: list[tuple[tuple[str, int, str], tuple[bytes, int]]] = []
            size = 0
            for key, value in sorted(signals.items()):  # sorted: the same signals, the same items
                if chunk and size + len(value[0]) > ITEM_BYTES:
                    pending.append(self._item(pk, chunk))
                    chunk, size = [], 0
                chunk.append((key, value))
                size += len(value[0])
            pending.append(self._item(pk, chunk))
        for start in range(0, len(pending), 25):
            batch = {self.table: pending[start : start + 25]}
            for attempt in range(10):
                self.requests += 1
                resp = self.client.batch_write_item(RequestItems=batch)
                batch = resp.get("UnprocessedItems") or {}
                if not batch:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt) * random.random())
            else:
                raise SignalStoreError("BatchWriteItem kept returning unprocessed signals")

    @staticmethod
    def _item(pk: str, chunk: list[tuple[tuple[str, int, str], tuple[bytes, int]]]) -> dict[str, Any]:
        digest = hashlib.sha256(b"\n".join(entry for _, (entry, _) in chunk)).hexdigest()[:16]
        newest = max(t for (_, t, _), _ in chunk)
        blob = zlib.compress(b"[" + b",".join(entry for _, (entry, _) in chunk) + b"]", 6)
        item = {
            "pk": pk,
            "sk": f"p{newest:013d}#{digest}",
            "t": newest,
            "z": blob,
            "expires_at": max(e for _, (_, e) in chunk),
        }
        return {"PutRequest": {"Item": to_item(item)}}

    def read(self, pk: str, since: float, now_s: int) -> list[Signal]:
        """The signals of a partition with event time >= ``since`` that have not expired, one per
        (member, event time, identity), in that order."""
        since_ms = int(since * 1000)
        found: dict[tuple[str, int, str], Signal] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            # Only items holding a signal inside the lookback window of the newest signal (event
            # time: ``t`` is an item's newest), and only unexpired items (``expires_at`` is an
            # item's latest expiry): an expired item may linger for days before TTL deletes it.
            # Each packed signal's own time and expiry are checked below.
            "FilterExpression": "t >= :since AND expires_at > :now",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":since": {"N": str(since_ms)},
                ":now": {"N": str(now_s)},
            },
            "ConsistentRead": True,
        }
        while True:
            self.requests += 1
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                if "z" not in item:  # one signal an item (written by earlier versions)
                    t_ms = int(item["t"]["N"])
                    key = (item["member"]["S"], t_ms, item["identity"]["S"])
                    values = orjson.loads(item["values"]["B"])
                    found[key] = _signal(key, values, orjson.loads(item["info"]["B"]))
                    continue
                for (member, t_ms, identity, expires), values, info in orjson.loads(
                    zlib.decompress(bytes(item["z"]["B"]))
                ):
                    if t_ms >= since_ms and expires > now_s:
                        key = (member, t_ms, identity)
                        found[key] = _signal(key, values, info)
            if "LastEvaluatedKey" not in resp:
                return [found[k] for k in sorted(found)]
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
