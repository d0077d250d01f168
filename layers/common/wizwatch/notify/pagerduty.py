"""PagerDuty: a trigger event on the Events API v2, ``dedup_key`` = the alert id.

Contract (PagerDuty developer docs, events-API-v2 "Send an Alert Event" and "Overview"):
POST ``https://events.pagerduty.com/v2/enqueue`` with ``routing_key``, ``event_action:
"trigger"``, ``dedup_key`` (<= 255 characters) and ``payload.summary`` (<= 1024 characters),
``payload.source``, ``payload.severity`` (critical|error|warning|info), optional ``timestamp``,
``component``, ``group``, ``class``, ``custom_details``, ``links``. 202 accepted; 400 invalid
(not retried); 429 and 5xx retried "after some time"; payloads are limited to 512 KB. A trigger
with the ``dedup_key`` of an open alert joins it, so a re-sent alert never pages twice.

Secret entry: ``{"routing_key": "<32-character integration key>"}``. Settings: ``url`` (the EU
endpoint is ``https://events.eu.pagerduty.com/v2/enqueue``), ``source`` (default ``wizwatch``).
"""

from __future__ import annotations

from typing import Any

from wizwatch.notify import render as r
from wizwatch.notify.base import Destination, Receipt

ENDPOINT = "https://events.pagerduty.com/v2/enqueue"
#: Wizwatch severity -> PagerDuty severity (the mapping Panther's PagerDuty destination uses).
SEVERITY = {"CRITICAL": "critical", "HIGH": "error", "MEDIUM": "warning", "LOW": "info", "INFO": "info"}


class PagerDuty(Destination):
    type_name = "pagerduty"
    credential_fields = ("routing_key",)
    default_hosts = ("events.pagerduty.com", "events.eu.pagerduty.com")
    max_bytes = 512 * 1024
    settings_types = {"url": str, "source": str}

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        link = r.matches_link(alert, self.env.region)
        details: dict[str, Any] = {label: value for label, value in r.facts(alert)}
        details.update(
            {
                "description": alert.get("description") or "",
                "runbook": alert.get("runbook") or "",
                "reference": alert.get("reference") or "",
                "dedup_string": alert.get("dedup_string") or "",
                "alert_context": alert.get("alert_context") or {},
                "reports": alert.get("reports") or {},
                "tags": alert.get("tags") or [],
                "matched_events": (alert.get("source") or {}).get("matches_prefix", ""),
            }
        )
        links = [{"href": link, "text": "Matched events (S3)"}] if link else []
        if r.is_web_url(alert.get("reference")):
            links.append({"href": alert["reference"], "text": "Reference"})
        return {
            "routing_key": "",  # filled in by send(); render() never holds the secret
            "event_action": "trigger",
            "dedup_key": str(alert["alert_id"])[:255],
            "payload": {
                "summary": r.clip(alert.get("title") or alert.get("rule_id"), 1024),
                "source": r.clip(self.setting("source", "wizwatch"), 255),
                "severity": SEVERITY.get(str(alert.get("severity")), "info"),
                "timestamp": alert.get("created_at"),
                "component": r.clip(alert.get("rule_id"), 255),
                "group": r.log_type(alert),
                "class": alert.get("alert_type") or "RULE",
                "custom_details": details,
            },
            "client": "Wizwatch",
            **({"client_url": link} if link else {}),
            "links": links,
        }

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        payload = self.payload(alert)
        payload["routing_key"] = str(self.credentials()["routing_key"])
        self.post(str(self.setting("url", ENDPOINT)), self.encode(payload), timeout)
        return Receipt(external_id=payload["dedup_key"])
