"""The benchmark corpus: one gzip GraphQL page per file, ``<dir>/<LogType>/page-NNNNN.json.gz``.

* Wiz.Audit, Wiz.Issues, Wiz.VulnerabilityFinding: the shared generator ``make_corpus.py``
  (``../shared/bench`` beside the checkout, else the copy in ``bench/``), so every helper and
  reviewer measures the same bytes.
* Wiz.CloudConfigurationFinding and Wiz.Detections (which that generator does not produce): the
  simulator's own record generators (``wizwatch_tools.simulator``), seeded, page sizes as the
  poller asks for them (500 and 100).

Same seed, same bytes; generated on demand, so ``make bench`` works from a fresh clone.
"""

from __future__ import annotations

import gzip
import random
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from wizwatch.logtypes import AUDIT, CLOUD_CONFIGURATION_FINDING, DETECTIONS

ROOT = Path(__file__).resolve().parents[3]
SEED = 8952
T0 = datetime(2026, 11, 1, tzinfo=UTC)
#: log type -> (connection, page size, pages) of the pages generated here.
EXTRA: dict[str, tuple[str, int, int]] = {
    CLOUD_CONFIGURATION_FINDING: ("configurationFindings", 500, 6),
    DETECTIONS: ("detections", 100, 10),
}


def corpus_dir(out: Path | None = None) -> Path:
    """The corpus (generated where missing), every type present."""
    out = out or ROOT / "bench" / "corpus"
    if not (out / AUDIT).is_dir():
        cmd = [sys.executable, str(_maker_path()), "--out", str(out)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    for log_type, (connection, size, pages) in EXTRA.items():
        if not (out / log_type).is_dir():
            write_pages(out, log_type, connection, size, pages, seed=SEED)
    return out


def _maker_path() -> Path:
    shared = ROOT.parent / "shared" / "bench" / "make_corpus.py"
    return shared if shared.exists() else ROOT / "bench" / "make_corpus.py"


def _shared_maker() -> Any:
    """``make_corpus.py`` as a module (it is a script, not part of a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("wizwatch_bench_make_corpus", _maker_path())
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"cannot load {_maker_path()}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record_maker(log_type: str) -> Callable[[random.Random, datetime], dict[str, Any]]:
    if log_type == CLOUD_CONFIGURATION_FINDING:
        from wizwatch_tools.simulator.datagen.configuration import configuration_finding

        return lambda rng, at: configuration_finding(rng, at)
    if log_type == DETECTIONS:
        from wizwatch_tools.simulator.defend import detection
        from wizwatch_tools.simulator.defend_store import public_detection

        def make(rng: random.Random, at: datetime) -> dict[str, Any]:
            record: dict[str, Any] = orjson.loads(orjson.dumps(detection(rng, at)))
            for key in [k for k in record if k.startswith("_")]:
                del record[key]  # private to the simulator's store (what only a webhook carries)
            public_detection(record)
            return record

        return make
    if log_type == AUDIT:  # the shared generator's audit entries, as in the corpus
        maker = _shared_maker()
        return lambda rng, at: dict(maker.audit_node(rng, at))
    raise ValueError(f"no page generator for {log_type!r}")


def page_body(connection: str, nodes: list[dict[str, Any]], cursor: str, more: bool) -> bytes:
    """A GraphQL response body, gzip-compressed as the poller archives it (mtime 0)."""
    body = {"data": {connection: {"nodes": nodes, "pageInfo": {"hasNextPage": more, "endCursor": cursor}}}}
    return gzip.compress(orjson.dumps(body), mtime=0)


def generate(log_type: str, count: int, *, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` records of ``log_type``, deterministic for a seed."""
    rng = random.Random(f"{seed}:{log_type}")
    make = _record_maker(log_type)
    t = T0
    out = []
    for _ in range(count):
        t += timedelta(milliseconds=rng.randrange(1, 2000))
        out.append(make(rng, t))
    return out


def write_pages(out: Path, log_type: str, connection: str, size: int, pages: int, *, seed: int) -> int:
    """Write ``pages`` pages of ``size`` records; returns the number of records."""
    records = generate(log_type, size * pages, seed=seed)
    folder = out / log_type
    tmp = out / f".{log_type}.tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    for n in range(pages):
        nodes = records[n * size : (n + 1) * size]
        body = page_body(connection, nodes, f"cursor-{log_type}-{n + 1}", n + 1 < pages)
        (tmp / f"page-{n + 1:05d}.json.gz").write_bytes(body)
    tmp.rename(folder)  # whole or not at all: a half-written folder is never taken for a corpus
    return len(records)


def pages_of(corpus: Path, log_type: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((corpus / log_type).glob("page-*.json.gz"))]
