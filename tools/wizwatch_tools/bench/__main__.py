"""``make bench``: run every benchmark, print a table, write ``bench/results/latest.json``.

Targets are ratios against a baseline measured in the same run (machines here are noisy), so
each benchmark reports its own floor beside its figure. ``--only engine,poller`` runs a subset.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
BENCHES = ("engine", "poller", "detector", "lake")


def corpus_dir() -> Path:
    """The shared deterministic corpus (default seed and sizes), generated once."""
    out = ROOT / "bench" / "corpus"
    if not (out / "Wiz.Audit").is_dir():
        maker = ROOT.parent / "shared" / "bench" / "make_corpus.py"
        if not maker.exists():
            maker = ROOT / "bench" / "make_corpus.py"
        subprocess.run([sys.executable, str(maker), "--out", str(out)], check=True)
    return out


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
        for key, value in results[name].items():
            print(f"   {key:<32} {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
