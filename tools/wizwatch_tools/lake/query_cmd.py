"""``wizwatch query``: SQL over an archive (a local folder or s3://bucket[/prefix]) with DuckDB."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any, TextIO

import orjson

from wizwatch_tools.lake import query as engine
from wizwatch_tools.lake import tables
from wizwatch_tools.lake.query import SOURCES, QueryError, Result
from wizwatch_tools.lake.sources import ArchiveError, add_archive_arguments, open_archive

FORMATS = ("table", "json", "csv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "SQL over an archive with DuckDB. Tables: " + ", ".join(tables.ALL_TABLES) + ". One row per "
        "record: its own top-level fields, the p_ fields (p_log_type, p_event_time (UTC), "
        "p_source_key...) and dt, the UTC date of p_event_time; a filter on p_event_time or dt "
        "reads only the matching partitions. deliveries: one row per (alert, destination) delivery "
        "record, dt = the alert's creation date; wiz_cloud_configuration_posture: the findings of "
        "the newest complete posture snapshot."
    )
    add_archive_arguments(parser)
    parser.add_argument("--format", choices=FORMATS, default="table", help="output (default: %(default)s)")
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="lake: the detector's lake/ copy; raw: normalise raw pages (and matches/) here; "
        "auto (default): lake where the archive has it",
    )
    parser.add_argument(
        "--max-rows", type=int, default=1000, help="rows shown by --format table (default: %(default)s)"
    )
    parser.add_argument("--verbose", action="store_true", help="say which partitions and objects were read")
    parser.add_argument("sql", help='e.g. "SELECT action, count(*) FROM wiz_audit GROUP BY 1"')


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value, default=str).decode()
    return str(value)


def write_json(result: Result, out: TextIO) -> int:
    n = 0
    for batch in result.batches():
        for row in batch:
            out.write(orjson.dumps(dict(zip(result.columns, row, strict=True)), default=str).decode() + "\n")
            n += 1
    return n


def write_csv(result: Result, out: TextIO) -> int:
    writer = csv.writer(out)
    writer.writerow(result.columns)
    n = 0
    for batch in result.batches():
        writer.writerows([_cell(v) for v in row] for row in batch)
        n += len(batch)
    return n


def write_table(result: Result, out: TextIO, max_rows: int) -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False)
    for name in result.columns:
        table.add_column(name, overflow="fold")
    rows = result.cursor.fetchmany(max_rows + 1)
    for row in rows[:max_rows]:
        table.add_row(*(_cell(v) for v in row))
    console = Console(file=out, width=max(100, Console().width))
    console.print(table)
    if len(rows) > max_rows:
        console.print(f"(first {max_rows} rows shown; --max-rows N or --format json|csv for all)")
    return min(len(rows), max_rows)


def run_cmd(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        archive = open_archive(args.archive, endpoint_url=args.endpoint_url)
        with engine.run(archive, args.sql, source=args.source) as result:
            if args.verbose:
                for r in result.reads:
                    err.write(
                        f"{r.table}: {r.source}, {r.objects} object(s)"
                        + (f" in dt={','.join(r.partitions)}" if r.partitions else "")
                        + (
                            f", {r.skipped_records} record(s) refused by the normaliser"
                            if r.skipped_records
                            else ""
                        )
                        + (f", snapshot {r.snapshot_id}" if r.snapshot_id else "")
                        + "\n"
                    )
                    for folder, why in r.skipped.items():
                        err.write(f"{r.table}: skipped {folder}: {why}\n")
            if args.format == "json":
                write_json(result, out)
            elif args.format == "csv":
                write_csv(result, out)
            else:
                write_table(result, out, args.max_rows)
    except (QueryError, ArchiveError) as exc:
        err.write(f"wizwatch query: {exc}\n")
        return 1
    return 0


def run(args: argparse.Namespace) -> int:
    return run_cmd(args)
