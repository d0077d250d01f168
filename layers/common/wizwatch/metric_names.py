"""The CloudWatch metric names and dimensions the code emits (EMF, via Powertools).

template.yaml's alarms and dashboard must use exactly these; a test compares the template with
the metrics captured in the end-to-end runs. Namespace: ``Wizwatch``. Powertools adds a
``service`` dimension (poller | detector | notifier) to every metric.
"""

from __future__ import annotations

NAMESPACE = "Wizwatch"

# Dimension names
LOG_TYPE = "LogType"
SEVERITY = "Severity"
RULE_ID = "RuleId"
REASON = "Reason"

# Poller (dimensions: service, LogType)
RECORDS_ARCHIVED = "RecordsArchived"
PAGES_ARCHIVED = "PagesArchived"
API_REQUESTS = "ApiRequests"
API_THROTTLES = "ApiThrottles"
API_ERRORS = "ApiErrors"
TOKEN_FETCHES = "TokenFetches"  # dimensions: service only
POLL_HEARTBEAT = "PollHeartbeat"
INGESTION_LAG = "IngestionLagSeconds"
#: A full-posture snapshot was completed (LogType = "<LogType>/snapshot"; its IngestionLagSeconds
#: is the age of the newest complete snapshot).
SNAPSHOTS_COMPLETED = "SnapshotsCompleted"

# Detector (dimensions: service, LogType unless noted)
EVENTS_PROCESSED = "EventsProcessed"
RULE_MATCHES = "RuleMatches"
RULE_ERRORS = "RuleErrors"
RECORDS_QUARANTINED = "RecordsQuarantined"  # dimensions: service, LogType; and separately service only
ALERTS_QUEUED = "AlertsQueued"  # dimensions: service, Severity  (and separately service, RuleId)
RULES_FAILED_TO_LOAD = "RulesFailedToLoad"  # dimensions: service only; every invocation

# Notifier (dimensions: service)
ALERTS_PUBLISHED = "AlertsPublished"
PUBLISH_FAILURES = "PublishFailures"
DUPLICATES_DROPPED = "DuplicateAlertsDropped"  # a second copy of an alert already on SNS
# With destinations (wizwatch.notify): AlertsPublished counts alerts handed to their destinations
# (one delivery message each), PublishFailures alert messages that could not be routed or queued,
# DuplicateAlertsDropped second copies of an alert a destination already has.
DESTINATION = "Destination"
FAILURE_CLASS = "FailureClass"  # rejected | unavailable (wizwatch.errors.DeliveryError.failure_class)
ALERTS_DELIVERED = "AlertsDelivered"  # dimensions: service, Destination
#: Failed delivery attempts; dimensions: service, FailureClass (and separately service, Destination).
DELIVERY_FAILURES = "DeliveryFailures"

# Webhook (dimensions: service, LogType for accepted bodies; service, Reason for refusals)
WEBHOOK_BODIES_ACCEPTED = "WebhookBodiesAccepted"
WEBHOOK_REQUESTS_REFUSED = "WebhookRequestsRefused"  # Reason: auth|too_large|not_json|not_found|method
WEBHOOK_ERRORS = "WebhookErrors"  # Reason: secret|archive (answered 5xx, Wiz retries)
