"""Slack incoming webhooks and Teams Workflows webhooks, as their documentation describes them.

Slack (api.slack.com changelog 2016-05-17, docs/rate-limits, Block Kit reference): 200 ``ok``;
400 ``invalid_payload`` for a body that is not JSON or lacks ``text``/``blocks``/``attachments``,
or that breaks a Block Kit limit (header text 150, section text 3000, 10 fields of 2000, 10
context elements, 50 blocks); 404 ``no_service`` for an unknown hook; 429 ``rate_limited`` with
``Retry-After`` when a hook gets more than ``rate_per_second`` messages (off unless set).

Teams (learn.microsoft.com, Teams webhooks): a Workflows webhook takes a ``message`` with one
Adaptive Card attachment, answers 202, refuses a body above 28 KB with 413 and a message card
or malformed card with 400.
"""

from __future__ import annotations

import json
import time
from typing import Any

from wizwatch_tools.localstack.receivers.server import Answer, Request, Service


def _json(request: Request) -> Any:
    try:
        return json.loads(request.body)
    except ValueError:
        return None


def slack_problems(doc: Any) -> list[str]:
    """Block Kit limits a message breaks (empty: Slack would take it)."""
    if not isinstance(doc, dict) or not (doc.get("text") or doc.get("blocks") or doc.get("attachments")):
        return ["missing_text_or_fallback_or_attachments"]
    blocks = list(doc.get("blocks") or [])
    for att in doc.get("attachments") or []:
        blocks += att.get("blocks") or []
    problems = []
    if len(blocks) > 50:
        problems.append("more than 50 blocks")
    for b in blocks:
        text = (b.get("text") or {}).get("text", "")
        if b.get("type") == "header" and len(text) > 150:
            problems.append("header text over 150")
        if b.get("type") == "section":
            if len(text) > 3000:
                problems.append("section text over 3000")
            fields = b.get("fields") or []
            if len(fields) > 10 or any(len(f.get("text", "")) > 2000 for f in fields):
                problems.append("section fields over 10 or 2000")
        if b.get("type") == "context" and len(b.get("elements") or []) > 10:
            problems.append("context over 10 elements")
    return problems


class SlackReceiver(Service):
    name = "slack"
    prefix = "/slack/services/"

    def __init__(self, hooks: set[str], rate_per_second: float | None = None) -> None:
        self.hooks = hooks
        self.rate = rate_per_second
        self._last: dict[str, float] = {}

    def fault_body(self, status: int) -> Any:
        return {429: "rate_limited", 404: "no_service", 410: "channel_is_archived"}.get(
            status, "rollup_error"
        )

    def handle(self, request: Request) -> Answer:
        hook = request.path[len(self.prefix) :]
        if hook not in self.hooks:
            return 404, {}, "no_service"
        if self.rate:
            now, last = time.monotonic(), self._last.get(hook, 0.0)
            if now - last < 1.0 / self.rate:
                return 429, {"Retry-After": "1"}, "rate_limited"
            self._last[hook] = now
        problems = slack_problems(_json(request))
        if problems:
            return 400, {}, "invalid_payload"
        return 200, {}, "ok"


class TeamsReceiver(Service):
    name = "teams"
    prefix = "/teams/workflows/"
    MAX_BYTES = 28_000

    def __init__(self, flows: set[str]) -> None:
        self.flows = flows

    def handle(self, request: Request) -> Answer:
        if request.path[len(self.prefix) :] not in self.flows:
            return 404, {}, {"error": {"code": "WorkflowNotFound"}}
        if len(request.body) > self.MAX_BYTES:
            return 413, {}, {"error": {"code": "RequestEntityTooLarge"}}
        doc = _json(request)
        atts = doc.get("attachments") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or doc.get("type") != "message" or not atts:
            return 400, {}, {"error": {"code": "InvalidRequestContent", "message": "expected a message"}}
        att = atts[0]
        card = att.get("content") or {}
        if (
            att.get("contentType") != "application/vnd.microsoft.card.adaptive"
            or card.get("type") != "AdaptiveCard"
        ):
            return 400, {}, {"error": {"code": "InvalidRequestContent", "message": "Adaptive Cards only"}}
        if not isinstance(card.get("body"), list) or not card.get("version"):
            return 400, {}, {"error": {"code": "InvalidRequestContent", "message": "card body/version"}}
        return 202, {}, ""
