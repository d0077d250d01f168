"""The contract-extension tables of ``wizwatch query``: ``deliveries`` (the notifier's records,
written by its own writer) joined with ``alerts`` (written by the real detector) answers "what was
not delivered"; ``wiz_cloud_configuration_posture`` is the newest *complete* snapshot only."""

from __future__ import annotations

import gzip
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from aws_fixtures import in_process_aws
from detector_fixtures import write_rules
from lake_fixtures import (
    NEVER_RECORDED,
    NOT_DELIVERED,
    T0,
    ArchiveBuilder,
    audit_key,
    audit_record,
    graphql_page,
)

from wizwatch.archive import keys
from wizwatch.notify.records import DELIVERED, FAILED, RETRYING, DeliveryRecord, DeliveryRecords
from wizwatch_tools.lake import query as engine
from wizwatch_tools.lake import tables
from wizwatch_tools.lake.memaws import MemoryS3
from wizwatch_tools.lake.sources import Archive, LocalArchive, open_archive
from wizwatch_tools.simulator.datagen.configuration import configuration_finding

README = Path(__file__).resolve().parents[3] / "README.md"
LT = "Wiz.CloudConfigurationFinding"


def rows(archive: Archive, sql: str) -> tuple[list[tuple[Any, ...]], list[engine.TableRead]]:
    with engine.run(archive, sql) as result:
        return [r for batch in result.batches() for r in batch], result.reads


def _folder_writer(root: Path) -> MemoryS3:
    def put(_bucket: str, key: str, body: bytes, _meta: dict[str, str]) -> None:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)

    return MemoryS3(on_put=put)


#: Per alert, in event order: (destination, status, attempts) of its records.
PLAN = [
    [("sns", DELIVERED, 1), ("slack", DELIVERED, 2)],
    [("sns", DELIVERED, 1), ("slack", FAILED, 10)],
    [("sns", RETRYING, 3)],
    [],
]


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    """Four DeleteUser alerts on two days: one delivered everywhere, one failed on slack, one
    still retrying on sns, one the notifier never recorded."""
    base = tmp_path_factory.mktemp("deliveries")
    builder = ArchiveBuilder(base / "archive", write_rules(base / "rules"))
    for day in range(2):
        start = T0 + timedelta(days=day)
        records = [audit_record(f"d{day}-{i}", start + timedelta(minutes=i)) for i in range(2)]
        builder.add(audit_key(start), graphql_page(records), processed_at=start + timedelta(minutes=20))
    alerts = sorted(builder.alerts, key=lambda a: a["first_event_time"])
    assert len(alerts) == 4
    writer = DeliveryRecords(_folder_writer(base / "archive"), "bucket")
    for alert, deliveries in zip(alerts, PLAN, strict=True):
        for dest, status, attempts in deliveries:
            extra: dict[str, Any] = (
                {"delivered_at": "2026-11-23T10:00:00Z", "external_id": "m-1"}
                if status == DELIVERED
                else {"failure_class": "unavailable", "http_status": 503, "error": "HTTP 503"}
            )
            writer.write(
                alert,
                DeliveryRecord.for_alert(alert, dest, dest, status=status, attempts=attempts, **extra),
            )
    return base / "archive", alerts


