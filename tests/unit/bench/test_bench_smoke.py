"""The detector benchmark runs end to end on a tiny generated corpus and reports every figure.

Untimed: only the shape of the results and the event counts are checked, never a speed (the
machine is shared; the bench reports goals, tests do not enforce them).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING
from wizwatch_tools.bench import detector, production_path, report, rule_scaling, stages
from wizwatch_tools.bench.corpus import pages_of, write_pages

pytestmark = pytest.mark.untimed

CONTRACT_KEYS = {"events_per_s", "floor_events_per_s", "over_floor", "us_per_event"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    write_pages(out, AUDIT, "auditLogEntries", 30, 2, seed=1)
    write_pages(out, CLOUD_CONFIGURATION_FINDING, "configurationFindings", 10, 2, seed=1)
    return out


def test_tiny_corpus_is_deterministic(corpus: Path, tmp_path: Path) -> None:
    write_pages(tmp_path, AUDIT, "auditLogEntries", 30, 2, seed=1)
    assert pages_of(tmp_path, AUDIT) == pages_of(corpus, AUDIT)
    assert detector.polled_types(corpus) == [AUDIT, CLOUD_CONFIGURATION_FINDING]


@pytest.mark.parametrize("log_type", [AUDIT, CLOUD_CONFIGURATION_FINDING])
def test_measure_type_times_every_page_of_every_pass(corpus: Path, log_type: str) -> None:
    result = production_path.measure_type(log_type, pages_of(corpus, log_type), warm_passes=2)
    passes = [result["first"], *result["warm"]]
    assert len(passes) == 3
    for p in passes:
        assert p["events"] + p["quarantined"] == (20 if log_type == CLOUD_CONFIGURATION_FINDING else 60)
        assert p["detector_s"] > 0 and p["floor_s"] > 0
    # New ids on warm passes: the warm pass counts every match again, none is a duplicate.
    assert result["warm"][0]["matches"] == result["first"]["matches"]
    summary = detector.summarise(passes)
    assert set(summary) >= CONTRACT_KEYS


def test_renewed_pages_have_new_ids_and_the_same_records(corpus: Path) -> None:
    body = pages_of(corpus, AUDIT)[0]
    again = production_path.renewed(body, 3)
    import gzip

    import orjson

    before = orjson.loads(gzip.decompress(body))["data"]["auditLogEntries"]["nodes"]
    after = orjson.loads(gzip.decompress(again))["data"]["auditLogEntries"]["nodes"]
    assert [{**n, "id": None} for n in before] == [{**n, "id": None} for n in after]
    assert not {n["id"] for n in before} & {n["id"] for n in after}


def test_run_reports_the_contract_figures_and_the_goals(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        detector.startup,
        "cold_start",
        lambda samples: {"over_boto3": 1.0, "detector_import_cpu_s": 0.1, "boto3_import_cpu_s": 0.1},
    )
    monkeypatch.setattr(
        detector.startup, "peak_rss", lambda corpus: {"peak_mb": 1.0, "baseline_mb": 1.0, "records": 1}
    )
    result = detector.run(corpus, rounds=1, warm_passes=1)
    per_type = result["per_log_type"]
    assert set(per_type) == {AUDIT, CLOUD_CONFIGURATION_FINDING}
    for figures in per_type.values():
        assert set(figures) >= CONTRACT_KEYS
        assert set(figures["first_pass"]) >= CONTRACT_KEYS and set(figures["warm"]) >= CONTRACT_KEYS
    scaling = result["rule_scaling"]
    assert [scaling[k]["rules"] for k in ("1x", "4x", "10x")] == [
        scaling["audit_rules"] * m for m in (1, 4, 10)
    ]
    assert "us_per_event_at_250_rules" in scaling
    dynamo = result["dynamodb"]
    assert dynamo["first_pass"]["corpus"]["events"] == 80
    assert dynamo["first_pass"]["corpus"]["wru"] > 0
    for log_type, split in result["stages"].items():
        assert split["events"] == per_type[log_type]["events"]
        assert set(split["stages"]) == {label for _, _, label in stages.STAGES} | {"other", stages.STUBS}
        assert all(s["us_per_event"] >= 0 for s in split["stages"].values())
    assert stages.table(result["stages"])
    rows = report.goals(result)
    assert {r[0] for r in rows} >= {"DynamoDB WRU per matched event", "cold start / import boto3"}
    assert all(r[3] in ("pass", "FAIL", "n/a") for r in rows)
    assert report.detector_table(result) and report.goals_table(result)


def test_clones_have_new_ids_and_no_inline_filters() -> None:
    rules = rule_scaling.audit_rules()
    engine = rule_scaling.scaled(rules, 4)
    ids = [r.rule_id for r in engine.rules]
    assert len(ids) == len(set(ids)) == 4 * len(rules)
    assert all("InlineFilters" not in r.spec for r in engine.rules)


def test_memaws_query_reads_one_partition_as_dynamodb_does() -> None:
    """The bench's table is memaws's own: its partition index stays true through puts, deletes,
    transactions and TTL sweeps, and a Query returns exactly its partition's matching items."""
    from wizwatch_tools.lake.memaws import MemoryDynamoDB

    db = MemoryDynamoDB({"t": ("pk", "sk")})
    for p in ("a", "b"):
        for s in range(5):
            db.put_item(TableName="t", Item={"pk": {"S": p}, "sk": {"S": f"{s}"}, "v": {"N": str(s)}})
    db.delete_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "2"}})
    db.transact_write_items(
        TransactItems=[{"Delete": {"TableName": "t", "Key": {"pk": {"S": "b"}, "sk": {"S": "0"}}}}]
    )
    assert db.expire(2, attribute="v") == 3  # TTL-style sweep: a0, a1 and b1 (b0 is gone)
    found = {}
    for part in ("a", "b", "c"):
        query = {
            "TableName": "t",
            "KeyConditionExpression": "pk = :p AND sk >= :s",
            "FilterExpression": "v <> :two",
            "ExpressionAttributeValues": {":p": {"S": part}, ":s": {"S": "1"}, ":two": {"N": "3"}},
        }
        got = db.query(**query)
        found[part] = [i["sk"]["S"] for i in got["Items"]]
        assert got["Count"] == len(found[part])
    assert found == {"a": ["4"], "b": ["2", "4"], "c": []}  # a4, b2, b4 (a3 and b3 filtered out)
    assert set(db.tables["t"].partitions) == {("S", "a"), ("S", "b")}
    assert sorted(db.tables["t"]) == sorted(k for part in db.tables["t"].partitions.values() for k in part)


def test_the_cold_start_reads_hash_checked_bytecode_as_make_build_ships_it() -> None:
    """``make build`` compiles the built layer and functions (checked-hash); the bench's cold start
    compiles the same sources the same way before it measures."""
    import importlib.util

    from wizwatch_tools.bench import startup

    startup.compile_as_built()
    for source in (
        startup.ROOT / "layers" / "common" / "wizwatch" / "alerts" / "detector.py",
        startup.ROOT / "functions" / "detector" / "rules" / "global_helpers" / "wizwatch_defend_helpers.py",
    ):
        pyc = Path(importlib.util.cache_from_source(str(source)))
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b11  # hash-based, checked against the source at import (PEP 552)
