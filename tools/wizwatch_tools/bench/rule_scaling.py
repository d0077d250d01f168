"""What each rule costs per event, with rules as users write them (no ``InlineFilters``).

The enabled Wiz.Audit rules are loaded as production loads them, their ``InlineFilters`` are
removed (everything else kept: Detection, Python module, overrides), and the set is cloned under
new ids to 4x and 10x its size. Each set is a production :class:`Engine` (``Engine(rules)``,
whatever rule selection the engine derives on its own applies to clones as to originals).

Timed: ``Engine.evaluate(Wiz.Audit, event)`` over every normalised event of the Audit corpus,
which is the call ``Detector._evaluate`` makes per event (rule selection, every candidate rule,
alert fields of matches). Normalisation is done once beforehand and not timed: it does not depend
on the number of rules and is in ``per_log_type``. The three sizes are timed in turn, several
rounds, CPU time, medians; the shipped rules (InlineFilters kept) are timed beside them.
"""

from __future__ import annotations

import dataclasses
import gc
import gzip
import statistics
import time
from pathlib import Path
from typing import Any

import orjson

from wizwatch.detect.engine import Engine
from wizwatch.detect.spec import Rule
from wizwatch.logtypes import AUDIT
from wizwatch.parse.normalize import Normalizer
from wizwatch_tools.bench.production_path import RULES

MULTIPLIERS = (1, 4, 10)
TARGET_RULES = 250


def audit_rules(rules_dir: Path = RULES) -> list[Rule]:
    engine = Engine.from_directory(rules_dir, strict=True)
    return engine.rules_for(AUDIT)


def without_inline_filters(rule: Rule, copy: int) -> Rule:
    """The rule as written without InlineFilters; ``copy`` > 0 gives it a new id."""
    rule_id = rule.rule_id if copy == 0 else f"{rule.rule_id}.bench{copy}"
    spec = {k: v for k, v in rule.spec.items() if k != "InlineFilters"}
    spec["RuleID"] = rule_id
    return dataclasses.replace(rule, rule_id=rule_id, spec=spec, runner=None, unmodified=None)


def scaled(rules: list[Rule], multiplier: int) -> Engine:
    return Engine([without_inline_filters(r, copy) for copy in range(multiplier) for r in rules])


def normalised_events(bodies: list[bytes]) -> list[dict[str, Any]]:
    normalizer = Normalizer(AUDIT)
    parse_time = "2026-11-22 00:00:00.000000000"
    events = []
    for body in bodies:
        doc = orjson.loads(gzip.decompress(body))
        for conn in doc["data"].values():
            for record in conn["nodes"]:
                try:
                    events.append(normalizer.normalize(record, parse_time=parse_time))
                except Exception:
                    continue  # a record production would quarantine: not evaluated there either
    return events


def _evaluate_all(engine: Engine, events: list[dict[str, Any]]) -> tuple[float, int]:
    evaluate = engine.evaluate
    hits = 0
    gc.collect()
    t0 = time.process_time()
    for event in events:
        hits += len(evaluate(AUDIT, event))
    return time.process_time() - t0, hits


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares (intercept, slope) of µs/event against the number of rules."""
    xs = [float(x) for x, _ in points]
    ys = [y for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    return my - slope * mx, slope


def run_scaling(bodies: list[bytes], *, rounds: int = 3, rules_dir: Path = RULES) -> dict[str, Any]:
    shipped = Engine.from_directory(rules_dir, strict=True)
    base = shipped.rules_for(AUDIT)
    events = normalised_events(bodies)
    if not base or not events:
        raise ValueError("no Wiz.Audit rules or events to time")
    engines = {f"{m}x": scaled(base, m) for m in MULTIPLIERS}
    engines["shipped"] = shipped
    for engine in engines.values():  # indexes and lazy compilation built outside the timing
        for event in events[:50]:
            engine.evaluate(AUDIT, event)
    times: dict[str, list[float]] = {name: [] for name in engines}
    hits: dict[str, int] = {}
    for _ in range(rounds):
        for name, engine in engines.items():
            seconds, hits[name] = _evaluate_all(engine, events)
            times[name].append(seconds)
    n = len(events)
    out: dict[str, Any] = {
        "path": "Engine.evaluate per normalised Wiz.Audit event (the call Detector._evaluate makes)",
        "events": n,
        "audit_rules": len(base),
        "shipped_with_inline_filters": {
            "rules": len(base),
            "us_per_event": round(statistics.median(times["shipped"]) / n * 1e6, 2),
            "results": hits["shipped"],
        },
    }
    points = []
    for m in MULTIPLIERS:
        us = statistics.median(times[f"{m}x"]) / n * 1e6
        points.append((m * len(base), us))
        out[f"{m}x"] = {"rules": m * len(base), "us_per_event": round(us, 2), "results": hits[f"{m}x"]}
    intercept, slope = _fit(points)
    out["us_per_event_per_rule"] = round(slope, 4)
    out["us_per_event_intercept"] = round(intercept, 2)
    out[f"us_per_event_at_{TARGET_RULES}_rules"] = round(intercept + slope * TARGET_RULES, 1)
    return out
