"""Which dt partitions a query may need, from DuckDB's parse tree: never one too few."""

from __future__ import annotations

from datetime import date

import duckdb
import pytest

from wizwatch_tools.lake.prune import ALL, Days, partitions_needed
from wizwatch_tools.lake.tables import ALL_TABLES

D = date.fromisoformat


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    return c


def needed(sql: str, con: duckdb.DuckDBPyConnection) -> dict[str, Days]:
    return partitions_needed(sql, set(ALL_TABLES), con)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT count(*) FROM wiz_audit WHERE dt = '2026-11-22'", [("2026-11-22", "2026-11-22")]),
        (
            "SELECT * FROM wiz_audit WHERE dt BETWEEN '2026-11-01' AND '2026-11-03'",
            [("2026-11-01", "2026-11-03")],
        ),
        (
            "SELECT * FROM wiz_audit WHERE dt IN ('2026-11-01', '2026-11-05')",
            [("2026-11-01", "2026-11-01"), ("2026-11-05", "2026-11-05")],
        ),
        (
            "SELECT * FROM wiz_audit WHERE p_event_time >= '2026-11-22 10:00' "
            "AND p_event_time < TIMESTAMP '2026-11-24'",
            [("2026-11-22", "2026-11-24")],
        ),
        (
            "SELECT * FROM wiz_audit WHERE '2026-11-22' <= dt AND action = 'Login'",
            [("2026-11-22", "9999-12-31")],
        ),
        (
            "SELECT * FROM wiz_audit WHERE dt = '2026-11-01' OR dt = '2026-11-03'",
            [("2026-11-01", "2026-11-01"), ("2026-11-03", "2026-11-03")],
        ),
        ("SELECT * FROM wiz_audit a WHERE a.dt = '2026-11-02'", [("2026-11-02", "2026-11-02")]),
        (
            "WITH x AS (SELECT * FROM wiz_audit WHERE dt = '2026-11-02') SELECT * FROM x",
            [("2026-11-02", "2026-11-02")],
        ),
        (  # two references: the union
            "SELECT * FROM wiz_audit WHERE dt = '2026-11-01' "
            "UNION ALL SELECT * FROM wiz_audit WHERE dt = '2026-11-09'",
            [("2026-11-01", "2026-11-01"), ("2026-11-09", "2026-11-09")],
        ),
    ],
)
def test_filters_on_time_bound_the_partitions(
    sql: str, expected: list[tuple[str, str]], con: duckdb.DuckDBPyConnection
) -> None:
    assert needed(sql, con)["wiz_audit"] == Days(tuple((D(a), D(b)) for a, b in expected))


def test_relative_times_are_evaluated_by_duckdb(con: duckdb.DuckDBPyConnection) -> None:
    (today,) = con.execute("SELECT CAST(now() AS DATE)").fetchone()  # type: ignore[misc]
    days = needed("SELECT * FROM alerts WHERE p_event_time > now() - INTERVAL 2 DAY", con)["alerts"]
    assert days.ranges[0][0] in (
        date.fromordinal(today.toordinal() - 2),
        date.fromordinal(today.toordinal() - 3),
    )


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM wiz_audit",
        "SELECT * FROM wiz_audit WHERE NOT (dt = '2026-11-01')",
        "SELECT * FROM wiz_audit WHERE dt = '2026-11-01' OR action = 'Login'",  # an OR reaching beyond time
        "SELECT * FROM wiz_audit WHERE dt = (SELECT max(dt) FROM wiz_issues)",  # not a constant
        # a filter on the other table's dt
        "SELECT * FROM wiz_audit a JOIN wiz_issues b ON a.id = b.id WHERE b.dt = '2026-11-01'",
        "SELECT dt, count(*) FROM wiz_audit GROUP BY dt HAVING dt = '2026-11-01'",  # HAVING: not pruned
        "SELECT * FROM (SELECT * FROM wiz_audit) WHERE dt = '2026-11-01'",  # outer filter: not pruned
        "SELECT * FROM wiz_audit WHERE dt >= '2026-11'",  # not a date: string comparison semantics
        "SELECT * FROM wiz_audit, (SELECT 1) WHERE dt = '2026-11-01'",  # unqualified, two relations
    ],
)
def test_anything_else_reads_every_partition(sql: str, con: duckdb.DuckDBPyConnection) -> None:
    assert needed(sql, con)["wiz_audit"] == ALL


def test_each_table_gets_its_own_bound_in_a_join(con: duckdb.DuckDBPyConnection) -> None:
    sql = (
        "SELECT * FROM wiz_audit a LEFT JOIN alerts b ON a.id = b.id "
        "WHERE a.dt = '2026-11-01' AND b.p_event_time BETWEEN '2026-11-01' AND '2026-11-02 23:00'"
    )
    got = needed(sql, con)
    assert got["wiz_audit"] == Days(((D("2026-11-01"), D("2026-11-01")),))
    assert got["alerts"] == Days(((D("2026-11-01"), D("2026-11-02")),))
    assert "wiz_issues" not in got


def test_a_statement_duckdb_cannot_serialise_reads_everything(con: duckdb.DuckDBPyConnection) -> None:
    sql = "CREATE TABLE x AS SELECT * FROM wiz_audit WHERE dt = '2026-11-01'"
    assert needed(sql, con) == {"wiz_audit": ALL}
