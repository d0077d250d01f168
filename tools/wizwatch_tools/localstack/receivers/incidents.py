"""PagerDuty's Events API v2, Jira Cloud's issue search/create, and a generic webhook.

PagerDuty (developer docs, events-API-v2 Overview and "Send an Alert Event"): 202 ``{"status":
"success", "message": "Event processed", "dedup_key"}``; 400 ``{"status": "invalid event",
"errors": [...]}`` for a bad routing key, action, severity, missing summary/source or a summary
over 1024 / dedup_key over 255 characters; bodies over 512 KB refused. Triggers with the
``dedup_key`` of an open incident join it (``incidents`` counts them per key).

Jira (REST API v3): basic auth (e-mail + API token) else 401; ``POST /rest/api/3/search/jql``
answers ``{"issues": [...]}`` for ``project = "K" AND labels = "L"``; ``POST /rest/api/3/issue``
checks project, issue type, summary (1-255 characters, one line), ADF description (no empty text
node), labels (no spaces) and answers 201 ``{"id", "key", "self"}``.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from wizwatch_tools.localstack.receivers.server import Answer, Request, Service

PD_SEVERITIES = {"critical", "error", "warning", "info"}


class PagerDutyReceiver(Service):
    name = "pagerduty"
    prefix = "/pagerduty/v2/enqueue"
    MAX_BYTES = 512 * 1024

    def __init__(self, routing_keys: set[str]) -> None:
        self.routing_keys = routing_keys
        self.incidents: dict[str, int] = {}

    def fault_body(self, status: int) -> Any:
        if status == 429:
            return {
                "status": "throttle event",
                "message": "Requests for this service are arriving too quickly.",
            }
        return {"status": "error", "message": "Internal server error"}

    def handle(self, request: Request) -> Answer:
        if len(request.body) > self.MAX_BYTES:
            return 413, {}, {"status": "invalid event", "message": "Request too large"}
        try:
            event = json.loads(request.body)
        except ValueError:
            return (
                400,
                {},
                {"status": "invalid event", "message": "Event object is invalid", "errors": ["JSON"]},
            )
        errors = []
        payload = event.get("payload") or {}
        if event.get("routing_key") not in self.routing_keys:
            errors.append("Invalid routing key")
        if event.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        if not payload.get("summary") or len(payload["summary"]) > 1024:
            errors.append("'payload.summary' is missing or longer than 1024")
        if not payload.get("source"):
            errors.append("'payload.source' is missing")
        if payload.get("severity") not in PD_SEVERITIES:
            errors.append("'payload.severity' is invalid")
        key = event.get("dedup_key")
        if key is not None and (not isinstance(key, str) or len(key) > 255):
            errors.append("'dedup_key' is longer than 255")
        if errors:
            return (
                400,
                {},
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            )
        self.incidents[key] = self.incidents.get(key, 0) + 1
        return 202, {}, {"status": "success", "message": "Event processed", "dedup_key": key}


_JQL = re.compile(r'^project = "(?P<project>[A-Z0-9_]+)" AND labels = "(?P<label>[^"]+)"$')


def _adf_ok(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return False
    if node["type"] == "text" and not node.get("text"):
        return False
    return all(_adf_ok(c) for c in node.get("content") or [])


class JiraReceiver(Service):
    name = "jira"
    prefix = "/jira/rest/api/3/"

    def __init__(
        self, users: dict[str, str], projects: set[str], issue_types: set[str] | None = None
    ) -> None:
        self.users = users  # e-mail -> API token
        self.projects = projects
        self.issue_types = issue_types or {"Task", "Bug", "Incident"}
        self.issues: list[dict[str, Any]] = []

    def _authorised(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Basic "):
            return False
        email, _, token = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
        return self.users.get(email) == token

    def handle(self, request: Request) -> Answer:
        if not self._authorised(request):
            return 401, {}, {"errorMessages": ["You are not authenticated."]}
        doc = json.loads(request.body or b"{}")
        if request.path.endswith("/search/jql"):
            m = _JQL.match(doc.get("jql", ""))
            if not m:
                return 400, {}, {"errorMessages": ["JQL not understood by the local receiver"]}
            hits = [
                i for i in self.issues if i["project"] == m["project"] and m["label"] in i["fields"]["labels"]
            ]
            return (
                200,
                {},
                {"issues": [{"id": i["id"], "key": i["key"]} for i in hits[: doc.get("maxResults", 50)]]},
            )
        if request.path.endswith("/issue"):
            return self._create(doc.get("fields") or {})
        return 404, {}, {"errorMessages": ["no such resource"]}

    def _create(self, fields: dict[str, Any]) -> Answer:
        errors: dict[str, str] = {}
        project = (fields.get("project") or {}).get("key")
        if project not in self.projects:
            errors["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            errors["issuetype"] = "valid issue type is required"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary or len(summary) > 255 or "\n" in summary:
            errors["summary"] = "Summary must be less than 255 characters, one line"
        if "description" in fields and not _adf_ok(fields["description"]):
            errors["description"] = "Operation value must be an Atlassian Document"
        if any(not isinstance(x, str) or " " in x for x in fields.get("labels") or []):
            errors["labels"] = "Labels cannot contain spaces"
        if errors:
            return 400, {}, {"errorMessages": [], "errors": errors}
        n = len(self.issues) + 1
        issue = {"id": str(10000 + n), "key": f"{project}-{n}", "project": project, "fields": fields}
        self.issues.append(issue)
        return 201, {}, {"id": issue["id"], "key": issue["key"], "self": f"/rest/api/3/issue/{issue['id']}"}


class WebhookReceiver(Service):
    """Takes any JSON; with ``token`` set, only requests bearing ``Authorization: Bearer <token>``."""

    name = "webhook"
    prefix = "/webhook/"

    def __init__(self, token: str | None = None) -> None:
        self.token = token

    def handle(self, request: Request) -> Answer:
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"error": "unauthorized"}
        try:
            json.loads(request.body)
        except ValueError:
            return 400, {}, {"error": "not JSON"}
        return 200, {}, {"ok": True}
