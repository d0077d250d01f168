"""wizwatch query over a folder and over S3: counts, pruning, both sources, output formats."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_fixtures import in_process_aws
from detector_fixtures import write_rules
from lake_fixtures import T0, ArchiveBuilder, audit_key, audit_record, graphql_page

from wizwatch.parse.normalize import Normalizer
from wizwatch_tools.lake import query as engine
from wizwatch_tools.lake.query import QueryError
from wizwatch_tools.lake.query_cmd import run_cmd
from wizwatch_tools.lake.sources import Archive, ArchiveError, LocalArchive, open_archive

DAYS = 4
PER_PAGE = 5


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DAYS days of audit pages (one per day) and one pushed-style detection body."""
    base = tmp_path_factory.mktemp("lake")
    builder = ArchiveBuilder(base / "archive", write_rules(base / "rules"))
    for day in range(DAYS):
        start = T0 + timedelta(days=day)
        records = [audit_record(f"d{day}-{i}", start + timedelta(minutes=i)) for i in range(PER_PAGE)]
        builder.add(audit_key(start), graphql_page(records), processed_at=start + timedelta(minutes=20))
    return base / "archive"


def rows(
    archive: Archive, sql: str, source: str = "auto"
) -> tuple[list[tuple[Any, ...]], list[engine.TableRead]]:
    with engine.run(archive, sql, source=source) as result:
        return [r for batch in result.batches() for r in batch], result.reads


def test_count_equals_the_records_archived(archive_dir: Path) -> None:
    got, reads = rows(LocalArchive(archive_dir), "SELECT count(*) FROM wiz_audit")
    assert got == [(DAYS * PER_PAGE,)]
    assert reads[0].source == "lake" and reads[0].objects == DAYS


def test_a_time_filter_reads_only_the_matching_partitions(archive_dir: Path) -> None:
    archive = LocalArchive(archive_dir)
    got, reads = rows(
        archive,
        "SELECT count(*) FROM wiz_audit WHERE p_event_time >= '2026-11-24' AND p_event_time < '2026-11-25'",
    )
    assert got == [(PER_PAGE,)]
    assert reads[0].partitions == ["2026-11-24", "2026-11-25"]  # whole days, upper bound inclusive
    assert archive.reads and all("/dt=2026-11-24/" in k or "/dt=2026-11-25/" in k for k in archive.reads)
    archive = LocalArchive(archive_dir)
    got, _ = rows(archive, "SELECT count(*) FROM wiz_audit WHERE dt = '2026-11-23'")
    assert got == [(PER_PAGE,)]
    assert [k.split("/")[2] for k in archive.reads] == ["dt=2026-11-23"]


def test_pruned_and_unpruned_answers_agree(archive_dir: Path) -> None:
    sql = (
        "SELECT id FROM wiz_audit WHERE p_event_time BETWEEN '2026-11-23 10:02' AND '2026-11-24 10:01' "
        "ORDER BY id"
    )
    pruned, _ = rows(LocalArchive(archive_dir), sql)
    full, _ = rows(LocalArchive(archive_dir), f"SELECT * FROM ({sql})")  # an outer query prunes nothing
    assert pruned == full and [r[0] for r in pruned] == ["d1-2", "d1-3", "d1-4", "d2-0", "d2-1"]


def test_p_event_time_is_the_detectors_and_raw_pages_give_the_same_rows(archive_dir: Path) -> None:
    sql = "SELECT id, action, p_event_time, dt, p_source_key FROM wiz_audit ORDER BY id"
    lake_rows, _ = rows(LocalArchive(archive_dir), sql, "lake")
    raw_rows, reads = rows(LocalArchive(archive_dir), sql, "raw")
    assert lake_rows == raw_rows and reads[0].source == "raw"
    first = audit_record("d0-0", T0)
    expected = Normalizer("Wiz.Audit").normalize(first)["p_event_time"]  # "2026-11-22 10:00:00.000000000"
    assert lake_rows[0][2].strftime("%Y-%m-%d %H:%M:%S.%f") + "000" == expected  # same instant, UTC
    assert lake_rows[0][3] == expected[:10]
    alerts, _ = rows(LocalArchive(archive_dir), "SELECT p_rule_id, count(*) FROM alerts GROUP BY 1", "raw")
    assert (
        alerts
        == rows(LocalArchive(archive_dir), "SELECT p_rule_id, count(*) FROM alerts GROUP BY 1", "lake")[0]
    )
    assert alerts == [("Test.DeleteUser", DAYS * PER_PAGE)]


