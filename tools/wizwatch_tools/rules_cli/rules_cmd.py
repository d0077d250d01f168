"""``wizwatch rules list``: the effective rule set — what the detector runs after overrides.

One row per rule: id, kind, log types, severity, enabled, threshold, dedup minutes, source
(panther-analysis version and path, wizwatch, custom) and what the overrides changed; rules that
failed to load are listed too (kind ``broken``), with their first problem. Then each rule's
*selection*: the conditions derived from its Detection / InlineFilters / ``rule()`` code that an
event must meet for the rule to run at all (``wizwatch.detect.selection``), so a user can see
why a rule was skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.loader import RuleSet
from wizwatch.detect.spec import Rule

from .paths import load_or_report


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    p = sub.add_parser("list", help="the effective rule set (overrides applied)")
    p.add_argument("--rules", type=Path, default=None, help="rule folder (default: the bundled rules)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument("--log-type", default=None, help="only rules of this log type")
    p.add_argument("--enabled-only", action="store_true", help="leave out disabled rules")


def selection_of(rule: Rule) -> list[str]:
    """What the engine derived the rule needs (each is necessary; it files the rule under one)."""
    runner = rule.runner
    return [t.describe() for t in getattr(runner, "selectors", [])]


def rows(found: RuleSet) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    everything: list[Rule | CorrelationRule] = [*found.rules, *found.correlations]
    for r in everything:
        correlation = isinstance(r, CorrelationRule)
        out.append(
            {
                "rule_id": r.rule_id,
                "kind": "correlation" if correlation else ("signal" if not r.create_alert else "rule"),
                "log_types": sorted({"signals of " + m.rule_id for m in r.members})
                if isinstance(r, CorrelationRule)
                else list(r.log_types),
                "severity": r.severity,
                "enabled": r.enabled,
                "threshold": r.threshold,
                "dedup_period_minutes": r.dedup_period_minutes,
                "output_ids": list(r.output_ids),
                "source": r.source,
                "overrides": list(r.overrides),
                "path": r.path,
                "selection": [] if correlation else selection_of(r),  # type: ignore[arg-type]
            }
        )
    for b in found.broken:
        out.append(
            {
                "rule_id": b.rule_id or b.key,
                "kind": "broken",
                "log_types": list(b.log_types),
                "severity": b.severity,
                "enabled": b.enabled,
                "threshold": None,
                "dedup_period_minutes": b.dedup_period_minutes,
                "output_ids": [],
                "source": b.source,
                "overrides": [],
                "path": b.errors[0].path if b.errors else b.key,
                "errors": [str(e) for e in b.errors],
                "selection": [],
            }
        )
    return sorted(out, key=lambda row: row["rule_id"])


def _table(items: list[dict[str, Any]], out: TextIO) -> None:
    head = ("RULE ID", "KIND", "LOG TYPES", "SEVERITY", "ENABLED", "THRESH", "DEDUP", "SOURCE")
    body = [
        (
            r["rule_id"],
            r["kind"],
            ",".join(r["log_types"]),
            r["severity"],
            "yes" if r["enabled"] else "no",
            "" if r["threshold"] is None else str(r["threshold"]),
            f"{r['dedup_period_minutes']}m",
            r["source"],
        )
        for r in items
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    for line in (head, *body):
        print("  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip(), file=out)
    print("\nSelection (derived at load time; a rule runs only on events its conditions accept):", file=out)
    for r in items:
        if r["kind"] in ("rule", "signal"):
            why = "; ".join(r["selection"]) or "runs on every event (nothing derivable)"
            print(f"  {r['rule_id']}: {why}", file=out)
    notes = [(r["rule_id"], n) for r in items for n in r["overrides"]]
    notes += [(r["rule_id"], "FAILED TO LOAD: " + e) for r in items for e in r.get("errors", [])]
    if notes:
        print("\nOverrides and problems:", file=out)
        for rule_id, note in notes:
            print(f"  {rule_id}: {note}", file=out)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    found = load_or_report(args.rules)
    if found is None:
        return 2
    items = rows(found)
    if args.log_type:
        items = [r for r in items if args.log_type in r["log_types"] or r["kind"] == "correlation"]
    if args.enabled_only:
        items = [r for r in items if r["enabled"]]
    if args.format == "json":
        for r in items:
            print(json.dumps(r), file=out)
    else:
        _table(items, out)
    other = [e for e in found.errors if not any(e in b.errors for b in found.broken)]
    for err in other:
        print(f"problem: {err}", file=sys.stderr)
    return 1 if found.errors else 0
