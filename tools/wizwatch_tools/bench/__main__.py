"""``make bench``: run every benchmark, print a table, write ``bench/results/latest.json``.

Targets are ratios against a baseline measured in the same run (machines here are noisy), so
each benchmark reports its own floor beside its figure. ``--only detector,poller`` runs a subset.
``detector`` is the detector's production path (``detector.per_log_type``, the contract's figure);
``moto_server`` is the handler through a moto server, kept for its AWS request counts. Goals are
reported pass/fail, never enforced: the command fails only if a benchmark cannot run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from wizwatch_tools.bench.corpus import corpus_dir
from wizwatch_tools.bench.report import detector_table, goals_table

ROOT = Path(__file__).resolve().parents[3]
BENCHES = ("detector", "poller", "lake", "moto_server")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--only", default=",".join(BENCHES), help="comma list of: " + ", ".join(BENCHES))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = ap.parse_args(argv)
    corpus = corpus_dir()
    results: dict[str, dict] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    for name in [n.strip() for n in args.only.split(",") if n.strip()]:
        module = importlib.import_module(f"wizwatch_tools.bench.{name}")
        print(f"== {name}", flush=True)
        results[name] = module.run(corpus)
        if name == "detector":
            print(detector_table(results[name]), flush=True)
            continue
        for key, value in results[name].items():
            print(f"   {key:<32} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    if "detector" in results:
        print("== goals (reported, not enforced)")
        print(goals_table(results["detector"]))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
