"""Notifier Lambda: alert-queue messages -> SNS (JSON default, e-mail text, filter attributes).

Thin on purpose: everything lives in ``wizwatch.notify`` (the layer). Env: ALERT_TOPIC_ARN.
"""

from __future__ import annotations

import os
from typing import Any

from wizwatch.config import load
from wizwatch.logs import logger
from wizwatch.notify.handler import NotifierConfig, handle

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    load(NotifierConfig)  # a misconfiguration fails the cold start, naming what to fix


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context)
