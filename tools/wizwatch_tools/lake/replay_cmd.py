"""``wizwatch replay``: backtest rules over an archive with the detector's own code path."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from wizwatch.errors import RuleLoadError
from wizwatch.logtypes import ALL_LOG_TYPES
from wizwatch_tools.lake import compare
from wizwatch_tools.lake.replay import CLOCKS, Replayer, Tally, list_pages, load_engine, replay
from wizwatch_tools.lake.sources import ArchiveError, add_archive_arguments, open_archive

DEFAULT_RULES = Path(__file__).resolve().parents[3] / "functions" / "detector" / "rules"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run the detector's production path (parse, normalise, rules, dedup windows and thresholds) "
        "over archived pages in time order, against a private in-memory store: nothing is published, "
        "no live table is written. Prints a table per rule, then one JSON object on the last line."
    )
    add_archive_arguments(parser)
    parser.add_argument(
        "--from", dest="start", type=date.fromisoformat, help="first dt (YYYY-MM-DD) to replay"
    )
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last dt (YYYY-MM-DD) to replay")
    parser.add_argument(
        "--log-type",
        action="extend",
        nargs="+",
        choices=ALL_LOG_TYPES,
        help="replay only these log types (default all)",
    )
    parser.add_argument(
        "--rules", default=str(DEFAULT_RULES), help="rules tree to run (default: %(default)s)"
    )
    parser.add_argument(
        "--baseline",
        help="a second rules tree to compare with: per rule, the alerts --rules adds and removes",
    )
    parser.add_argument(
        "--clock",
        choices=CLOCKS,
        default="event",
        help="time of dedup windows: event (when the events happened; default) or archive (when "
        "each page was archived: what the live pipeline did)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no table: only the JSON line")


def _table(tally: Tally, baseline: Tally | None, diff: dict[str, dict[str, int]], out: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Replay by rule", title_justify="left")
    table.add_column("rule")
    table.add_column("matched events", justify="right")
    table.add_column("alerts", justify="right")
    table.add_column("rule errors", justify="right")
    table.add_column("error alerts", justify="right")
    if baseline is not None:
        table.add_column("baseline alerts", justify="right")
        table.add_column("added", justify="right")
        table.add_column("removed", justify="right")
    rules = set(tally.matches) | set(tally.alerts) | set(tally.rule_errors) | set(tally.error_alerts)
    if baseline is not None:
        rules |= set(baseline.alerts) | set(baseline.matches)
    for rule in sorted(rules):
        row = [
            rule,
            str(tally.matches.get(rule, 0)),
            str(tally.alerts.get(rule, 0)),
            str(tally.rule_errors.get(rule, 0)),
            str(tally.error_alerts.get(rule, 0)),
        ]
        if baseline is not None:
            d = diff.get(rule, {})
            row += [str(baseline.alerts.get(rule, 0)), f"+{d.get('added', 0)}", f"-{d.get('removed', 0)}"]
        table.add_row(*row)
    console = Console(file=out, width=max(120, Console().width))
    console.print(table)
    console.print(
        f"{tally.pages} pages, {tally.events} events, {tally.invalid} invalid, "
        f"{sum(tally.alerts.values())} alerts"
    )


def run_cmd(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        archive = open_archive(args.archive, endpoint_url=args.endpoint_url)
        engines = [load_engine(args.rules)]
        if args.baseline:
            engines.append(load_engine(args.baseline))
        pages = list_pages(
            archive, log_types=args.log_type, start=args.start, end=args.end, clock_kind=args.clock
        )
    except (ArchiveError, RuleLoadError, FileNotFoundError) as exc:
        err.write(f"wizwatch replay: {exc}\n")
        return 2
    replayers = [Replayer(e) for e in engines]
    steps = replay(archive, pages, replayers, clock_kind=args.clock)
    try:
        if args.quiet:
            for _ in steps:
                pass
        else:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            columns = [
                TextColumn("replay"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("pages"),
                TimeRemainingColumn(),
            ]
            with Progress(*columns, console=Console(file=err), transient=True) as bar:
                task = bar.add_task("replay", total=len(pages))
                for _ in steps:
                    bar.advance(task)
    except ArchiveError as exc:
        err.write(f"wizwatch replay: {exc}\n")
        return 2
    tally = replayers[0].tally
    baseline = replayers[1].tally if len(replayers) > 1 else None
    result: dict[str, Any] = tally.summary() if baseline is None else compare.summary(baseline, tally)
    if not args.quiet:
        _table(tally, baseline, result.get("diff", {}), out)
    out.write(json.dumps(result, sort_keys=False) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    return run_cmd(args)
