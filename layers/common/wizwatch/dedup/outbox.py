"""The page outbox: every alert one raw object raised, in one compressed item, and its receipt.

Items (same table, HASH ``pk``, RANGE ``sk``; ``<page>`` is a digest of the object's key and
version, see :func:`page_digest`):

* ``pk = "o#<page>"``, ``sk = "a<gen>.<n>"``: the alerts processing generation ``gen`` (its start,
  epoch ms) of the object raised, zlib-compressed together (alerts of one page share most of their
  text: ~260 bytes an alert on the bench corpus against ~1,250 gzipped one by one), split over
  several items only if one would pass :data:`CHUNK_BYTES`. Written after the windows are
  committed and before the alerts are queued; read only to take over another object's alert
  that was never confirmed queued (:meth:`Outbox.bodies`).
* ``pk = "o#<page>"``, ``sk = "s<gen>"``: the receipt: every alert of that generation is on the
  queue. A window whose alert is pending under ``(page, gen)`` has been sent iff the receipt
  exists. One small write per object replaces one write per alert.

``expires_at`` lets TTL remove them after the idempotency period; nothing depends on when.
"""

from __future__ import annotations

import hashlib
import random
import time
import zlib
from typing import Any

import orjson

from wizwatch.alerts.message import dumps
from wizwatch.dedup.codec import to_item
from wizwatch.errors import WizwatchError

CHUNK_BYTES = 350_000  # under DynamoDB's 400 KB item limit with room for the key and numbers


class OutboxError(WizwatchError):
    """BatchGetItem kept returning unprocessed keys."""


def page_digest(key: str, version_id: str | None = None) -> str:
    """One raw object *version*: a re-fetched page (same key, new version) is another page."""
    page = key if not version_id else f"{key}?versionId={version_id}"
    return hashlib.sha256(page.encode()).hexdigest()[:24]


class Outbox:
    def __init__(self, client: Any, table: str, keep_s: int) -> None:
        self.client = client
        self.table = table
        self.keep_s = keep_s
        self.requests = 0

    def batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """Consistent reads of (pk, sk) keys, raw DynamoDB items by key."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [to_item({"pk": pk, "sk": sk}) for pk, sk in unique[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(10):
                self.requests += 1
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    found[(item["pk"]["S"], item["sk"]["S"])] = item
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(min(1.0, 0.05 * 2**attempt) * random.random())
            else:
                raise OutboxError("BatchGetItem kept returning unprocessed keys")
        return found

    def sent(self, refs: set[tuple[str, int]]) -> set[tuple[str, int]]:
        """The (page, gen) of ``refs`` whose receipt exists: their alerts are on the queue."""
        items = self.batch_get([(f"o#{p}", f"s{g}") for p, g in sorted(refs)])
        return {(p, g) for p, g in refs if (f"o#{p}", f"s{g}") in items}

    def bodies(self, refs: set[tuple[str, int]]) -> dict[str, dict[str, Any]]:
        """alert_id -> alert of every alert the outboxes of ``refs`` hold."""
        first = self.batch_get([(f"o#{p}", f"a{g}.0") for p, g in sorted(refs)])
        more = [
            (f"o#{p}", f"a{g}.{n}")
            for p, g in refs
            if (f"o#{p}", f"a{g}.0") in first
            for n in range(1, int(first[(f"o#{p}", f"a{g}.0")]["chunks"]["N"]))
        ]
        items = {**first, **(self.batch_get(more) if more else {})}
        out: dict[str, dict[str, Any]] = {}
        for p, g in refs:
            head = items.get((f"o#{p}", f"a{g}.0"))
            if head is None:
                continue  # its writer died before storing it: the object's retry renders it again
            parts = [items.get((f"o#{p}", f"a{g}.{n}")) for n in range(int(head["chunks"]["N"]))]
            if any(part is None for part in parts):
                continue
            blob = b"".join(bytes(part["z"]["B"]) for part in parts if part is not None)
            for alert in orjson.loads(zlib.decompress(blob)):
                out[alert["alert_id"]] = alert
        return out

    def put(self, page: str, gen: int, alerts: list[dict[str, Any]], now_s: int) -> list[bytes]:
        """Store the alerts generation ``gen`` of an object raised (before they are queued);
        returns each alert's JSON (``dumps``), which is also what the queue receives."""
        bodies = [dumps(a) for a in alerts]
        # zlib level 6, not a faster compressor: measured over the bench corpus, ISA-L level 2
        # would save ~0.1 s CPU on Detections' 1,000 events but write ~55% more outbox bytes
        # (+350 WRU there, ~+1,000 over the corpus): at on-demand prices a million WRU cost far
        # more than the Lambda seconds saved, so the units win over the CPU here.
        blob = zlib.compress(b"[" + b",".join(bodies) + b"]", 6)
        chunks = [blob[i : i + CHUNK_BYTES] for i in range(0, len(blob), CHUNK_BYTES)] or [b""]
        # Later chunks first: a reader that finds chunk 0 finds the rest.
        for n in reversed(range(len(chunks))):
            item = to_item(
                {
                    "pk": f"o#{page}",
                    "sk": f"a{gen}.{n}",
                    "z": chunks[n],
                    "expires_at": now_s + self.keep_s,
                    "chunks": len(chunks) if n == 0 else None,  # None: left out of the item
                }
            )
            self.requests += 1
            # Unconditional: the same (page, generation) always holds the same alerts.
            self.client.put_item(TableName=self.table, Item=item)
        return bodies

    def mark_sent(self, page: str, gen: int, now_s: int) -> None:
        """Every alert generation ``gen`` of ``page`` raised or re-queued is on the queue."""
        self.requests += 1
        # Unconditional and idempotent: the receipt only ever says "sent".
        self.client.put_item(
            TableName=self.table,
            Item=to_item({"pk": f"o#{page}", "sk": f"s{gen}", "expires_at": now_s + self.keep_s}),
        )
