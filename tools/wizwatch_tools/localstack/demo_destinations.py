"""The demo's destinations: alerts delivered to a local "Slack" and a local "PagerDuty".

Starts the receivers, writes a destinations document routing MEDIUM and above to Slack, HIGH and
above to PagerDuty and everything to SNS, gives the detector and the notifier that document
(and the notifier the loopback-HTTP allowance the receivers need), puts the receivers'
credentials into the stack's DestinationsSecret, and summarises what each receiver accepted.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from wizwatch_tools.localstack.receivers import LocalDestinations, local_destinations

ROUTING = {
    "slack": {"severities": ["MEDIUM", "HIGH", "CRITICAL"]},
    "pagerduty": {"severities": ["HIGH", "CRITICAL"]},
}


@dataclass
class DemoDestinations:
    local: LocalDestinations
    document: Path
    stack: Any = None

    @property
    def dlq_depth(self) -> int:
        return int(self.stack.queue_depth("delivery_dlq_url")) if self.stack is not None else 0

    @property
    def function_env(self) -> dict[str, dict[str, str]]:
        doc = str(self.document)
        return {
            "detector": {"DESTINATIONS_FILE": doc},
            "notifier": {"DESTINATIONS_FILE": doc, "DESTINATIONS_ALLOW_LOOPBACK_HTTP": "true"},
        }

    def install(self, stack: Any) -> None:
        """Put the receivers' credentials into the provisioned DestinationsSecret."""
        self.stack = stack
        stack.secretsmanager.put_secret_value(
            SecretId=stack.resources["destinations_secret_id"], SecretString=self.local.secret_string()
        )

    def table(self) -> Table:
        table = Table(title="Alerts delivered to destinations (local receivers)", title_justify="left")
        for column in ("destination", "routing", "accepted", "refused", "latest message"):
            table.add_column(column, justify="right" if column in ("accepted", "refused") else "left")
        for name, latest in (("slack", _slack_latest), ("pagerduty", _pagerduty_latest)):
            got = self.local.receivers.received(name)
            statuses = Counter(r.accepted for r in got)
            accepted = [r for r in got if r.accepted]
            routing = ",".join(ROUTING[name]["severities"])
            text = latest(accepted[-1].json()) if accepted else "-"
            table.add_row(
                name, routing, str(statuses[True]), str(statuses[False]), escape(_shorten(text, 60))
            )
        table.caption = f"each alert delivered once per destination; delivery DLQ depth {self.dlq_depth}"
        return table


def _slack_latest(msg: dict[str, Any]) -> str:
    return str(msg.get("text", ""))


def _pagerduty_latest(event: dict[str, Any]) -> str:
    payload = event.get("payload") or {}
    return (
        f"[{payload.get('severity')}] {payload.get('summary')} (dedup_key {event.get('dedup_key', '')[:8]}…)"
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def demo_destinations() -> Iterator[DemoDestinations]:
    local = local_destinations(("sns", "slack", "pagerduty"), routing=ROUTING)
    with tempfile.TemporaryDirectory(prefix="wizwatch-demo-") as tmp:
        try:
            yield DemoDestinations(local, local.write_document(Path(tmp) / "destinations.yml"))
        finally:
            local.stop()
