"""The posture table: the findings of the newest *complete* snapshot, read from its raw pages.

The poller writes a snapshot as ``snapshots/<LogType>/dt=<day>/<snapshot id>/page-NNNNN.json.gz``
(the gzip of each exact GraphQL answer) and, once the last page is stored, ``manifest.json`` in
the same folder (``wizwatch.poll.snapshot``). A folder counts as complete here only when its
manifest parses, names the folder's snapshot id and log type, and its ``pages`` is exactly the
number of page objects present, numbered 1..pages: a snapshot the poller is still taking (or
abandoned after a rejected cursor) is never visible, and neither is one whose pages were since
removed. Of the complete ones, the newest snapshot id wins (ids are the slot's UTC timestamp,
``_<attempt>`` after a restart, so they sort by time within and across days).

Why the raw pages and not a normalised JSON-lines copy like ``lake/``: DuckDB's JSON reader
unnests ``data.configurationFindings.nodes`` itself, as fast as a Python pass that rewrites the
pages as JSON lines first (measured: README "The archive is a data lake"), and Athena reads the
same pages (one GraphQL answer per line) through the ``wiz_cloud_configuration_snapshots`` table.
A copy would cost the poller a second write of every page for no gain in either engine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import orjson

from wizwatch.archive.keys import SNAPSHOT_MANIFEST
from wizwatch.errors import WizwatchError
from wizwatch_tools.lake import tables
from wizwatch_tools.lake.sources import Archive, inside


class PostureError(WizwatchError):
    """The newest complete snapshot's pages cannot be read as findings."""


_PAGE = re.compile(r"^page-(\d{5,})\.json\.gz$")
#: A page is one JSON object however large (a page of findings is a few MB).
MAX_OBJECT_BYTES = 1 << 30


@dataclass
class Snapshot:
    """One complete snapshot folder."""

    snapshot_id: str
    dt: str
    folder: str  # key prefix, ends with "/"
    pages: list[str]  # page keys, in page order
    manifest: dict[str, object]


@dataclass
class Found:
    """The newest complete snapshot (or None) and why newer folders were passed over."""

    snapshot: Snapshot | None
    skipped: dict[str, str] = field(default_factory=dict)  # folder -> reason


def _complete(archive: Archive, folder: str, dt: str, sid: str) -> Snapshot | str:
    """The folder as a Snapshot if it is complete, else why not."""
    names = {o.key[len(folder) :]: o.key for o in archive.objects(folder)}
    if SNAPSHOT_MANIFEST not in names:
        return "no manifest.json (being taken, or abandoned)"
    body, _ = archive.get(names[SNAPSHOT_MANIFEST])
    try:
        manifest = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "manifest.json is not JSON"
    if not isinstance(manifest, dict):
        return "manifest.json is not an object"
    if manifest.get("snapshot_id") != sid or manifest.get("log_type") != tables.POSTURE_LOG_TYPE:
        named = f"{manifest.get('log_type')}/{manifest.get('snapshot_id')}"
        return f"manifest.json names {named}, not this folder"
    numbered = sorted((int(m[1]), key) for name, key in names.items() if (m := _PAGE.match(name)))
    count = manifest.get("pages")
    if not isinstance(count, int) or [n for n, _ in numbered] != list(range(1, count + 1)):
        return f"manifest.json says {count!r} pages, the folder holds {len(numbered)}"
    return Snapshot(sid, dt, folder, [key for _, key in numbered], manifest)


def latest_complete(archive: Archive) -> Found:
    """The newest complete snapshot of the posture log type; newer incomplete ones are skipped."""
    base = tables.prefix(tables.POSTURE)
    found = Found(None)
    for day in reversed(archive.folders(base)):
        if not day.startswith("dt="):
            continue
        for sid in reversed(archive.folders(f"{base}{day}/")):
            folder = f"{base}{day}/{sid}/"
            got = _complete(archive, folder, day[3:], sid)
            if isinstance(got, Snapshot):
                found.snapshot = got
                return found
            found.skipped[folder] = got
    return found


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def local_paths(archive: Archive, snapshot: Snapshot, into: Path) -> tuple[list[str], str]:
    """Files DuckDB can open for the snapshot's pages, and the folder their keys are relative to."""
    if archive.is_local:
        paths = [str(archive.local_path(k)) for k in snapshot.pages]
        return paths, str(getattr(archive, "root", ""))
    paths = []
    for key, body, _ in archive.get_many(snapshot.pages):
        target = inside(into, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        paths.append(str(target))
    return paths, str(into)


def _pages(listing: str) -> str:
    return (
        f"read_json({listing}, format = 'auto', union_by_name = true, filename = true, "
        f"hive_partitioning = false, maximum_object_size = {MAX_OBJECT_BYTES})"
    )


def create(
    con: duckdb.DuckDBPyConnection, name: str, paths: list[str], base: str, snapshot: Snapshot
) -> None:
    """Table ``name``: one row per finding, the finding's own fields (nested ones as STRUCT/LIST,
    as Wiz sends them), ``p_snapshot_id``, ``p_source_key`` (the page's key) and ``dt`` (the
    snapshot's day).

    Materialised once (a temporary table) rather than a view: every bind of a view over the pages
    infers the findings' STRUCT from all of them again, which costs as much as reading them
    (20,000 findings: 4.2 s as a table vs 9.3 s for a view bound twice and queried). A snapshot
    without any finding has no STRUCT to infer: it is the typed empty table instead."""
    listing = "[" + ", ".join(_quote(p) for p in paths) + "]"
    strip = len(str(Path(base))) + 2  # the key: the path after "<base>/"
    findings = f"SELECT unnest(data.configurationFindings.nodes) AS finding, filename FROM {_pages(listing)}"
    sql = (
        f"SELECT unnest(finding), {_quote(snapshot.snapshot_id)} AS p_snapshot_id, "
        f"substr(filename, {strip}) AS p_source_key, {_quote(snapshot.dt)} AS dt FROM ({findings})"
    )
    try:
        con.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        return
    except duckdb.Error as exc:
        error = str(exc)
    try:
        row = con.execute(f"SELECT count(*) FROM ({findings})").fetchone()
    except duckdb.Error:
        row = None
    if row is not None and row[0] == 0:
        con.execute(f'CREATE VIEW "{name}" AS {empty_select()}')
        return
    raise PostureError(
        f"snapshot {snapshot.folder}: its pages are not GraphQL answers with "
        f"data.configurationFindings.nodes holding objects ({error})"
    )


def empty_select() -> str:
    """The posture's declared columns, no rows (no complete snapshot yet)."""
    cols = [
        f'CAST(NULL AS {tables.DUCKDB_TYPES.get(kind, "JSON")}) AS "{name}"'
        for name, kind in tables.columns(tables.POSTURE)
    ]
    return f"SELECT {', '.join(cols)}, CAST(NULL AS VARCHAR) AS dt WHERE false"
