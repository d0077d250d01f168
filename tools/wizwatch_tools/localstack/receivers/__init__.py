"""Local receivers for every destination type, and a destinations setup pointing at them.

``local_destinations()`` starts the receivers with fresh random credentials and returns the
destinations document and the ``DESTINATIONS_SECRET`` value that route to them (the notifier
must run with ``DESTINATIONS_ALLOW_LOOPBACK_HTTP=true``: the receivers speak plain HTTP on
127.0.0.1). Used by ``make demo``, ``wizwatch destinations test`` and the end-to-end tests.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wizwatch_tools.localstack.receivers.chat import SlackReceiver, TeamsReceiver
from wizwatch_tools.localstack.receivers.incidents import JiraReceiver, PagerDutyReceiver, WebhookReceiver
from wizwatch_tools.localstack.receivers.server import Receivers, Request

__all__ = ["LocalDestinations", "Receivers", "Request", "local_destinations"]

ALL = ("sns", "slack", "teams", "pagerduty", "jira", "webhook")
JIRA_PROJECT = "SEC"


@dataclass
class LocalDestinations:
    """Running receivers + the document and secret that make the notifier deliver to them."""

    receivers: Receivers
    document: dict[str, Any]
    secret: dict[str, Any]
    credentials: dict[str, str] = field(default_factory=dict)  # every secret value (for leak checks)

    def write_document(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(yaml.safe_dump(self.document, sort_keys=False))
        return path

    def secret_string(self) -> str:
        return json.dumps(self.secret)

    def stop(self) -> None:
        self.receivers.stop()


def local_destinations(
    names: tuple[str, ...] = ALL, routing: dict[str, dict[str, Any]] | None = None
) -> LocalDestinations:
    """Start receivers for ``names`` (destination name = its type) with ``routing`` overrides
    (e.g. ``{"pagerduty": {"severities": ["HIGH", "CRITICAL"]}}``) merged into the document."""
    slack_hook = f"T0LOCAL/B0LOCAL/{secrets.token_hex(12)}"
    teams_flow = secrets.token_hex(16)
    pd_key = secrets.token_hex(16)
    jira_email, jira_token = "secops-bot@example.com", secrets.token_urlsafe(18)
    webhook_token, webhook_hmac = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    receivers = Receivers(
        [
            SlackReceiver({slack_hook}),
            TeamsReceiver({teams_flow}),
            PagerDutyReceiver({pd_key}),
            JiraReceiver({jira_email: jira_token}, {JIRA_PROJECT}),
            WebhookReceiver(webhook_token),
        ]
    ).start()
    base = receivers.base_url
    document: dict[str, Any] = {
        "sns": {"type": "sns"},
        "slack": {"type": "slack"},
        "teams": {"type": "teams"},
        "pagerduty": {"type": "pagerduty", "url": f"{base}/pagerduty/v2/enqueue"},
        "jira": {"type": "jira", "url": f"{base}/jira", "project": JIRA_PROJECT, "issue_type": "Task"},
        "webhook": {"type": "webhook"},
    }
    secret: dict[str, Any] = {
        "slack": {"url": f"{base}/slack/services/{slack_hook}"},
        "teams": {"url": f"{base}/teams/workflows/{teams_flow}"},
        "pagerduty": {"routing_key": pd_key},
        "jira": {"email": jira_email, "api_token": jira_token},
        "webhook": {
            "url": f"{base}/webhook/soar",
            "headers": {"Authorization": f"Bearer {webhook_token}"},
            "hmac_secret": webhook_hmac,
        },
    }
    chosen = {n: {**document[n], **(routing or {}).get(n, {})} for n in names}
    return LocalDestinations(
        receivers=receivers,
        document={"destinations": chosen},
        secret={n: v for n, v in secret.items() if n in chosen},
        credentials={
            "slack": slack_hook.rsplit("/", 1)[-1],
            "teams": teams_flow,
            "pagerduty": pd_key,
            "jira": jira_token,
            "webhook": webhook_token,
            "webhook_hmac": webhook_hmac,
        },
    )
