"""Webhook Lambda (function URL, payload format 2.0): Wiz pushes issues and Defend detections.

Thin on purpose: everything lives in ``wizwatch.webhook`` (the layer). Env: WEBHOOK_AUTH_SECRET,
RAW_BUCKET. POST /issues -> Wiz.IssuesWebhook, POST /detections -> Wiz.Detections.
"""

from __future__ import annotations

import os
from typing import Any

from wizwatch.config import load
from wizwatch.logs import logger
from wizwatch.webhook.config import WebhookConfig
from wizwatch.webhook.handler import handle

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    load(WebhookConfig)  # a misconfiguration fails the cold start, naming what to fix


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
