"""``wizwatch query``'s engine: SQL over an archive with DuckDB.

For each lake table the SQL names, :mod:`prune` says which ``dt`` partitions it may need; only
those are listed and read. A local folder's files go to DuckDB's JSON reader as they are; an S3
archive's objects are fetched (a few at a time) into a private temporary folder first, since no
DuckDB extension can be downloaded here (httpfs is not in the wheel): DuckDB only ever reads
local files, with its built-in ``json`` extension.

Where does a table come from (``source``):

* ``lake``: ``lake/<table>/`` as the detector writes it (one record per line, ``p_`` fields).
* ``raw``: the raw pages themselves (GraphQL pages and pushed bodies), normalised here with the
  detector's own :class:`~wizwatch.parse.normalize.Normalizer` into the same layout; ``alerts``
  from ``matches/``. For archives written before the lake existed, or a folder holding only
  ``raw/``. Every page of the log type is read (their ``dt`` is the poll window's, not the
  event's); the query's ``WHERE`` still selects the rows.
* ``auto`` (default): ``lake`` for a table that has a lake prefix, else ``raw``.

Two tables come from elsewhere whatever ``source`` says (contract extensions, see README):
``deliveries`` from the notifier's records under ``deliveries/dt=<day>/`` (pruned on ``dt``), and
``wiz_cloud_configuration_posture`` from the newest complete posture snapshot's raw pages
(:mod:`posture`).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from wizwatch.archive import lake
from wizwatch.archive.keys import MATCHES_PREFIX, RAW_PREFIX
from wizwatch.errors import InvalidPage, InvalidRecord, WizwatchError
from wizwatch.parse.normalize import Normalizer
from wizwatch.parse.pages import read_records
from wizwatch.parse.timestamps import now_panther
from wizwatch_tools.lake import posture, tables
from wizwatch_tools.lake.prune import ALL, Days, partitions_needed
from wizwatch_tools.lake.sources import Archive, inside

SOURCES = ("auto", "lake", "raw")


class QueryError(WizwatchError):
    """The SQL failed (DuckDB's message says why) or the archive could not be read."""


@dataclass
class TableRead:
    """How one table of a query was served (printed by ``--verbose``, checked by the tests)."""

    table: str
    source: str  # lake | raw
    days: Days
    partitions: list[str] = field(default_factory=list)  # dt values read (lake)
    objects: int = 0
    skipped_records: int = 0  # raw records the normaliser refused (the detector quarantines them)
    snapshot_id: str = ""  # the posture: the snapshot read
    skipped: dict[str, str] = field(default_factory=dict)  # the posture: newer folders passed over


@dataclass
class Result:
    columns: list[str]
    cursor: duckdb.DuckDBPyConnection
    reads: list[TableRead]

    def batches(self, size: int = 10_000) -> Iterator[list[tuple[Any, ...]]]:
        while True:
            rows = self.cursor.fetchmany(size)
            if not rows:
                return
            yield rows


def _dt_of(folder: str) -> date | None:
    if not folder.startswith("dt="):
        return None
    try:
        return date.fromisoformat(folder[3:])
    except ValueError:
        return None


def _lake_files(archive: Archive, table: str, days: Days, into: Path, read: TableRead) -> list[str]:
    """The objects of the table's wanted ``dt`` partitions (lake tables and ``deliveries``)."""
    prefix = tables.prefix(table)
    keys: list[str] = []
    for folder in archive.folders(prefix):
        day = _dt_of(folder)
        if day is None or day not in days:
            continue
        read.partitions.append(folder[3:])
        keys += [
            o.key for o in archive.objects(f"{prefix}{folder}/") if o.key.endswith((".json.gz", ".json"))
        ]
    paths = []
    if archive.is_local:
        paths = [str(archive.local_path(k)) for k in keys]
    else:
        for key, body, _ in archive.get_many(keys):
            target = inside(into, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
            paths.append(str(target))
    read.objects = len(keys)
    return paths


def _raw_rows(archive: Archive, table: str, read: TableRead) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(source key, rows) of every raw page of the table's log type, or of every matches object."""
    if table == tables.ALERTS:
        keys = [o.key for o in archive.objects(MATCHES_PREFIX) if o.key.endswith(".json.gz")]
        for key, body, meta in archive.get_many(keys):
            read.objects += 1
            try:
                rows = [r for r in read_records(body).records if isinstance(r, dict)]
            except InvalidPage:
                continue
            yield meta.get("source-key") or key, rows
        return
    log_type = tables.LOG_TYPE_OF[table]
    keys = [o.key for o in archive.objects(f"{RAW_PREFIX}{log_type}/")]
    normalizer = Normalizer(log_type)
    parse_time = now_panther()
    for key, body, _ in archive.get_many(keys):
        read.objects += 1
        try:
            records = read_records(body).records
        except InvalidPage:
            read.skipped_records += 1
            continue
        rows = []
        for record in records:
            try:
                rows.append(normalizer.normalize(record, parse_time))
            except InvalidRecord:
                read.skipped_records += 1
        yield key, rows


def _raw_files(archive: Archive, table: str, into: Path, read: TableRead) -> list[str]:
    """The raw pages normalised into ``into`` in the lake's layout (the detector's own writer)."""
    import gzip

    paths = []
    for key, rows in _raw_rows(archive, table, read):
        for dt, group in lake.by_date(rows).items():
            target = into / lake.lake_key(table, dt, key)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "ab") as out:  # matches of several rules of one page: gzip members
                out.write(gzip.compress(lake.json_lines(group, key), 1))
            paths.append(str(target))
    return sorted(set(paths))


def _has_lake(archive: Archive, table: str) -> bool:
    return bool(archive.folders(lake.table_prefix(table)))


def _load_posture(con: duckdb.DuckDBPyConnection, archive: Archive, into: Path) -> TableRead:
    """The posture table, created in ``con`` from the newest complete snapshot (or empty)."""
    read = TableRead(table=tables.POSTURE, source="snapshots", days=ALL)
    found = posture.latest_complete(archive)
    read.skipped = found.skipped
    snap = found.snapshot
    try:
        if snap is None:
            con.execute(f'CREATE VIEW "{tables.POSTURE}" AS {posture.empty_select()}')
            return read
        read.snapshot_id, read.partitions, read.objects = snap.snapshot_id, [snap.dt], len(snap.pages)
        paths, base = posture.local_paths(archive, snap, into)
        posture.create(con, tables.POSTURE, paths, base, snap)
    except (posture.PostureError, duckdb.Error) as exc:
        raise QueryError(f"reading {tables.POSTURE}: {exc}") from None
    return read


def _select(archive: Archive, table: str, days: Days, source: str, into: Path) -> tuple[str, TableRead]:
    """The SELECT a table's view runs, and how it was served."""
    if table == tables.DELIVERIES:
        read = TableRead(table=table, source="deliveries", days=days)
        paths = _lake_files(archive, table, days, into, read)
        return (tables.deliveries_select(paths) if paths else tables.empty_select(table)), read
    kind = source if source != "auto" else ("lake" if _has_lake(archive, table) else "raw")
    read = TableRead(table=table, source=kind, days=days if kind == "lake" else ALL)
    if kind == "lake":
        paths = _lake_files(archive, table, days, into, read)
    else:
        paths = _raw_files(archive, table, into, read)
    return (tables.files_select(paths) if paths else tables.empty_select(table)), read


@contextlib.contextmanager
def run(archive: Archive, sql: str, *, source: str = "auto") -> Iterator[Result]:
    """Run ``sql`` over the archive; the Result's cursor is valid inside the ``with``."""
    if source not in SOURCES:
        raise QueryError(f"source must be one of {', '.join(SOURCES)}")
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    try:
        needed = partitions_needed(sql, set(tables.ALL_TABLES), con)
    except duckdb.Error as exc:
        raise QueryError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="wizwatch-query-") as tmp:
        reads = []
        for table, days in sorted(needed.items()):
            if table == tables.POSTURE:
                reads.append(_load_posture(con, archive, Path(tmp)))
                continue
            select, read = _select(archive, table, days, source, Path(tmp))
            try:
                con.execute(f'CREATE VIEW "{table}" AS {select}')
            except duckdb.Error as exc:
                raise QueryError(f"reading {table}: {exc}") from None
            reads.append(read)
        try:
            cursor = con.execute(sql)
        except duckdb.Error as exc:
            raise QueryError(str(exc)) from None
        columns = [d[0] for d in cursor.description or []]
        try:
            yield Result(columns=columns, cursor=cursor, reads=reads)
        finally:
            con.close()
