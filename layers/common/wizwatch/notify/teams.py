"""Microsoft Teams: an Adaptive Card posted to a Teams Workflows webhook.

Contract (learn.microsoft.com, "Create and send messages" for Teams webhooks and connectors):
Office 365 connectors are retired; a Workflows webhook ("Post to a channel when a webhook
request is received") accepts Adaptive Cards only, as ``{"type": "message", "attachments":
[{"contentType": "application/vnd.microsoft.card.adaptive", "content": <card>}]}``, answers 202
when accepted, and refuses a message above about 28 KB with 413. The body is sent as UTF-8 with
the charset declared (without it the service counts UTF-16 and halves the usable size).

Secret entry: ``{"url": "https://prod-00.westus.logic.azure.com/workflows/..."}``.
"""

from __future__ import annotations

from typing import Any

from wizwatch.notify import render as r
from wizwatch.notify.base import Destination, Receipt

#: Adaptive Card colours by severity (TextBlock ``color``: attention, warning, accent, good, default).
COLOUR = {
    "CRITICAL": "attention",
    "HIGH": "attention",
    "MEDIUM": "warning",
    "LOW": "accent",
    "INFO": "default",
}
CARD_VERSION = "1.4"


def _text(text: str, **kw: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **kw}


class Teams(Destination):
    type_name = "teams"
    credential_fields = ("url",)
    default_hosts = ("*.logic.azure.com", "*.powerplatform.com", "*.webhook.office.com")
    max_bytes = 28_000

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        severity = str(alert.get("severity", "INFO"))
        body: list[dict[str, Any]] = [
            _text(
                f"Wizwatch alert · {severity}",
                weight="Bolder",
                size="Small",
                color=COLOUR.get(severity, "default"),
            ),
            _text(r.clip(alert.get("title") or alert.get("rule_id"), 1000), weight="Bolder", size="Large"),
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in r.facts(alert)]},
        ]
        if alert.get("description"):
            body.append(_text(r.clip(alert["description"], 4000)))
        context = r.context_items(alert)
        if context:
            body.append(_text("Context", weight="Bolder", separator=True))
            body.append({"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in context]})
        if alert.get("runbook"):
            body.append(_text("Runbook", weight="Bolder", separator=True))
            body.append(_text(r.clip(alert["runbook"], 4000)))
        actions = []
        link = r.matches_link(alert, self.env.region)
        if link:
            actions.append({"type": "Action.OpenUrl", "title": "Matched events", "url": link})
        if r.is_web_url(alert.get("reference")):
            actions.append({"type": "Action.OpenUrl", "title": "Reference", "url": alert["reference"]})
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": CARD_VERSION,
            "msteams": {"width": "Full"},
            "body": body,
            "actions": actions,
        }
        return {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card,
                }
            ],
        }

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        self.post(str(self.credentials()["url"]), self.encode(self.payload(alert)), timeout)
        return Receipt()
