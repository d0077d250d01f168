"""Hostile input end to end: S3 -> SQS -> detector -> alert queue -> notifier -> SNS (moto server).

One batch holds a page with every hostile record between good ones, a page whose matched event is
nested too deep for JSON encoders, and the 2.7 MB gzip bomb that inflates to 600 MB. The good
events reach SNS exactly once, nothing lands in a dead-letter queue, each bad record is in
quarantine/ with its reason, and a redrive of the same objects sends nothing again.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import T0, key_for, write_rules
from hostile_records import HOSTILE_AUDIT, audit_json, audit_with, graphql_page, gzip_bomb, nested_json

from wizwatch.alerts import clock
from wizwatch.parse.records import REPAIRS_FIELD
from wizwatch.render import RENDER_ERROR_FIELD


@pytest.fixture
def det(stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(stack.spec("detector").environment, "RULES_DIR", str(write_rules(tmp_path / "rules")))
    monkeypatch.setattr(clock, "now", lambda: T0)
    return stack


def put(stack: Any, key: str, body: bytes) -> str:
    stack.s3.put_object(Bucket=stack.resources["bucket"], Key=key, Body=body)
    return key


def lines(stack: Any, key: str) -> list[dict[str, Any]]:
    body = stack.s3.get_object(Bucket=stack.resources["bucket"], Key=key)["Body"].read()
    return [json.loads(line) for line in gzip.decompress(body).splitlines()]


def test_hostile_records_and_objects_cost_their_neighbours_nothing(det: Any) -> None:
    hostile = put(
        det,
        key_for(1),
        graphql_page([audit_json("g1"), *(raw for _, raw, _ in HOSTILE_AUDIT.values()), audit_json("g2")]),
    )
    # A page the fast parse takes whole, whose matched event is deeper than orjson renders.
    deep_page = [audit_json("g3"), audit_with("h-deep400", nested_json(400)), audit_json("g4")]
    deep = put(det, key_for(2), graphql_page(deep_page))
    bomb = put(det, key_for(3), gzip_bomb())
    det.run_detector()
    det.run_notifier()

    unreadable = {id_ for id_, _, outcome in HOSTILE_AUDIT.values() if outcome == "unreadable"}
    evaluated = {id_ for id_, _, _ in HOSTILE_AUDIT.values()} - unreadable
    deleted = [a for a in det.received_alerts() if a["rule_id"] == "Test.DeleteUser"]
    expected = {"g1", "g2", "g3", "g4", "h-deep400", *evaluated}
    assert sorted(a["dedup_string"] for a in deleted) == sorted(expected)  # each exactly once
    assert det.queue_depth("raw_dlq_url") == 0 and det.queue_depth("alert_dlq_url") == 0
    events = {a["dedup_string"]: a["events"][0] for a in deleted}
    for good in ("g1", "g2", "g3", "g4"):
        assert REPAIRS_FIELD not in events[good] and RENDER_ERROR_FIELD not in events[good]
    assert events["h-surrogate"][REPAIRS_FIELD] and events["h-utf8"][REPAIRS_FIELD]
    assert "nested deeper than 200 levels" in events["h-deep400"][RENDER_ERROR_FIELD]

    quarantined = det.archived_keys("quarantine/")
    [records] = [k for k in quarantined if k.endswith(".records.json.gz")]
    rows = lines(det, records)
    assert {r["source"].rsplit("/", 1)[-1] for r in rows} == {hostile.rsplit("/", 1)[-1]}
    assert all(r["record"] is None and r["reason"].startswith("not JSON") for r in rows)
    assert {
        json.loads(r["raw"].replace("NaN", "0").replace("Infinity", "0"))["id"] for r in rows
    } == unreadable
    [page] = [k for k in quarantined if k.endswith(".page.json.gz")]
    head = det.s3.head_object(Bucket=det.resources["bucket"], Key=page)
    assert bomb.rsplit("/", 1)[-1].removesuffix(".json.gz") in page
    assert "inflates past the 64 MiB limit" in head["Metadata"]["reason"]

    # Redrive: the same three objects notified again; nothing fails, nothing is sent twice.
    before = len(det.received_alerts())
    for key in (hostile, deep, bomb):
        det.sqs.send_message(
            QueueUrl=det.resources["raw_queue_url"],
            MessageBody=json.dumps(
                {
                    "Records": [
                        {
                            "eventSource": "aws:s3",
                            "eventName": "ObjectCreated:Put",
                            "s3": {"bucket": {"name": det.resources["bucket"]}, "object": {"key": key}},
                        }
                    ]
                }
            ),
        )
    result = det.run_detector()
    det.run_notifier()
    assert result.failed == 0 and len(det.received_alerts()) == before
    assert det.queue_depth("raw_dlq_url") == 0