def test_a_table_with_nothing_archived_is_empty_but_typed(archive_dir: Path) -> None:
    got, _ = rows(
        LocalArchive(archive_dir),
        "SELECT count(*), max(p_event_time) FROM wiz_detections WHERE severity = 'HIGH'",
    )
    assert got == [(0, None)]


def test_s3_archive_on_a_mock_bucket_prunes_the_same_way(
    archive_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with in_process_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="arch")
        for path in archive_dir.rglob("*"):
            if path.is_file():
                s3.put_object(
                    Bucket="arch",
                    Key="team/" + path.relative_to(archive_dir).as_posix(),
                    Body=path.read_bytes(),
                )
        archive = open_archive("s3://arch/team")
        got, _ = rows(archive, "SELECT count(*) FROM wiz_audit WHERE dt = '2026-11-25'")
        assert got == [(PER_PAGE,)]
        assert (
            archive.reads == [k for k in archive.reads if k.startswith("lake/wiz_audit/dt=2026-11-25/")] != []
        )
        hostile = "lake/wiz_audit/dt=2026-11-25/../../../../../escape.json.gz"
        s3.put_object(Bucket="arch", Key="team/" + hostile, Body=b"{}")
        with pytest.raises(ArchiveError, match="outside"):
            rows(open_archive("s3://arch/team"), "SELECT count(*) FROM wiz_audit WHERE dt = '2026-11-25'")
        with pytest.raises(ArchiveError, match="NoSuchBucket"):
            rows(open_archive("s3://missing"), "SELECT count(*) FROM wiz_audit")


def _cli(archive_dir: Path, sql: str, fmt: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    args = argparse.Namespace(
        archive=str(archive_dir),
        endpoint_url=None,
        format=fmt,
        source="auto",
        max_rows=1000,
        verbose=True,
        sql=sql,
    )
    return run_cmd(args, out, err), out.getvalue(), err.getvalue()


def test_cli_formats_and_errors(archive_dir: Path) -> None:
    rc, out, err = _cli(
        archive_dir,
        "SELECT id, user, p_any_ip_addresses, p_event_time FROM wiz_audit ORDER BY id LIMIT 2",
        "json",
    )
    assert rc == 0 and "wiz_audit: lake, 4 object(s)" in err
    first = json.loads(out.splitlines()[0])
    assert first["id"] == "d0-0" and first["user"] == {"id": "u1", "name": "alice@example.com"}
    assert first["p_any_ip_addresses"] == ["1.2.3.4"] and first["p_event_time"].startswith(
        "2026-11-22T10:00:00"
    )
    rc, out, _ = _cli(archive_dir, "SELECT id, user FROM wiz_audit ORDER BY id LIMIT 1", "csv")
    assert list(csv.reader(io.StringIO(out))) == [
        ["id", "user"],
        ["d0-0", '{"id":"u1","name":"alice@example.com"}'],
    ]
    rc, out, _ = _cli(archive_dir, "SELECT action, count(*) AS n FROM wiz_audit GROUP BY 1", "table")
    assert rc == 0 and "DeleteUser" in out and "20" in out
    rc, _, err = _cli(archive_dir, "SELECT nope FROM wiz_audit", "table")
    assert rc == 1 and 'Referenced column "nope" not found' in err
    rc, _, err = _cli(archive_dir / "missing", "SELECT 1", "table")
    assert rc == 1 and "is not a folder" in err


def test_sql_errors_are_query_errors(archive_dir: Path) -> None:
    with pytest.raises(QueryError, match="syntax error"), engine.run(LocalArchive(archive_dir), "SELEC 1"):
        pass
