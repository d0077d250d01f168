"""Lake benchmark: replay events/s beside the detector's production path, and query times.

* ``production``: :meth:`Detector.process` of each corpus page (served from memory) with the
  in-memory AWS clients replay uses: parse, normalise, every rule, dedup store, matches, lake copy.
* ``replay``: ``wizwatch replay``'s engine over the same pages laid out as an archive folder
  (listing, reading files, time order, clock): goal >= 0.8 of ``production``.
* ``lake_write_share``: the part of ``production`` spent writing the lake copy (serialise + gzip).
* query: ``SELECT count(*) FROM wiz_audit`` (a full scan) over the lake copy with DuckDB, and the
  same from the raw pages (``--source raw``: normalised in Python), with both sizes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from wizwatch.alerts import clock
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.archive import lake
from wizwatch_tools.bench.production_path import RULES, T0, _pages
from wizwatch_tools.lake import query as lake_query
from wizwatch_tools.lake.replay import BUCKET, Replayer, list_pages, load_engine, run_all
from wizwatch_tools.lake.sources import LocalArchive


def _production(pages: list[tuple[str, str, bytes]]) -> tuple[float, float, int]:
    """(seconds, of which writing the lake copy, events): the lake time is timed inside the same
    run (a difference of two runs drowns in this machine's noise)."""
    replayer = Replayer(load_engine(RULES))
    real_write = lake.write
    in_lake = [0.0]

    def timed_write(*args: Any, **kwargs: Any) -> list[str]:
        t = time.perf_counter()
        try:
            return real_write(*args, **kwargs)
        finally:
            in_lake[0] += time.perf_counter() - t

    saved = clock.now
    clock.now = lambda: T0
    lake.write = timed_write
    try:
        started = time.perf_counter()
        events = 0
        for _, key, body in pages:
            replayer.s3.serve(BUCKET, key, body)
            events += replayer.detector.process(ObjectRef(BUCKET, key)).events
            replayer.s3.forget(BUCKET, key)
        return time.perf_counter() - started, in_lake[0], events
    finally:
        clock.now = saved
        lake.write = real_write


def _folder(pages: list[tuple[str, str, bytes]], root: Path) -> None:
    """The corpus as an archive: raw/ pages, and the lake/ the detector writes for them."""

    def write(_bucket: str, key: str, body: bytes, _meta: dict[str, str]) -> None:
        if key.startswith("lake/"):
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            (root / key).write_bytes(body)

    replayer = Replayer(load_engine(RULES))
    replayer.s3.on_put = write
    for _, key, body in pages:
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(body)
        replayer.process(key, body, {})


def _size(root: Path, prefix: str) -> int:
    return sum(p.stat().st_size for p in (root / prefix).rglob("*") if p.is_file())


def _query(root: Path, source: str) -> tuple[float, int]:
    started = time.perf_counter()
    with lake_query.run(LocalArchive(root), "SELECT count(*) FROM wiz_audit", source=source) as result:
        ((count,),) = [r for b in result.batches() for r in b]
    return time.perf_counter() - started, int(count)


def run(corpus: Path) -> dict[str, Any]:
    pages = _pages(corpus)
    prod_s, lake_s, events = _production(pages)
    root = Path(tempfile.mkdtemp(prefix="wizwatch-bench-lake-"))
    try:
        _folder(pages, root)
        archive = LocalArchive(root)
        listed = list_pages(archive)
        replayer = Replayer(load_engine(RULES))
        started = time.perf_counter()
        run_all(archive, listed, [replayer])
        replay_s = time.perf_counter() - started
        lake_q, lake_count = _query(root, "lake")
        raw_q, raw_count = _query(root, "raw")
        audit_raw = _size(root, "raw/Wiz.Audit")
        audit_lake = _size(root, "lake/wiz_audit")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {
        "events": events,
        "pages": len(pages),
        "production_events_per_s": round(events / prod_s),
        "replay_events_per_s": round(replayer.tally.events / replay_s),
        "replay_over_production": round((replayer.tally.events / replay_s) / (events / prod_s), 3),
        "lake_write_share_of_production": round(lake_s / prod_s, 3),
        "query_full_scan_lake_s": round(lake_q, 3),
        "query_full_scan_raw_s": round(raw_q, 3),
        "query_rows": lake_count,
        "query_rows_raw": raw_count,
        "audit_bytes_raw": audit_raw,
        "audit_bytes_lake": audit_lake,
    }
