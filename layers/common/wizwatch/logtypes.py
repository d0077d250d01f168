"""The log types Wizwatch knows, and which of them are pulled from the API."""

from __future__ import annotations

AUDIT = "Wiz.Audit"
ISSUES = "Wiz.Issues"
VULNERABILITY_FINDING = "Wiz.VulnerabilityFinding"
ISSUES_WEBHOOK = "Wiz.IssuesWebhook"
DETECTIONS = "Wiz.Detections"
CLOUD_CONFIGURATION_FINDING = "Wiz.CloudConfigurationFinding"

#: Pulled by the poller, in this order.
API_LOG_TYPES: tuple[str, ...] = (AUDIT, ISSUES, VULNERABILITY_FINDING, CLOUD_CONFIGURATION_FINDING)
#: Pushed by Wiz (webhooks); parsed and detected, never polled.
PUSH_LOG_TYPES: tuple[str, ...] = (ISSUES_WEBHOOK, DETECTIONS)
ALL_LOG_TYPES: tuple[str, ...] = API_LOG_TYPES + PUSH_LOG_TYPES
