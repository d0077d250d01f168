"""Detector benchmark: the production path per log type, rule scaling, DynamoDB capacity per
matched event, cold start and peak memory (``detector`` in ``bench/results/latest.json``).

* ``per_log_type.<LogType>``: :mod:`production_path`: ``Detector.process`` of one S3
  notification per page (in-memory AWS clients) against gunzip + JSON parse of the same bytes,
  interleaved page by page, CPU time. Each round is a fresh process (so its first pass is cold):
  one first pass (fresh dedup store) then warm passes (new ids, new keys). The top-level
  ``events_per_s`` / ``floor_events_per_s`` / ``over_floor`` / ``us_per_event`` are the warm
  medians (a warm container on new traffic); ``first_pass`` holds the same for the first pass.
* ``stages``: :mod:`stages`: the same path's time split by stage of ``Detector.process``.
* ``rule_scaling``: :mod:`rule_scaling`.
* ``dynamodb``: the corpus through the same path with a :class:`CapacityMeter` around the
  in-memory DynamoDB: WRU and RRU per matched event (first pass: fresh store; warm: windows
  open, new events), per log type and over the corpus.
* ``cold_start`` and ``peak_rss``: :mod:`startup`.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path
from typing import Any

from wizwatch.detect.engine import Engine
from wizwatch.logtypes import API_LOG_TYPES, AUDIT
from wizwatch_tools.bench import rule_scaling, stages, startup
from wizwatch_tools.bench.capacity import CapacityMeter
from wizwatch_tools.bench.corpus import pages_of
from wizwatch_tools.bench.production_path import (
    RULES,
    TABLE,
    Bench,
    PassTiming,
    pass_pages,
    run_worker,
    timed_pass,
)
from wizwatch_tools.lake.memaws import MemoryDynamoDB

ROUNDS = int(os.environ.get("WIZWATCH_BENCH_ROUNDS", "3"))
WARM_PASSES = int(os.environ.get("WIZWATCH_BENCH_WARM_PASSES", "2"))


def polled_types(corpus: Path) -> list[str]:
    """Every polled log type the corpus has pages for, in the poller's order."""
    return [t for t in API_LOG_TYPES if any((corpus / t).glob("page-*.json.gz"))]


def _round(log_type: str, corpus: Path, warm_passes: int) -> dict[str, Any]:
    """One round in a fresh process (see production_path.main)."""
    args = ["-m", "wizwatch_tools.bench.production_path", log_type, str(corpus), str(warm_passes)]
    return run_worker(args, f"{log_type} round")


