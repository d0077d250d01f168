"""Where ``Detector.process`` spends its time, stage by stage (``detector.stages`` in latest.json).

The same path as :mod:`production_path` (one S3 notification per page, in-memory AWS clients,
first pass, fresh process per log type), with each stage of ``Detector.process`` wrapped in a CPU
timer. The stages are the functions ``process`` calls in turn, so their times do not overlap,
except the two marked "of which", which are inside "evaluate" and listed to split it. What no
stage covers (``process``'s own loop over the outcomes: the matched rows built and rendered once
for matches/ and the lake; metrics) is "other". The wrappers cost a
few hundred nanoseconds a call, made per page or per alert group, not per event, so the total is
within noise of the production-path figure; the ratios to the floor read like its ``x floor``.

"of all: inside the AWS stand-ins" is the CPU spent in the in-memory DynamoDB, S3 and SQS
clients whatever the stage (request checks, expression evaluation, item storage): it stands for
what a request costs the Lambda in production, where botocore builds, signs and sends it (more
CPU, not less). It is included in the stages, not subtracted. Only this breakdown wraps the
clients: a CPU clock read costs ~2 µs here (a system call), too much to add to the headline
figure's path for every request.

The point is to say what a ratio to the floor is made of: the floor (gunzip + JSON parse) is
paid again by reading the page, and the lake copy renders and compresses every event once more.
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

#: (module, attribute path, label). Top-level stages of Detector.process, in its order.
STAGES: tuple[tuple[str, str, str], ...] = (
    ("wizwatch.alerts.detector", "read_raw", "read the object"),
    ("wizwatch.alerts.detector", "Detector._read", "parse the page (the floor's work)"),
    ("wizwatch.alerts.detector", "Detector._evaluate", "evaluate: identities, normalise, rules"),
    ("wizwatch.alerts.detector", "_identities", "  of which identities"),
    ("wizwatch.parse.normalize", "Normalizer.normalize_page", "  of which normalise"),
    ("wizwatch.alerts.correlate", "Correlator.hits", "correlation rules"),
    ("wizwatch.alerts.groups", "AlertGroups.build", "alert groups (spec, routing)"),
    ("wizwatch.dedup.store", "DedupStore.record", "dedup store (DynamoDB)"),
    ("wizwatch.archive.kept", "write_matches", "kept matches (render, gzip, S3)"),
    ("wizwatch.alerts.detector", "Detector._write_lake", "lake copy (render, gzip, S3)"),
    ("wizwatch.alerts.detector", "send_alerts", "alerts to SQS"),
    ("wizwatch.dedup.store", "DedupStore.mark_sent", "receipt (DynamoDB)"),
)
STUBS = "  of all: inside the AWS stand-ins"
NESTED = ("  of which", STUBS)


class Timed:
    """A client whose every method call adds its CPU time to ``seconds``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr
        clock = time.process_time

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return attr(*args, **kwargs)
            finally:
                self.seconds += clock() - t0

        return timed


def _instrument(acc: dict[str, float]) -> None:
    import importlib

    clock = time.process_time
    for module_name, path, label in STAGES:
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        func = getattr(owner, name)  # AttributeError: the stage moved; update STAGES

        def timed(*args: Any, _f: Callable[..., Any] = func, _label: str = label, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return _f(*args, **kwargs)
            finally:
                acc[_label] += clock() - t0

        setattr(owner, name, functools.wraps(func)(timed))


def measure(log_type: str, corpus: Path) -> dict[str, Any]:
    """One first pass over the type's pages with every stage timed (call in a fresh process)."""
    from wizwatch.alerts import heap
    from wizwatch.detect.engine import Engine
    from wizwatch_tools.bench import production_path as pp
    from wizwatch_tools.bench.corpus import pages_of
    from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

    acc = {label: 0.0 for _, _, label in STAGES}
    _instrument(acc)
    clients = [Timed(MemoryDynamoDB({pp.TABLE: ("pk", "sk")})), Timed(MemoryS3()), Timed(MemorySQS())]
    dynamodb, s3, sqs = clients
    bench = pp.Bench(Engine.from_directory(pp.RULES, strict=True), dynamodb=dynamodb, s3=s3, sqs=sqs)  # type: ignore[arg-type]
    heap.settle()
    pages = pp.pass_pages(log_type, pages_of(corpus, log_type), 0)
    for key, body in pages:
        bench.s3.serve(pp.BUCKET, key, body)
    timing = pp.time_pages(bench, pages)  # no gc.freeze: the stages see the collector as it is
    floor_s, total_s = timing.floor_s, timing.detector_s
    events = timing.events + timing.quarantined  # the pages' records, as the floor counts them
    top = sum(v for k, v in acc.items() if not k.startswith(NESTED))
    stages = {**acc, "other": max(0.0, total_s - top), STUBS: sum(c.seconds for c in clients)}
    return {
        "events": events,
        "floor_us_per_event": round(floor_s / events * 1e6, 2),
        "us_per_event": round(total_s / events * 1e6, 1),
        "stages": {
            k: {"us_per_event": round(v / events * 1e6, 2), "x_floor": round(v / floor_s, 2)}
            for k, v in stages.items()
        },
    }


def run_stages(corpus: Path, types: list[str]) -> dict[str, Any]:
    """Every type in its own fresh process."""
    from wizwatch_tools.bench.production_path import run_worker

    out: dict[str, Any] = {}
    for log_type in types:
        args = ["-m", "wizwatch_tools.bench.stages", log_type, str(corpus)]
        out[log_type] = run_worker(args, f"{log_type} stages")
    return out


def table(stages: dict[str, Any]) -> str:
    """Stage rows, one column per log type: µs/event (x floor)."""
    types = list(stages)
    if not types:
        return ""
    labels = list(next(iter(stages.values()))["stages"])
    short = [t.removeprefix("Wiz.")[:14] for t in types]
    lines = ["   " + f"{'stage (us/event, x floor)':42}" + "".join(f"{s:>18}" for s in short)]
    for label in [*labels, "total"]:
        cells = []
        for t in types:
            if label == "total":
                f = stages[t]
                cells.append(f"{f['us_per_event']:.1f} ({f['us_per_event'] / f['floor_us_per_event']:.1f})")
            else:
                s = stages[t]["stages"][label]
                cells.append(f"{s['us_per_event']:.1f} ({s['x_floor']:.2f})")
        lines.append("   " + f"{label:42}" + "".join(f"{c:>18}" for c in cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    log_type, corpus = (argv if argv is not None else sys.argv[1:])[:2]
    sys.stdout.write(orjson.dumps(measure(log_type, Path(corpus))).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
