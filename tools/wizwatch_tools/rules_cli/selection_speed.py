"""Quick measure of rule cost per Wiz.Audit event at 1x, 4x and 10x the rule set, without
InlineFilters (rules as users write them). Not the official bench (``make bench``): a tool to
compare rule selection before and after a change.

The bundled rule tree is copied, every ``InlineFilters`` is removed, and each rule is cloned
under new ids (``<RuleID>.cloneN``, its Python module copied to a new file); with ``--distinct``
the clones ask for other action names, so they key on actions the corpus does not have. Audit records from
the shared corpus maker are normalised once; then ``Engine.evaluate`` runs over all of them,
CPU time (``time.process_time``), after one warm pass; the median of 3 passes is printed, per
multiple, as one JSON line.

    python -m wizwatch_tools.rules_cli.selection_speed --rules functions/detector/rules \\
        --corpus-maker ../shared/bench/make_corpus.py [--events 5000]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from wizwatch.detect.engine import Engine
from wizwatch.parse.normalize import Normalizer

#: Values clones keep under ``--distinct`` (statuses and the like; everything else capitalised in
#: quotes, e.g. an action name, gets the clone's number appended).
_KEEP = {"SUCCESS", "FAILED", "ACCESS_DENIED", "OPEN", "IN_PROGRESS", "RESOLVED", "FAIL", "PASS"}
_QUOTED = re.compile(r"([\"'])([A-Z][A-Za-z]+)\1")


def _rename(text: str, n: int) -> str:
    return _QUOTED.sub(
        lambda m: m.group(0) if m.group(2) in _KEEP else f"{m.group(1)}{m.group(2)}C{n}{m.group(1)}", text
    )


def _rename_values(node: Any, n: int) -> Any:
    """A Detection with every capitalised Value/Values string renamed like ``_rename``."""
    if isinstance(node, list):
        return [_rename_values(x, n) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rename_values(v, n) for k, v in node.items()}
    for key in ("Value", "Values"):
        if key in node:
            out[key] = yaml.safe_load(_rename(json.dumps(node[key]), n))
    return out


def _clone_tree(src: Path, dest: Path, copies: int, distinct: bool = False) -> None:
    shutil.copytree(src, dest)
    for spec_path in sorted(dest.rglob("*.yml")):
        text = spec_path.read_text()
        if "AnalysisType: rule" not in text or "global_helpers" in spec_path.parts:
            continue
        text = re.sub(r"InlineFilters:\n((?:  [- ].*\n)+)", "", text)
        spec_path.write_text(text)
        doc = yaml.safe_load(text)
        for n in range(1, copies):
            twin = dict(doc)
            twin["RuleID"] = f"{doc['RuleID']}.clone{n}"
            twin.pop("Tests", None)
            if "Filename" in doc:
                py = spec_path.parent / doc["Filename"]
                twin["Filename"] = f"{py.stem}_clone{n}.py"
                code = py.read_text()
                (spec_path.parent / twin["Filename"]).write_text(_rename(code, n) if distinct else code)
            out = yaml.safe_dump(twin)
            if distinct and "Detection" in twin:
                out = yaml.safe_dump({**twin, "Detection": _rename_values(doc["Detection"], n)})
            (spec_path.parent / f"{spec_path.stem}_clone{n}.yml").write_text(out)


def _events(maker: Path, count: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("make_corpus", maker)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rnd = random.Random(8952)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    norm = Normalizer("Wiz.Audit")
    return [norm.normalize(mod.audit_node(rnd, t)) for _ in range(count)]


def measure(
    rules: Path, maker: Path, count: int, multiples: list[int], distinct: bool = False
) -> list[dict[str, Any]]:
    events = _events(maker, count)
    out = []
    # One folder for every multiple, kept until the end: helper modules imported from the first
    # tree stay in sys.modules, and selection reads their source.
    with tempfile.TemporaryDirectory() as tmp:
        for k in multiples:
            tree = Path(tmp) / f"rules{k}"
            _clone_tree(rules, tree, k, distinct)
            engine = Engine.from_directory(tree)
            n_rules = len(engine.rules_for("Wiz.Audit"))
            evaluate = engine.evaluate
            for e in events:  # warm: the index, the memo, rule-module caches
                evaluate("Wiz.Audit", e)
            times = []
            for _ in range(3):
                t0 = time.process_time()
                for e in events:
                    evaluate("Wiz.Audit", e)
                times.append(time.process_time() - t0)
            row = {
                "multiple": k,
                "clones": "distinct actions" if distinct else "same actions",
                "audit_rules": n_rules,
                "us_per_event": round(statistics.median(times) / len(events) * 1e6, 2),
                "runs_us": [round(t / len(events) * 1e6, 2) for t in times],
            }
            out.append(row)
            print(json.dumps(row), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=Path, required=True)
    ap.add_argument("--corpus-maker", type=Path, required=True)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--multiples", default="1,4,10")
    ap.add_argument(
        "--distinct",
        action="store_true",
        help="clones ask for other action names (quoted capitalised words get the clone's number): "
        "rules that key on actions the events do not have",
    )
    args = ap.parse_args()
    multiples = [int(x) for x in args.multiples.split(",")]
    measure(args.rules, args.corpus_maker, args.events, multiples, args.distinct)


if __name__ == "__main__":
    main()
