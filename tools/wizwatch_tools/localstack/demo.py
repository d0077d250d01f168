"""``wizwatch local demo`` (``make demo``): the whole pipeline on the local stack, narrated.

Starts the moto server and the Wiz simulator (or uses a real tenant), provisions template.yaml,
then runs the real handlers step by step with a live progress display, and ends with a summary:
events per log type, pages archived, alerts by rule as they arrived through SNS, and where the
archive is.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from typing import Any

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from wizwatch_tools.localstack import demo_lake
from wizwatch_tools.localstack.demo_destinations import demo_destinations
from wizwatch_tools.localstack.demo_posture import posture_table
from wizwatch_tools.localstack.recorder import Recorder
from wizwatch_tools.localstack.session import Session, local_session
from wizwatch_tools.localstack.stack import schedule_key

SEVERITY_STYLE = {"CRITICAL": "bold red", "HIGH": "red", "MEDIUM": "yellow", "LOW": "cyan", "INFO": "dim"}
SEVERITY_ORDER = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]


def metric_totals(recorder: Recorder, fn: str, metric: str, dimension: str) -> dict[str, float]:
    """Sum of ``metric`` per value of ``dimension`` over the EMF blobs ``fn`` printed."""
    totals: dict[str, float] = defaultdict(float)
    for blob in recorder.metrics.get(fn, []):
        if metric not in blob or dimension not in blob:
            continue
        value = blob[metric]
        totals[str(blob[dimension])] += sum(value) if isinstance(value, list) else float(value)
    return dict(totals)


def _poll_counts(result: Any, log_type: str) -> tuple[int, int, str]:
    """(records, pages, status) from the poller's result for one log type."""
    info = (result or {}).get("log_types", {}).get(log_type, {}) if isinstance(result, dict) else {}
    return int(info.get("records", 0)), int(info.get("pages", 0)), str(info.get("status", "?"))


def run_steps(session: Session, console: Console) -> dict[str, Any]:
    """Drive the pipeline with a spinner per step; returns what the summary needs."""
    stack = session.stack
    polled: dict[str, tuple[int, int, str]] = {}
    schedules = [s for s in stack.spec("poller").schedules if s.enabled]
    for sched in schedules:
        log_type = schedule_key(sched.input, sched.name)
        with console.status(f"[bold]poller[/] schedule tick {sched.name}: pulling {log_type} from Wiz..."):
            result = stack.invoke("poller", sched.input)
        polled[log_type] = _poll_counts(result, log_type)
        records, pages, status = polled[log_type]
        console.print(
            f"  [green]✓[/] poller   {log_type:<26} {records:>6} records in {pages} page(s)  [{status}]"
        )
    rounds = 0
    detected = notified = 0
    while rounds < 10:
        rounds += 1
        with console.status("[bold]detector[/] reading S3 notifications from the raw-object queue..."):
            det = stack.run_detector()
        with console.status("[bold]notifier[/] publishing queued alerts to SNS..."):
            note = stack.run_notifier()
        detected += det.messages
        notified += note.messages
        if det.messages:
            console.print(
                f"  [green]✓[/] detector {det.messages} archived page(s) in {det.invocations} batch(es)"
            )
        if note.messages:
            console.print(f"  [green]✓[/] notifier {note.messages} alert(s) in {note.invocations} batch(es)")
        if not det.messages and not note.messages:
            break
    with console.status("[bold]SNS[/] reading what the alert topic delivered..."):
        alerts = stack.received_alerts()
    console.print(f"  [green]✓[/] SNS      {len(alerts)} alert(s) delivered to the subscribed queue")
    return {"polled": polled, "alerts": alerts, "pages_detected": detected, "alerts_queued": notified}


