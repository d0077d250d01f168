"""The demo's data-lake section: keep the archive in a folder, query it, replay the rules over it.

The moto server's bucket disappears with the demo, so its objects are copied to a folder laid out
like the bucket (``--keep DIR``, else a new temporary folder that is left in place). Then one
``wizwatch query`` (alerts by rule, from the lake) and two ``wizwatch replay`` runs over that
folder: in archive time (what the live pipeline did: it must match what SNS delivered) and in event
time (what the rules would have fired had they run while the events happened).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from wizwatch_tools.lake import query as lake_query
from wizwatch_tools.lake.replay import Replayer, list_pages, load_engine, run_all
from wizwatch_tools.lake.replay_cmd import DEFAULT_RULES
from wizwatch_tools.lake.sources import LocalArchive, copy_to_folder
from wizwatch_tools.localstack.session import Session

ALERTS_SQL = (
    "SELECT p_rule_id AS rule, count(*) AS matched_events, count(DISTINCT p_alert_id) AS alert_ids, "
    "min(p_event_time) AS first_event FROM alerts GROUP BY 1 ORDER BY 2 DESC, 1"
)


def keep_archive(session: Session, keep: str | None) -> Path:
    dest = Path(keep).expanduser() if keep else Path(tempfile.mkdtemp(prefix="wizwatch-archive-"))
    dest.mkdir(parents=True, exist_ok=True)
    copy_to_folder(session.stack.s3, session.stack.resources["bucket"], dest)
    return dest


def replay_counts(folder: Path, clock_kind: str, rules: Path = DEFAULT_RULES) -> dict[str, Any]:
    archive = LocalArchive(folder)
    replayer = Replayer(load_engine(rules))
    run_all(archive, list_pages(archive, clock_kind=clock_kind), [replayer], clock_kind=clock_kind)
    return replayer.tally.summary()


def show(session: Session, console: Console, alerts: list[dict[str, Any]], keep: str | None) -> bool:
    """Prints the section; True if the archive-time replay matched what SNS delivered."""
    with console.status("[bold]lake[/] keeping the archive, querying it, replaying the rules over it..."):
        folder = keep_archive(session, keep)
        archive = LocalArchive(folder)
        with lake_query.run(archive, ALERTS_SQL) as result:
            rows = [r for batch in result.batches() for r in batch]
            columns = result.columns
        as_archived = replay_counts(folder, "archive")
        as_happened = replay_counts(folder, "event")
    console.print(f"  [green]✓[/] archive kept in [bold]{folder}[/] (raw/, lake/, matches/)")
    console.print(f'  wizwatch query --archive {folder} "{ALERTS_SQL}"')
    table = Table(title=None, title_justify="left")
    for name in columns:
        table.add_column(name, justify="right" if name != "rule" else "left")
    for row in rows:
        table.add_row(*(str(v) for v in row))
    console.print(table)
    live = Counter(a["rule_id"] for a in alerts if a.get("alert_type") == "RULE")
    replay = Table(title=f"wizwatch replay --archive {folder}", title_justify="left")
    replay.add_column("rule")
    replay.add_column("delivered live", justify="right")
    replay.add_column("replay --clock archive", justify="right")
    replay.add_column("replay --clock event", justify="right")
    rules = sorted(set(live) | set(as_archived["alerts"]) | set(as_happened["alerts"]))
    for rule in rules:
        replay.add_row(
            rule,
            str(live.get(rule, 0)),
            str(as_archived["alerts"].get(rule, 0)),
            str(as_happened["alerts"].get(rule, 0)),
        )
    console.print(replay)
    same = dict(live) == as_archived["alerts"]
    console.print(
        f"  {'[green]✓[/]' if same else '[yellow]![/]'} replay in archive time "
        f"{'matches' if same else 'differs from'} what SNS delivered"
        + ("" if same else " (pages processed long after they were archived fall in other windows)")
        + f"; {as_happened['pages']} pages, {as_happened['events']} events replayed"
    )
    return same
