"""Notifier Lambda: alerts -> one delivery per destination -> SNS, Slack, Teams, PagerDuty, Jira...

Thin on purpose: everything lives in ``wizwatch.notify`` (the layer). Env: ALERT_TOPIC_ARN,
DESTINATIONS_FILE, DESTINATIONS_SECRET, DELIVERY_QUEUE_URL, DEDUP_TABLE, RAW_BUCKET.
"""

from __future__ import annotations

import os
from typing import Any

from wizwatch.logs import logger
from wizwatch.notify.handler import handle, notifier_from_env

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    notifier_from_env()  # a misconfiguration (or a bad destinations document) fails the cold start


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
