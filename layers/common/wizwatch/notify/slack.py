"""Slack: an incoming webhook message, Block Kit inside an attachment for the severity colour.

Contract (Slack's docs): POST JSON to the webhook URL (``hooks.slack.com``); 200 ``ok`` on
success; 400 ``invalid_payload``, 403 ``action_prohibited``, 404 ``channel_not_found``/
``no_service``, 410 ``channel_is_archived`` (api.slack.com/changelog/2016-05-17-changes-to-
errors-for-incoming-webhooks); about one message per second, then 429 with ``Retry-After``
(api.slack.com/docs/rate-limits). Limits: top-level ``text`` is truncated at 40,000 characters;
a header block's text at most 150, a section's 3,000, a field's 2,000 (10 fields), a context
block 10 elements, 50 blocks per message (Block Kit reference). Colour needs the legacy
``attachments[].color`` around the blocks; ``text`` is the notification fallback.

Everything taken from the alert is escaped (``&``, ``<``, ``>``), so a matched event can never
inject ``<!channel>`` or a link into the channel.

Secret entry: ``{"url": "https://hooks.slack.com/services/T.../B.../..."}``.
"""

from __future__ import annotations

from typing import Any

from wizwatch.notify import render as r
from wizwatch.notify.base import Destination, Receipt

TEXT_MAX = 40_000
HEADER_MAX = 150
SECTION_MAX = 3_000
FIELD_MAX = 2_000


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn/plain text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str | None, label: str) -> str:
    return f"<{escape(url)}|{label}>" if url else label


def _section(title: str, text: str) -> dict[str, Any]:
    body = r.clip(text, SECTION_MAX - len(title) - 10)
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{escape(body)}"}}


class Slack(Destination):
    type_name = "slack"
    credential_fields = ("url",)
    default_hosts = ("hooks.slack.com", "hooks.slack-gov.com")
    #: Slack documents no byte limit for webhooks; the text caps above keep well under this.
    max_bytes = 60_000

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        severity = str(alert.get("severity", "INFO"))
        title = str(alert.get("title") or alert.get("rule_id"))
        link = r.matches_link(alert, self.env.region)
        fields = [
            {"type": "mrkdwn", "text": r.clip(f"*{label}*\n{escape(value)}", FIELD_MAX)}
            for label, value in r.facts(alert)[:10]
        ]
        blocks: list[dict[str, Any]] = [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": r.clip(title, HEADER_MAX), "emoji": False},
            },
            {"type": "section", "fields": fields},
        ]
        if alert.get("description"):
            blocks.append(_section("Description", str(alert["description"])))
        context = r.context_items(alert)
        if context:
            blocks.append(_section("Context", "\n".join(f"• {k}: {v}" for k, v in context)))
        if alert.get("runbook"):
            blocks.append(_section("Runbook", str(alert["runbook"])))
        reports = r.reports_text(alert)
        if reports:
            blocks.append(_section("Reports", reports))
        footer = [_link(link, "Matched events")]
        if r.is_web_url(alert.get("reference")):
            footer.append(_link(str(alert["reference"]), "Reference"))
        footer.append(f"Wizwatch · {escape(str(alert.get('created_at') or ''))}")
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(footer)}]})
        return {
            "text": r.clip(escape(f"[{severity}] {title}"), TEXT_MAX),
            "attachments": [{"color": r.SEVERITY_COLOUR.get(severity, "#9E9E9E"), "blocks": blocks}],
        }

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        url = str(self.credentials()["url"])
        self.post(url, self.encode(self.payload(alert)), timeout)
        return Receipt()
