"""Every DynamoDB request the dedup store makes, byte for byte, against a recording taken before
its CPU work (direct codec instead of boto3's TypeSerializer, cheaper planning): same items,
same conditions, same keys read, same outcomes, over a scripted history that touches every path
(new, joined and replaced windows, duplicates, thresholds, unique counts, suppression, inline
members expiring, spilling to marker transactions, pending alerts taken over, receipts).

The recording (``dedup_wire_golden.json``) was made by running this file as a script on main
without those changes (``python tests/unit/dedup/test_wire_golden.py --write``; last at b6abe0f,
after markers of content-may-change groups became their own conditional PutItems); a change that
is meant to alter what DynamoDB receives must record it again and say why.
"""

from __future__ import annotations

import base64
import json
import random
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wizwatch.alerts import clock
from wizwatch.alerts.message import dumps
from wizwatch.dedup.model import RULE, RULE_ERROR, AlertFacts, Group, GroupKey, Hit
from wizwatch.dedup.store import DedupStore
from wizwatch_tools.lake.memaws import MemoryDynamoDB

GOLDEN = Path(__file__).with_name("dedup_wire_golden.json")
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TABLE = "dedup"


def _plain(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Recorder:
    def __init__(self, inner: MemoryDynamoDB, log: list[Any]) -> None:
        self.inner, self.log = inner, log

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(**kwargs: Any) -> Any:
            self.log.append([name, _plain(kwargs)])
            return method(**kwargs)

        return call


def _group(n: int, ids: list[str], *, rule: str = "R.A", dedup: str = "d", **opts: Any) -> Group:
    def render(f: AlertFacts) -> dict[str, Any]:
        return {
            "alert_id": f.alert_id,
            "event_count": f.event_count,
            "first": f.first_event_time,
            "last": f.last_event_time,
            "window_start": f.window_start.isoformat(),
            "created": f.created_at,
        }

    uniques = opts.pop("uniques", None)
    hits = [
        Hit(
            i, f"2026-11-22T09:{(n + k) % 60:02d}:00.000Z" if k % 5 else None, uniques[k] if uniques else None
        )
        for k, i in enumerate(ids)
    ]
    alert_type = opts.pop("alert_type", RULE)
    markers = opts.pop("markers", False)
    g = Group(
        key=GroupKey(alert_type, rule, dedup),
        period_minutes=opts.pop("period", 60),
        threshold=opts.pop("threshold", 1),
        counts_unique=uniques is not None,
        hits=hits,
        render=render,
        suppressed=opts.pop("suppressed", False),
    )
    g.markers = markers
    assert not opts, opts
    return g


def scenario() -> list[Any]:
    log: list[Any] = []
    ddb = MemoryDynamoDB({TABLE: ("pk", "sk")})
    store = DedupStore(Recorder(ddb, log), TABLE, idempotency_ttl_s=7_200)
    current = {"t": T0}
    saved = clock.now
    clock.now = lambda: current["t"]  # type: ignore[assignment]
    random.seed(14)
    try:

        def run(
            step: str, groups: list[Group], source: str, *, send: bool = True, version: str | None = None
        ) -> None:
            out = store.record(groups, source=source, version_id=version)
            log.append(
                [
                    step,
                    sorted(
                        [
                            [k.alert_type, k.rule_id, k.dedup],
                            o.alert_id,
                            o.event_count,
                            o.counted,
                            sorted(o.duplicates.items()),
                            o.alerts,
                        ]
                        for k, o in out.items()
                    ),
                ]
            )
            if send:
                store.mark_sent(out.receipt)

        ids = [f"e{i}" for i in range(200)]
        run("first", [_group(0, ids[:3]), _group(1, ids[3:4], rule="R.B", threshold=3)], "raw/1")
        run("again", [_group(0, ids[:4]), _group(1, ids[3:6], rule="R.B", threshold=3)], "raw/2")
        run(
            "unique",
            [_group(2, ids[10:16], rule="R.U", threshold=3, uniques=["a", "a", "b", "a", "c", "d"])],
            "raw/3",
        )
        run("suppressed", [_group(3, ids[20:22], rule="R.S", suppressed=True)], "raw/4")
        run(
            "error",
            [_group(4, ids[22:23], rule="R.E", alert_type=RULE_ERROR, dedup="R.E:TypeError")],
            "raw/5",
        )
        run("spill", [_group(5, ids[30:100], rule="R.M", threshold=50)], "raw/6")
        run("spill-more", [_group(6, ids[90:140], rule="R.M", threshold=50)], "raw/7")
        run("markers", [_group(7, ids[140:143], rule="R.D", markers=True)], "raw/8")
        run("markers-again", [_group(8, ids[141:145], rule="R.D", dedup="other", markers=True)], "raw/9")
        current["t"] = T0 + timedelta(minutes=30)
        run("pending", [_group(9, ids[150:151], rule="R.P")], "raw/10", send=False)
        run("retry", [_group(9, ids[150:152], rule="R.P")], "raw/10")
        run("versioned", [_group(10, ids[152:153], rule="R.V")], "raw/11", send=False, version="v1")
        current["t"] = T0 + timedelta(minutes=61)
        run(
            "new-window", [_group(11, ids[:2] + ids[160:161]), _group(12, ids[150:151], rule="R.P")], "raw/12"
        )
        run("takeover", [_group(13, ids[153:154], rule="R.V")], "raw/13")
        current["t"] = T0 + timedelta(hours=3)
        run(
            "members-expired",
            [_group(14, ids[:3] + ids[170:172]), _group(15, ids[95:97], rule="R.M", threshold=50)],
            "raw/14",
        )
        run("late", [_group(16, ids[170:175], period=1)], "raw/15")
    finally:
        clock.now = saved  # type: ignore[method-assign]
    return json.loads(json.dumps(log))


def test_the_store_sends_dynamodb_exactly_what_it_sent_before() -> None:
    expected = json.loads(GOLDEN.read_text())
    got = scenario()
    assert len(got) == len(expected)
    for n, (ours, theirs) in enumerate(zip(got, expected, strict=True)):
        assert ours == theirs, f"request/outcome {n} differs"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    GOLDEN.write_text("[\n" + ",\n".join(json.dumps(x, sort_keys=True) for x in scenario()) + "\n]\n")


def test_the_alerts_json_handed_to_the_queue_is_the_outboxs() -> None:
    ddb = MemoryDynamoDB({TABLE: ("pk", "sk")})
    store = DedupStore(ddb, TABLE)
    saved = clock.now
    clock.now = lambda: T0  # type: ignore[assignment]
    try:
        out = store.record([_group(0, ["e1"]), _group(1, ["e2"], rule="R.B")], source="raw/1")
    finally:
        clock.now = saved  # type: ignore[method-assign]
    queued = [a for o in out.values() for a in o.alerts]
    assert out.rendered is not None and len(queued) == 2
    assert {k: (a, dumps(a)) for k, (a, _) in out.rendered.items()} == out.rendered
    assert all(out.rendered[a["alert_id"]][0] is a for a in queued)
    [head] = [i for i in ddb.tables[TABLE].values() if i["pk"]["S"].startswith("o#") and "z" in i]
    assert zlib.decompress(head["z"]["B"]) == b"[" + b",".join(b for _, b in out.rendered.values()) + b"]"
