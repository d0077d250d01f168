"""Engine benchmark: events/s from gzip page bytes to rule outcomes, beside the floor.

The floor is gunzip + JSON parse of the same bytes (orjson, as the engine uses), measured in the
same process and interleaved with the engine runs, so the ratio holds on a noisy machine. The
engine figure covers ``Engine.evaluate_page``: page read, validation + normalisation of every
record, every enabled Wiz.Audit rule, and all alert fields of the matches.
"""

from __future__ import annotations

import gc
import gzip
import time
from pathlib import Path
from typing import Any

import orjson

from wizwatch.detect.engine import Engine
from wizwatch.logtypes import AUDIT

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "functions" / "detector" / "rules"
ROUNDS = 7


def _floor(bodies: list[bytes]) -> int:
    n = 0
    for body in bodies:
        doc = orjson.loads(gzip.decompress(body))
        for conn in doc["data"].values():
            n += len(conn["nodes"])
    return n


def _engine(engine: Engine, bodies: list[bytes]) -> tuple[int, int]:
    n = matches = 0
    for body in bodies:
        outcome = engine.evaluate_page(AUDIT, body)
        n += len(outcome.events)
        for found in outcome.results.values():
            matches += len(found)
    return n, matches


def run(corpus: Path) -> dict[str, Any]:
    bodies = [p.read_bytes() for p in sorted((corpus / AUDIT).glob("*.json.gz"))]
    if not bodies:
        raise SystemExit(f"no {AUDIT} pages under {corpus}")
    engine = Engine.from_directory(RULES, strict=True)
    events = _floor(bodies)
    _engine(engine, bodies[:2])  # warm caches and lazy indexes
    floor_best = engine_best = float("inf")
    gc_was = gc.isenabled()
    for _ in range(ROUNDS):
        gc.collect()
        t0 = time.process_time()
        _floor(bodies)
        floor_best = min(floor_best, time.process_time() - t0)
        gc.collect()
        t0 = time.process_time()
        n, _matches = _engine(engine, bodies)
        engine_best = min(engine_best, time.process_time() - t0)
        assert n == events
    if gc_was:
        gc.enable()
    return {
        "log_type": AUDIT,
        "events": events,
        "events_per_s": round(events / engine_best),
        "floor_events_per_s": round(events / floor_best),
        "engine_over_floor": round(engine_best / floor_best, 3),
    }
