"""Hostile input through the detector (moto in-process, real parser, engine and dedup store).

In every case the good records on the same page alert exactly once, also when the page is
processed again (an SQS redelivery or a DLQ redrive), and the message never fails.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import (  # noqa: F401  (env_fixture, now_fixture: pytest fixtures)
    BUCKET,
    Env,
    env_fixture,
    key_for,
    now_fixture,
    s3_event,
    sqs_event,
)
from hostile_records import HOSTILE_AUDIT, audit_json, graphql_page, gzip_bomb

from wizwatch.alerts import handler as detector_handler
from wizwatch.alerts.handler import handle
from wizwatch.parse.records import REPAIRS_FIELD
from wizwatch.render import RENDER_ERROR_FIELD

GOOD = ["g1", "g2", "g3"]


def run(event: dict[str, Any]) -> dict[str, Any]:
    return handle(event, None, default_rules_dir=Path("/nonexistent"))


@pytest.fixture(autouse=True)
def _fresh_detector() -> None:
    detector_handler._build.cache_clear()


def hostile_page(raw: bytes) -> bytes:
    return graphql_page([audit_json("g1"), audit_json("g2"), raw, audit_json("g3")])


@pytest.mark.parametrize("case", sorted(HOSTILE_AUDIT))
def test_good_records_alert_exactly_once_beside_a_hostile_one(case: str, env: Env) -> None:
    hostile_id, raw, outcome = HOSTILE_AUDIT[case]
    key = env.put(key_for(), body=hostile_page(raw))
    assert run(sqs_event(s3_event(key))) == {"batchItemFailures": []}
    alerts = {a["dedup_string"]: a for a in env.queued() if a["rule_id"] == "Test.DeleteUser"}
    expected = set(GOOD) if outcome == "unreadable" else {*GOOD, hostile_id}
    assert set(alerts) == expected
    for good in GOOD:  # the good events are in their alerts exactly as parsed
        (ev,) = alerts[good]["events"]
        assert ev["id"] == good and REPAIRS_FIELD not in ev and RENDER_ERROR_FIELD not in ev
    quarantined = env.lines("quarantine/Wiz.Audit/")
    matches = {row["id"]: row for row in env.lines("matches/Test.DeleteUser/")}
    assert set(matches) == expected
    if outcome == "unreadable":
        (row,) = quarantined
        assert row["index"] == 2 and row["record"] is None and hostile_id in row["raw"]
        assert row["reason"].startswith("not JSON") and row["source"].endswith(key)
    else:
        assert quarantined == []
        (ev,) = alerts[hostile_id]["events"]
        if outcome == "repaired":
            assert ev[REPAIRS_FIELD] and matches[hostile_id][REPAIRS_FIELD] == ev[REPAIRS_FIELD]
        if "nested" in case:  # too deep for JSON encoders: the copies are stand-ins, the rest intact
            assert "nested deeper than 200 levels" in ev[RENDER_ERROR_FIELD]
            assert "nested deeper than 200 levels" in matches[hostile_id][RENDER_ERROR_FIELD]
            assert all(RENDER_ERROR_FIELD not in matches[g] for g in GOOD)
    # Processed again (redelivery, DLQ redrive): nothing fails, nothing alerts twice.
    assert run(sqs_event(s3_event(key), s3_event(key))) == {"batchItemFailures": []}
    assert env.queued() == []


def test_every_hostile_record_on_one_page(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    raws = [raw for _, raw, _ in HOSTILE_AUDIT.values()]
    key = env.put(key_for(), body=graphql_page([audit_json("g1"), *raws, audit_json("g2")]))
    assert run(sqs_event(s3_event(key))) == {"batchItemFailures": []}
    unreadable = [i + 1 for i, (*_, outcome) in enumerate(HOSTILE_AUDIT.values()) if outcome == "unreadable"]
    assert [r["index"] for r in env.lines("quarantine/Wiz.Audit/")] == unreadable
    dedups = [a["dedup_string"] for a in env.queued() if a["rule_id"] == "Test.DeleteUser"]
    assert len(dedups) == len(set(dedups)) == 2 + len(raws) - len(unreadable)
    quarantined = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if '"RecordsQuarantined"' in line
    ]
    # Per log type (dashboard) and in total (the alarm), both counting the records quarantined.
    by_dims = {q.get("LogType", "total"): q["RecordsQuarantined"] for q in quarantined}
    assert by_dims == {"Wiz.Audit": [float(len(unreadable))], "total": [float(len(unreadable))]}


def test_a_gzip_bomb_is_quarantined_whole_and_its_batch_neighbours_alert_once(env: Env) -> None:
    bomb = env.put(key_for(1), body=gzip_bomb())  # 2.7 MB, inflates to 600 MB
    good = env.put(key_for(2), body=graphql_page([audit_json("g1"), audit_json("g2")]))
    assert run(sqs_event(s3_event(bomb), s3_event(good))) == {"batchItemFailures": []}
    assert sorted(a["dedup_string"] for a in env.queued()) == ["g1", "g2"]
    kept = env.s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/")["Contents"]
    (page,) = [o["Key"] for o in kept if o["Key"].endswith(".page.json.gz")]
    reason = env.s3.head_object(Bucket=BUCKET, Key=page)["Metadata"]["reason"]
    assert "inflates past the 64 MiB limit" in reason


def test_the_page_limit_is_configurable(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_PAGE_MB", "1")
    key = env.put(key_for(), body=gzip.compress(b" " * (1024 * 1024) + b"{}"))
    assert run(s3_event(key)) == {"batchItemFailures": []}
    (obj,) = env.s3.list_objects_v2(Bucket=BUCKET, Prefix="quarantine/")["Contents"]
    assert "1 MiB limit" in env.s3.head_object(Bucket=BUCKET, Key=obj["Key"])["Metadata"]["reason"]
    monkeypatch.setenv("MAX_PAGE_MB", "0")
    detector_handler._build.cache_clear()
    with pytest.raises(Exception, match="MAX_PAGE_MB"):
        run(s3_event(key))


def test_one_huge_event_does_not_push_the_others_out_of_their_alert(env: Env) -> None:
    # Test.UpdatesByIp groups by source IP: one alert holding all three events.
    nodes = [
        audit_json("u1", action="UpdateUser"),
        audit_json("u2", action="UpdateUser", blob="x" * 2_000_000),
        audit_json("u3", action="UpdateUser"),
    ]
    run(s3_event(env.put(key_for(), body=graphql_page(nodes))))
    (alert,) = [a for a in env.queued() if a["rule_id"] == "Test.UpdatesByIp"]
    assert [e["id"] for e in alert["events"]] == ["u1", "u2", "u3"] and "events_omitted" not in alert
    assert RENDER_ERROR_FIELD in alert["events"][1] and len(alert["events"][1]["blob"]) == 1000
    rows = {r["id"]: r for r in env.lines("matches/Test.UpdatesByIp/")}
    assert len(rows["u2"]["blob"]) == 2_000_000  # the matches copy is whole
