"""Jira Cloud: one issue per alert, found again by an alert-id label instead of created twice.

Contract (Jira Cloud platform REST API v3): ``POST /rest/api/3/issue`` with ``fields.project.key``,
``fields.issuetype.name``, ``fields.summary`` (at most 255 characters), ``fields.description``
in Atlassian Document Format (text nodes must not be empty) and ``fields.labels`` (no spaces)
answers 201 ``{"id", "key", "self"}``. Before creating, ``POST /rest/api/3/search/jql`` (the
enhanced search that replaced ``/rest/api/3/search`` in 2025) looks for the label
``wizwatch-<alert_id>``: a notifier that died after Jira created the issue but before the
ledger recorded it finds that issue instead of filing a second one. (Enhanced search is
eventually consistent; the ledger, not the search, is what stops an immediate duplicate.)
Authentication is basic with an Atlassian account e-mail and API token.

Secret entry: ``{"email": "secops-bot@example.com", "api_token": "..."}``. Settings: ``url``
(``https://<site>.atlassian.net``), ``project`` (key), ``issue_type`` (default ``Task``),
``labels`` (added to every issue), ``priorities`` (severity -> Jira priority name; only if the
priority field is on the project's create screen).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from wizwatch.alerts.routing import DestinationSpec
from wizwatch.notify import render as r
from wizwatch.notify.base import Destination, Receipt

SUMMARY_MAX = 255
#: Jira's limit on a text field is 32,767 characters; the ADF JSON is kept under it.
DESCRIPTION_MAX = 30_000
PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,49}$")


def label_for(alert_id: str) -> str:
    return f"wizwatch-{alert_id}"


def _text(text: str, link: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    if link:
        node["marks"] = [{"type": "link", "attrs": {"href": link}}]
    return node


def _para(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": [n for n in nodes if n.get("text")]}


def _heading(text: str) -> dict[str, Any]:
    return {"type": "heading", "attrs": {"level": 3}, "content": [_text(text)]}


class Jira(Destination):
    type_name = "jira"
    credential_fields = ("email", "api_token")
    default_hosts = ("*.atlassian.net",)
    max_bytes = 64 * 1024
    settings_types = {"url": str, "project": str, "issue_type": str, "labels": list, "priorities": dict}

    @classmethod
    def check_settings(cls, spec: DestinationSpec) -> list[str]:
        problems = super().check_settings(spec)
        if not PROJECT_KEY.match(str(spec.settings.get("project", ""))):
            problems.append(f"destinations.{spec.name}.project: a Jira project key such as SEC is required")
        if not str(spec.settings.get("url", "")).startswith(("https://", "http://")):
            problems.append(f"destinations.{spec.name}.url: the site URL, e.g. https://acme.atlassian.net")
        labels = spec.settings.get("labels", [])
        if not isinstance(labels, list) or any(not isinstance(x, str) or " " in x for x in labels):
            problems.append(f"destinations.{spec.name}.labels: Jira labels are strings without spaces")
        return problems

    def _description(self, alert: dict[str, Any]) -> dict[str, Any]:
        content: list[dict[str, Any]] = [_para(_text(r.clip(alert.get("description"), 4000)))]
        content.append(
            {
                "type": "bulletList",
                "content": [
                    {"type": "listItem", "content": [_para(_text(f"{k}: "), _text(v or "-"))]}
                    for k, v in r.facts(alert)
                ],
            }
        )
        context = alert.get("alert_context") or {}
        if context:
            content += [
                _heading("Context"),
                {
                    "type": "codeBlock",
                    "attrs": {"language": "json"},
                    "content": [_text(json.dumps(context, indent=2, default=str, ensure_ascii=False)[:8000])],
                },
            ]
        if alert.get("runbook"):
            content += [_heading("Runbook"), _para(_text(r.clip(alert["runbook"], 4000)))]
        link = r.matches_link(alert, self.env.region)
        links = [_text("Matched events", link)] if link else []
        if r.is_web_url(alert.get("reference")):
            links += [_text(" · "), _text("Reference", str(alert["reference"]))]
        if links:
            content.append(_para(*links))
        return {"type": "doc", "version": 1, "content": [c for c in content if c.get("content")]}

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        severity = str(alert.get("severity", "INFO"))
        labels = ["wizwatch", label_for(str(alert["alert_id"])), f"severity-{severity.lower()}"]
        labels += [str(x) for x in self.setting("labels", []) if str(x) not in labels]
        fields: dict[str, Any] = {
            "project": {"key": self.setting("project")},
            "issuetype": {"name": self.setting("issue_type", "Task")},
            "summary": r.clip(
                f"[{severity}] {alert.get('title') or alert.get('rule_id')}".replace("\n", " "), SUMMARY_MAX
            ),
            "description": self._description(alert),
            "labels": labels,
        }
        priority = (self.setting("priorities") or {}).get(severity)
        if priority:
            fields["priority"] = {"name": str(priority)}
        return {"fields": fields}

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        creds = self.credentials()
        token = base64.b64encode(f"{creds['email']}:{creds['api_token']}".encode()).decode()
        headers = {"Authorization": f"Basic {token}", "Accept": "application/json"}
        site = str(self.setting("url")).rstrip("/")
        jql = f'project = "{self.setting("project")}" AND labels = "{label_for(str(alert["alert_id"]))}"'
        query = json.dumps({"jql": jql, "maxResults": 1, "fields": ["summary"]}).encode()
        found = self.post(f"{site}/rest/api/3/search/jql", query, timeout, headers).json()
        issues = found.get("issues") or [] if isinstance(found, dict) else []
        if issues:
            return Receipt(external_id=str(issues[0].get("key") or issues[0].get("id")))
        created = self.post(
            f"{site}/rest/api/3/issue", self.encode(self.payload(alert)), timeout, headers
        ).json()
        return Receipt(external_id=str(created.get("key") or created.get("id") or ""))
