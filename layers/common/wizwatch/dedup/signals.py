"""Correlation signals in the dedup table: written as input rules match, read back per key.

Item layout (HASH ``pk``, RANGE ``sk``, TTL ``expires_at`` of the dedup table):
``pk = "x#<correlation RuleID>#<sha256(partition value)[:40]>"`` — one partition per value of the
criterion every member shares (e.g. the resource id), so one Query returns every member's
signals for that value — and ``sk = "<member>#<event ms>#<event identity>"``: a re-read page or a
redelivered notification writes the same item again (idempotent), never a second signal.

Expiry is checked on read, never left to TTL: a signal counts only while its event time lies
within the correlation's lookback window of the newest signal being evaluated, and only while
its ``expires_at`` is in the future (TTL deletion may lag by days; ``expires_at`` is housekeeping).
"""

from __future__ import annotations

import hashlib
import random
import time
from typing import Any

import orjson

from wizwatch.detect.correlation import Signal
from wizwatch.errors import WizwatchError
from wizwatch.render import RenderError, clean, dumps

#: How long a signal item outlives its usefulness (event time + lookback) before TTL may take it.
RETENTION_S = 86_400


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


class SignalStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.requests = 0

    def put(self, items: list[tuple[str, Signal, int]], now_s: int) -> None:
        """Write (partition key, signal, lookback seconds) items; the same signal twice is one item."""
        requests: dict[tuple[str, str], dict[str, Any]] = {}
        for pk, s, lookback in items:
            sk = f"{s.member}#{int(s.time * 1000):013d}#{s.identity}"
            expires = max(now_s, int(s.time)) + lookback + RETENTION_S
            requests[(pk, sk)] = {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"S": sk},
                        "member": {"S": s.member},
                        "t": {"N": str(int(s.time * 1000))},
                        "identity": {"S": s.identity},
                        "values": {"B": _blob(list(s.values))},
                        "info": {"B": _blob(s.info)},
                        "expires_at": {"N": str(expires)},
                    }
                }
            }
        pending = list(requests.values())
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

    def read(self, pk: str, since: float, now_s: int) -> list[Signal]:
        """The signals of a partition with event time >= ``since`` that have not expired."""
        out: list[Signal] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            # Only signals inside the lookback window of the newest signal (event time), and only
            # unexpired items: an expired item may linger for days before TTL deletes it.
            "FilterExpression": "t >= :since AND expires_at > :now",
            "ExpressionAttributeValues": {
                ":pk": {"S": pk},
                ":since": {"N": str(int(since * 1000))},
                ":now": {"N": str(now_s)},
            },
            "ConsistentRead": True,
        }
        while True:
            self.requests += 1
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                values = tuple(tuple(v) for v in orjson.loads(item["values"]["B"]))
                out.append(
                    Signal(
                        member=item["member"]["S"],
                        time=int(item["t"]["N"]) / 1000,
                        values=values,
                        identity=item["identity"]["S"],
                        info=orjson.loads(item["info"]["B"]),
                    )
                )
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