def summary_tables(session: Session, outcome: dict[str, Any]) -> list[Any]:
    stack = session.stack
    processed = metric_totals(stack.recorder, "detector", "EventsProcessed", "LogType")
    # Polled pages only: pushed webhook bodies (raw/<LogType>/dt=.../pushed/) are the webhook's.
    pages = Counter(key.split("/")[1] for key in stack.archived_keys("raw/") if "/pushed/" not in key)
    pages.update(
        key.split("/")[1] + "/snapshot"
        for key in stack.archived_keys("snapshots/")
        if key.endswith(".json.gz")
    )
    events = Table(title="Events per log type", title_justify="left")
    events.add_column("log type", no_wrap=True)
    events.add_column("records archived", justify="right")
    events.add_column("pages archived", justify="right")
    events.add_column("events evaluated", justify="right")
    for log_type, (records, _, _) in outcome["polled"].items():
        events.add_row(
            log_type, str(records), str(pages.get(log_type, 0)), str(int(processed.get(log_type, 0)))
        )

    by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for alert in outcome["alerts"]:
        by_rule[alert["rule_id"]].append(alert)
    alerts = Table(title="Alerts delivered through SNS, by rule", title_justify="left")
    # Cells are shortened here rather than by column options (no_wrap columns collapse others).
    alerts.add_column("severity")
    alerts.add_column("rule")
    alerts.add_column("alerts", justify="right")
    alerts.add_column("events", justify="right")
    alerts.add_column("latest title")

    def order(item: tuple[str, list[dict[str, Any]]]) -> tuple[int, str]:
        sev = item[1][0].get("severity", "INFO")
        return (SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else 99, item[0])

    for rule_id, items in sorted(by_rule.items(), key=order):
        sev = str(items[0].get("severity", "?"))
        alerts.add_row(
            f"[{SEVERITY_STYLE.get(sev, '')}]{sev}[/]",
            _shorten(rule_id, 40),
            str(len(items)),
            str(sum(int(a.get("event_count", 1)) for a in items)),
            _shorten(str(items[-1].get("title", "")), 44),
        )
    bucket = stack.resources["bucket"]
    where = Table.grid(padding=(0, 2))
    where.add_row("raw archive", f"s3://{bucket}/raw/<LogType>/dt=YYYY-MM-DD/...")
    where.add_row("rule matches", f"s3://{bucket}/matches/")
    where.add_row("lake (JSON lines)", f"s3://{bucket}/lake/<table>/dt=YYYY-MM-DD/ (kept below)")
    where.add_row("posture snapshots", f"s3://{bucket}/snapshots/<LogType>/dt=YYYY-MM-DD/<snapshot id>/")
    where.add_row("AWS endpoint", f"{stack.endpoint} (moto server, stopped when the demo ends)")
    where.add_row("Wiz API", session.wiz_api_url + (" (simulator)" if session.sim is not None else ""))
    if stack.iam_enforced:
        where.add_row("IAM", "enforced: each function ran under its own role from template.yaml")
    where.add_row(
        "DLQ depth",
        f"raw objects {stack.queue_depth('raw_dlq_url')}, alerts {stack.queue_depth('alert_dlq_url')}",
    )
    posture = posture_table(stack)
    return [
        events,
        alerts,
        *([posture] if posture is not None else []),
        Panel(where, title="Where things are", title_align="left"),
    ]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_demo(args: argparse.Namespace) -> int:
    # Tables need room: never narrower than 120 columns (pipes and CI report 80).
    console = Console(width=max(120, Console().width))
    started = time.monotonic()
    console.rule(
        "[bold]Wizwatch demo[/]: Wiz → poller / webhook → S3 → detector → alert queue → notifier → SNS"
    )
    destinations_cm = demo_destinations()
    destinations = destinations_cm.__enter__()
    with console.status("starting the moto server, the Wiz simulator and provisioning template.yaml..."):
        session_cm = local_session(args, echo=args.verbose, function_env=destinations.function_env)
        session = session_cm.__enter__()
    try:
        stack = session.stack
        destinations.install(stack)
        source = (
            f"simulator seeded with {args.hours}h of history" if session.sim is not None else "a real tenant"
        )
        console.print(
            f"  [green]✓[/] AWS on moto at {stack.endpoint}; {len(stack.provisioned.physical)} resources "
            f"from template.yaml ({len(stack.provisioned.skipped)} not needed locally); Wiz: {source}"
        )
        outcome = run_steps(session, console)
        # Webhook section (demo_webhook.py): pushes, refusals, and their alerts through SNS.
        from wizwatch_tools.localstack.demo_webhook import run_webhook_steps, webhook_table

        pushed = run_webhook_steps(session, console)
        outcome["alerts"] = stack.received_alerts()
        for table in summary_tables(session, outcome):
            console.print(table)
        console.print(destinations.table())
        if (pushes := webhook_table(pushed)) is not None:
            console.print(pushes)
        demo_lake.show(session, console, outcome["alerts"], getattr(args, "keep", None))
        if stack.errors:
            console.print(
                f"[red]{len(stack.errors)} handler invocation(s) raised; first:[/]\n{stack.errors[0]}"
            )
        seen = {a["rule_id"] for a in outcome["alerts"]}
        console.print(
            f"[bold]{len(outcome['alerts'])}[/] alerts from [bold]{len(seen)}[/] rules in "
            f"{time.monotonic() - started:.1f}s."
        )
        return 1 if stack.errors else 0
    finally:
        session_cm.__exit__(None, None, None)
        destinations_cm.__exit__(None, None, None)
