"""Detector Lambda: S3 object-created notifications (direct or via SQS) -> alerts on the queue.

Thin on purpose: everything lives in ``wizwatch.alerts`` (the layer). Env: DEDUP_TABLE,
ALERT_QUEUE_URL, RAW_BUCKET, RULES_DIR (default: ``rules/`` beside this file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from wizwatch.alerts.handler import detector_from_env, handle
from wizwatch.logs import logger

RULES_DIR = Path(__file__).resolve().parent / "rules"

if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    detector_from_env(RULES_DIR)  # a misconfiguration fails the cold start, naming what to fix


@logger.inject_lambda_context(log_event=False)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event, context, default_rules_dir=RULES_DIR)
