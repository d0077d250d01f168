"""The detector's lake copy: every event once, partitioned by event date, p_ fields as it computed them."""

from __future__ import annotations

import gzip
import json
from datetime import timedelta
from pathlib import Path

from detector_fixtures import write_rules
from lake_fixtures import T0, ArchiveBuilder, audit_key, audit_record, graphql_page

from wizwatch.archive import lake


def _rows(root: Path, prefix: str) -> list[dict]:
    rows = []
    for path in sorted((root / prefix).rglob("*.json.gz")):
        rows += [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]
    return rows


def test_events_go_to_the_partition_of_their_event_date_with_the_detectors_p_fields(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    late = T0.replace(hour=23, minute=59)
    records = [
        audit_record("a1", late),
        audit_record("a2", late + timedelta(minutes=2), action="Login"),  # next day
        {"id": "bad", "action": 7},  # refused by the normaliser: quarantined, not in the lake
    ]
    key = audit_key(late - timedelta(minutes=5))
    archive = ArchiveBuilder(tmp_path / "archive", rules)
    archive.add(key, graphql_page(records), processed_at=late + timedelta(minutes=10))

    root = tmp_path / "archive"
    day1 = _rows(root, "lake/wiz_audit/dt=2026-11-22")
    day2 = _rows(root, "lake/wiz_audit/dt=2026-11-23")
    assert [r["id"] for r in day1] == ["a1"] and [r["id"] for r in day2] == ["a2"]
    assert day1[0]["p_event_time"] == "2026-11-22 23:59:00.000000000"
    assert all(r["p_source_key"] == key and r["p_log_type"] == "Wiz.Audit" for r in day1 + day2)
    # the matched event, as the alert carried it, is the lake's row (plus p_source_key)
    (alert,) = archive.alerts
    event = alert["events"][0]
    assert {**event, "p_source_key": key} == day1[0]
    # alerts: the matches/ rows again, by event date
    (match,) = _rows(root, "lake/alerts")
    assert match["p_rule_id"] == "Test.DeleteUser" and match["p_alert_id"] == alert["alert_id"]
    assert match["p_source_key"] == key
    (kept,) = _rows(root, "matches/")
    assert {**kept, "p_source_key": key} == match
    assert not any(r["id"] == "bad" for r in day1 + day2)


def test_a_reprocessed_page_overwrites_its_own_lake_objects(tmp_path: Path) -> None:
    key = audit_key(T0)
    assert lake.lake_key("wiz_audit", "2026-11-22", key) == (
        "lake/wiz_audit/dt=2026-11-22/Wiz.Audit_20261122T100000000000Z_20261122T101500000000Z_page-00001.json.gz"
    )
    rows = [{"id": "x", "p_event_time": "2026-11-22 10:00:00.000000000"}, {}]
    lines = lake.json_lines(rows, key).splitlines()
    assert [json.loads(line)["p_source_key"] for line in lines] == [key, key]
    assert rows[0] == {"id": "x", "p_event_time": "2026-11-22 10:00:00.000000000"}  # not modified
    assert lake.event_date({}) == lake.UNDATED


def test_a_record_that_cannot_be_rendered_as_is_costs_no_other_row(tmp_path: Path) -> None:
    rules = write_rules(tmp_path / "rules")
    nested: dict = {}
    deep = nested
    for _ in range(600):  # deeper than JSON encoders go
        deep["x"] = {}
        deep = deep["x"]
    records = [
        audit_record("big", T0, actionParameters={"n": 2**70}),
        audit_record("deep", T0, actionParameters=nested),
        audit_record("fine", T0),
    ]
    archive = ArchiveBuilder(tmp_path / "archive", rules)
    report = archive.add(audit_key(T0), graphql_page(records), processed_at=T0 + timedelta(minutes=20))
    rows = _rows(tmp_path / "archive", "lake/wiz_audit")
    assert report.events == 3 and len(rows) == 3
    assert {r["id"] for r in rows} >= {"fine"}
    assert all(r["p_source_key"] == audit_key(T0) for r in rows)


def test_rows_rendered_once_for_matches_give_the_same_lake_lines() -> None:
    """The detector renders matched rows once for matches/ and hands the bytes to the lake copy:
    the lines must be exactly those the lake renders itself (empty rows included)."""
    from wizwatch.render import dumps_row

    rows = [{"id": "a", "p_event_time": "2026-11-22 00:00:00.000000000"}, {}, {"x": [1, {"y": None}]}]
    key = "raw/Wiz.Audit/dt=2026-11-22/x.json.gz"
    assert lake.json_lines(rows, key, [dumps_row(r) for r in rows]) == lake.json_lines(rows, key)
