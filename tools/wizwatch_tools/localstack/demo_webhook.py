"""The demo's webhook section: the simulator pushes issues and Defend detections to the webhook
function behind its local function URL, hostile pushes are refused, and the pushed events' alerts
arrive through SNS alongside the polled ones (a detection both pushed and polled alerts once)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table

from wizwatch.archive.keys import is_pushed_key
from wizwatch.logtypes import DETECTIONS, ISSUES_WEBHOOK
from wizwatch_tools.localstack.session import Session
from wizwatch_tools.localstack.webhook_listener import WebhookListener

#: Open issues the demo pushes (each a Wiz.Issue.Alert.Passthrough candidate).
DEMO_ISSUES = 5


def run_webhook_steps(session: Session, console: Console) -> dict[str, Any]:
    """Push, refuse, re-deliver, then run detector and notifier; returns what the summary shows."""
    from wizwatch_tools.simulator.sender import Auth, WebhookSender

    stack = session.stack
    if session.sim is None or "webhook" not in stack.functions:
        console.print(
            "  [dim]-[/] webhook  skipped (a real tenant pushes to a deployed endpoint, not to the demo)"
        )
        return {}
    with WebhookListener(stack) as hook:
        sender = WebhookSender(hook.url, Auth(bearer=hook.bearer_token()), session.sim.store)
        with console.status(f"[bold]webhook[/] the simulator pushes detections and issues to {hook.url} ..."):
            pushed = sender.push_all(DETECTIONS) + sender.push_all(ISSUES_WEBHOOK, limit=DEMO_ISSUES)
        ok = Counter(d.log_type for d in pushed if d.status == 200)
        console.print(
            f"  [green]✓[/] webhook  {ok[DETECTIONS]} detection(s) to /detections, {ok[ISSUES_WEBHOOK]} "
            f"issue(s) to /issues at the local function URL {hook.url} (Bearer token from WebhookAuthSecret)"
        )
        with console.status(
            "[bold]webhook[/] hostile pushes: bad credentials, oversized, malformed, re-deliveries"
        ):
            hostile = [
                *sender.bad_credentials(),
                sender.oversized(),
                *sender.malformed(),
                *sender.wrong_paths(),
            ]
            again = sender.redeliver(3)
        refused = ", ".join(
            f"{k} x{n}" for k, n in sorted(Counter(f"{d.kind} {d.status}" for d in hostile).items())
        )
        answers = sorted({d.status for d in again})
        console.print(
            f"  [green]✓[/] webhook  refused: {refused}; {len(again)} re-deliveries answered {answers} "
            "(each archived over itself)"
        )
    queued = 0
    for _ in range(10):
        with console.status("[bold]detector[/] + [bold]notifier[/] on the pushed objects..."):
            det, note = stack.run_detector(), stack.run_notifier()
        queued += note.messages
        if not det.messages and not note.messages:
            break
    pushed_keys = [k for k in stack.archived_keys("raw/") if is_pushed_key(k)]
    console.print(
        f"  [green]✓[/] pushed   {len(pushed_keys)} body object(s) under raw/<LogType>/dt=.../pushed/; "
        f"{queued} new alert(s) queued from them (detections also polled alert once)"
    )
    return {"deliveries": sender.deliveries, "pushed_keys": pushed_keys}


def webhook_table(result: dict[str, Any]) -> Table | None:
    """Pushes by kind and HTTP status (None when the webhook step did not run)."""
    if not result:
        return None
    table = Table(title="Webhook pushes (simulator -> local function URL)", title_justify="left")
    table.add_column("push")
    table.add_column("path")
    table.add_column("HTTP status", justify="right")
    table.add_column("count", justify="right")
    counts = Counter((d.kind, d.path, d.status) for d in result["deliveries"])
    for (kind, path, status), n in sorted(counts.items()):
        table.add_row(kind, path, str(status), str(n))
    return table
