"""The log types Wizwatch knows, and which of them are pulled from the API."""

from __future__ import annotations

AUDIT = "Wiz.Audit"
ISSUES = "Wiz.Issues"
VULNERABILITY_FINDING = "Wiz.VulnerabilityFinding"
ISSUES_WEBHOOK = "Wiz.IssuesWebhook"
DETECTIONS = "Wiz.Detections"
CLOUD_CONFIGURATION_FINDING = "Wiz.CloudConfigurationFinding"

#: Pulled by the poller, in this order.
API_LOG_TYPES: tuple[str, ...] = (
    AUDIT,
    ISSUES,
    VULNERABILITY_FINDING,
    CLOUD_CONFIGURATION_FINDING,
    DETECTIONS,
)
#: Polled when WIZ_LOG_TYPES names none: the contract's three API types. The template's
#: WizLogTypes parameter (what a deployment passes) adds Wiz.CloudConfigurationFinding by default;
#: Wiz.Detections needs a Wiz Defend licence and the read:detections scope, so it is opt-in
#: everywhere (a missing scope would alarm on every poll).
DEFAULT_POLLED_LOG_TYPES: tuple[str, ...] = (AUDIT, ISSUES, VULNERABILITY_FINDING)
#: Pushed by Wiz (webhooks). Wiz.Detections is both pushed and polled: one event shape.
PUSH_LOG_TYPES: tuple[str, ...] = (ISSUES_WEBHOOK, DETECTIONS)
ALL_LOG_TYPES: tuple[str, ...] = tuple(dict.fromkeys(API_LOG_TYPES + PUSH_LOG_TYPES))
#: URL path of the webhook endpoint -> the log type of what Wiz posts there.
WEBHOOK_PATHS: dict[str, str] = {"/issues": ISSUES_WEBHOOK, "/detections": DETECTIONS}