def test_deliveries_are_one_typed_row_per_record_partitioned_by_the_alerts_day(
    delivered: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, alerts = delivered
    got, reads = rows(
        LocalArchive(root),
        "SELECT p_alert_id, destination, destination_type, status, attempts, http_status, "
        "delivered_at, typeof(attempts), typeof(updated_at), typeof(delivered_at), dt "
        "FROM deliveries ORDER BY dt, p_alert_id, destination",
    )
    assert len(got) == 5 and reads[0].source == "deliveries" and reads[0].objects == 5
    assert {r[-1] for r in got} == {a["created_at"][:10] for a in alerts[:3]}
    assert {r[7:10] for r in got} == {("BIGINT", "TIMESTAMP", "TIMESTAMP")}
    failed = next(r for r in got if r[3] == FAILED)
    assert failed[:6] == (alerts[1]["alert_id"], "slack", "slack", FAILED, 10, 503)
    assert next(r for r in got if r[3] == DELIVERED)[6] == datetime(2026, 11, 23, 10, 0)
    # every column the record has, no more (the Glue table declares the same)
    with engine.run(LocalArchive(root), "SELECT * FROM deliveries") as result:
        assert result.columns == [n for n, _ in tables.columns("deliveries")] + ["dt"]


def test_a_dt_filter_reads_only_that_days_records(delivered: tuple[Path, list[dict[str, Any]]]) -> None:
    root, alerts = delivered
    day = alerts[2]["created_at"][:10]
    archive = LocalArchive(root)
    got, reads = rows(archive, f"SELECT count(*) FROM deliveries WHERE dt = '{day}'")
    expected = sum(len(p) for a, p in zip(alerts, PLAN, strict=True) if a["created_at"][:10] == day)
    assert got == [(expected,)] and expected > 0
    assert reads[0].partitions == [day]
    assert archive.reads and all(f"deliveries/dt={day}/" in k for k in archive.reads)
    got, _ = rows(LocalArchive(root), "SELECT count(*) FROM deliveries WHERE dt = '2020-01-01'")
    assert got == [(0,)]


def test_alerts_not_delivered_joins_alerts_and_deliveries(
    delivered: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, alerts = delivered
    got, reads = rows(LocalArchive(root), NOT_DELIVERED)
    # every routed destination (it has a record) whose record is not delivered, with the alert's events
    assert [(r[0], r[1], r[3], r[4], r[5], r[6], r[7]) for r in got] == [
        (alerts[1]["alert_id"], "Test.DeleteUser", 1, "slack", FAILED, 10, 503),
        (alerts[2]["alert_id"], "Test.DeleteUser", 1, "sns", RETRYING, 3, 503),
    ]
    assert got[0][2] == datetime(2026, 11, 22, 10, 1)  # the alert's first event, from alerts
    assert {r.table for r in reads} == {"alerts", "deliveries"}
    # matched groups the notifier never recorded: here the alert no delivery was written for
    got, _ = rows(LocalArchive(root), NEVER_RECORDED)
    assert [(r[0], r[1], r[3]) for r in got] == [("Test.DeleteUser", alerts[3]["alert_id"], 1)]
    readme = re.sub(r"\s+", " ", README.read_text())
    for sql in (NOT_DELIVERED, NEVER_RECORDED):
        assert re.sub(r"\s+", " ", sql) in readme, "README's example differs from the tested one"


# ------------------------------------------------------------------------------------- posture


def write_snapshot(
    root: Path, slot: datetime, findings: list[dict[str, Any]], per_page: int, *, complete: bool = True,
    attempt: int = 0, manifest_pages: int | None = None,
) -> str:  # fmt: skip
    """A snapshot folder as the poller writes it (exact GraphQL answers, manifest last)."""
    pages = [findings[i : i + per_page] for i in range(0, len(findings), per_page)] or [[]]
    for n, nodes in enumerate(pages, 1):
        answer = {
            "data": {"configurationFindings": {"nodes": nodes, "pageInfo": {"hasNextPage": n < len(pages)}}}
        }
        path = root / keys.snapshot_page_key(LT, slot, attempt, n)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(orjson.dumps(answer)))
    sid = keys.snapshot_id(slot, attempt)
    if complete:
        manifest = {"log_type": LT, "snapshot_id": sid, "pages": manifest_pages or len(pages)}
        path = root / keys.snapshot_manifest_key(LT, slot, attempt)
        path.write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return sid


def findings(n: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [configuration_finding(rng, datetime(2026, 11, 20, tzinfo=UTC)) for _ in range(n)]


SLOT = datetime(2026, 11, 22, 2, tzinfo=UTC)
POSTURE_SQL = (
    "SELECT count(*), count(DISTINCT id), any_value(p_snapshot_id), any_value(dt), "
    "count(DISTINCT p_source_key), sum(CASE WHEN status = 'OPEN' AND result = 'FAIL' THEN 1 ELSE 0 END) "
    "FROM wiz_cloud_configuration_posture"
)


def test_posture_is_the_newest_complete_snapshot_never_an_interrupted_one(tmp_path: Path) -> None:
    old, new = findings(23, 1), findings(31, 2)
    first = write_snapshot(tmp_path, SLOT, old, per_page=10)
    # the next day's snapshot is being taken: two pages stored, no manifest yet
    write_snapshot(tmp_path, SLOT + timedelta(days=1), new, per_page=10, complete=False)
    got, reads = rows(LocalArchive(tmp_path), POSTURE_SQL)
    live = sum(1 for f in old if f["status"] == "OPEN" and f["result"] == "FAIL")
    assert got == [(23, len({f["id"] for f in old}), first, "2026-11-22", 3, live)]
    assert reads[0].snapshot_id == first and reads[0].objects == 3
    assert [why for why in reads[0].skipped.values()] == ["no manifest.json (being taken, or abandoned)"]
    # nested fields are structs, as for the other tables
    got, _ = rows(
        LocalArchive(tmp_path), "SELECT rule.name, resource.type FROM wiz_cloud_configuration_posture"
    )
    assert {r[0] for r in got} == {f["rule"]["name"] for f in old}

    # once its manifest is stored, the new snapshot is the posture
    second = write_snapshot(tmp_path, SLOT + timedelta(days=1), new, per_page=10)
    got, reads = rows(LocalArchive(tmp_path), POSTURE_SQL)
    assert got[0][:4] == (31, len({f["id"] for f in new}), second, "2026-11-23") and not reads[0].skipped


def test_a_manifest_that_disagrees_with_the_folder_is_not_complete(tmp_path: Path) -> None:
    first = write_snapshot(tmp_path, SLOT, findings(5, 3), per_page=2)
    write_snapshot(tmp_path, SLOT + timedelta(days=1), findings(6, 4), per_page=2, manifest_pages=4)
    restarted = SLOT + timedelta(days=2)
    write_snapshot(tmp_path, restarted, findings(4, 5), per_page=2, complete=False)
    (tmp_path / keys.snapshot_manifest_key(LT, restarted)).write_text("{not json")
    got, reads = rows(LocalArchive(tmp_path), POSTURE_SQL)
    assert got[0][:3] == (5, 5, first)
    assert sorted(reads[0].skipped.values()) == [
        "manifest.json is not JSON",
        "manifest.json says 4 pages, the folder holds 3",
    ]


def test_no_complete_snapshot_is_an_empty_table_with_the_declared_columns(tmp_path: Path) -> None:
    write_snapshot(tmp_path, SLOT, findings(3, 6), per_page=2, complete=False)
    with engine.run(LocalArchive(tmp_path), "SELECT * FROM wiz_cloud_configuration_posture") as result:
        assert result.cursor.fetchall() == []
        assert result.columns == [n for n, _ in tables.columns(tables.POSTURE)] + ["dt"]
    # a complete snapshot of nothing (Wiz reported no finding) is complete, and empty
    write_snapshot(tmp_path, SLOT + timedelta(days=1), [], per_page=2)
    got, reads = rows(LocalArchive(tmp_path), "SELECT count(*) FROM wiz_cloud_configuration_posture")
    assert got == [(0,)] and reads[0].snapshot_id == keys.snapshot_id(SLOT + timedelta(days=1))


def test_posture_over_s3_is_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_snapshot(tmp_path, SLOT, findings(12, 7), per_page=5)
    write_snapshot(tmp_path, SLOT + timedelta(hours=24), findings(3, 8), per_page=5, complete=False)
    local, _ = rows(LocalArchive(tmp_path), POSTURE_SQL)
    with in_process_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="arch")
        for path in tmp_path.rglob("*"):
            if path.is_file():
                s3.put_object(
                    Bucket="arch", Key="p/" + path.relative_to(tmp_path).as_posix(), Body=path.read_bytes()
                )
        archive = open_archive("s3://arch/p")
        over_s3, _ = rows(archive, POSTURE_SQL)
        got, _ = rows(archive, "SELECT DISTINCT p_source_key FROM wiz_cloud_configuration_posture ORDER BY 1")
    assert over_s3 == local and local[0][2] == first
    assert [r[0] for r in got] == [keys.snapshot_page_key(LT, SLOT, 0, n) for n in (1, 2, 3)]
    assert not any("dt=2026-11-23" in k and k.endswith(".json.gz") for k in archive.reads)