def summarise(passes: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over passes of the figures the contract names (plus what explains them)."""
    events = passes[0]["events"]
    detector_s = statistics.median(p["detector_s"] for p in passes)
    floor_s = statistics.median(p["floor_s"] for p in passes)
    return {
        "events": events,
        "events_per_s": round(events / detector_s),
        "floor_events_per_s": round(events / floor_s),
        # Each pass's own ratio (its floor and detector pages interleaved), then the median.
        "over_floor": round(statistics.median(p["detector_s"] / p["floor_s"] for p in passes), 2),
        "us_per_event": round(detector_s / events * 1e6, 1),
        "floor_us_per_event": round(floor_s / events * 1e6, 2),
        "matches_per_pass": passes[0]["matches"],
        "alerts_per_pass": passes[0]["alerts"],
        "quarantined_per_pass": passes[0]["quarantined"],
        "samples": len(passes),
    }


def per_log_type(corpus: Path, types: list[str], *, rounds: int, warm_passes: int) -> dict[str, Any]:
    got: dict[str, list[dict[str, Any]]] = {t: [] for t in types}
    for _ in range(rounds):  # round-major: each type's samples are spread over the whole run
        for log_type in types:
            got[log_type].append(_round(log_type, corpus, warm_passes))
    out: dict[str, Any] = {}
    for log_type, results in got.items():
        first = summarise([r["first"] for r in results])
        warm = summarise([w for r in results for w in r["warm"]])
        out[log_type] = {**warm, "pass": "warm", "first_pass": first, "warm": warm}
    return out


def _metered(
    engine: Engine, pages_by_type: dict[str, list[bytes]], generation: int, bench: Bench | None
) -> Any:
    """One pass over the corpus with a capacity meter; returns (bench, meter deltas per type)."""
    if bench is None:
        meter = CapacityMeter(MemoryDynamoDB({TABLE: ("pk", "sk")}))
        bench = Bench(engine, dynamodb=meter)
    meter = bench.dynamodb
    per_type: dict[str, dict[str, Any]] = {}
    for log_type, bodies in pages_by_type.items():
        pages = pass_pages(log_type, bodies, generation)
        wru, rru, requests = meter.wru, meter.rru, sum(meter.requests.values())
        timing: PassTiming = timed_pass(bench, pages)
        per_type[log_type] = {
            "matches": timing.matches,
            "events": timing.events,
            "wru": meter.wru - wru,
            "rru": meter.rru - rru,
            "requests": sum(meter.requests.values()) - requests,
        }
    return bench, per_type


def _per_match(figures: dict[str, Any]) -> dict[str, Any]:
    m = figures["matches"]
    return {
        "matched_events": m,
        "events": figures["events"],
        "wru": round(figures["wru"], 1),
        "rru": round(figures["rru"], 1),
        "requests": figures["requests"],
        "wru_per_match": round(figures["wru"] / m, 2) if m else None,
        "rru_per_match": round(figures["rru"] / m, 2) if m else None,
    }


def dynamodb_capacity(corpus: Path, types: list[str]) -> dict[str, Any]:
    engine = Engine.from_directory(RULES, strict=True)
    pages_by_type = {t: pages_of(corpus, t) for t in types}
    out: dict[str, Any] = {
        "path": "Detector.process over the corpus, DynamoDB metered by AWS's capacity rules (capacity.py)"
    }
    bench = None
    for label, generation in (("first_pass", 0), ("warm", 1)):
        bench, per_type = _metered(engine, pages_by_type, generation, bench)
        total = {
            k: sum(f[k] for f in per_type.values()) for k in ("matches", "events", "wru", "rru", "requests")
        }
        out[label] = {"corpus": _per_match(total), **{t: _per_match(f) for t, f in per_type.items()}}
    assert bench is not None
    out["by_operation"] = bench.dynamodb.summary()
    out["wru_per_match"] = out["first_pass"]["corpus"]["wru_per_match"]
    out["rru_per_match"] = out["first_pass"]["corpus"]["rru_per_match"]
    return out


def run(corpus: Path, *, rounds: int = ROUNDS, warm_passes: int = WARM_PASSES) -> dict[str, Any]:
    types = polled_types(corpus)
    print(
        f"   per log type: {', '.join(types)} ({rounds} rounds, 1 first + {warm_passes} warm passes)",
        flush=True,
    )
    result: dict[str, Any] = {
        "path": "Detector.process of one S3 notification per page, in-memory AWS clients (memaws); "
        "floor = gunzip + orjson parse of the same bytes; CPU time, interleaved page by page",
        "per_log_type": per_log_type(corpus, types, rounds=rounds, warm_passes=warm_passes),
    }
    print("   stages", flush=True)
    result["stages"] = stages.run_stages(corpus, types)
    print(stages.table(result["stages"]), flush=True)
    print("   rule scaling", flush=True)
    result["rule_scaling"] = rule_scaling.run_scaling(pages_of(corpus, AUDIT), rounds=rounds)
    print("   dynamodb capacity", flush=True)
    result["dynamodb"] = dynamodb_capacity(corpus, types)
    print("   cold start, peak RSS", flush=True)
    result["cold_start"] = startup.cold_start(samples=3)
    result["peak_rss"] = startup.peak_rss(corpus)
    return result
