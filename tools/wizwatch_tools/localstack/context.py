"""A Lambda-like context object with exactly the documented attributes."""

from __future__ import annotations

import time
import uuid

from wizwatch_tools.localstack.clients import ACCOUNT_ID, REGION


class LambdaContext:
    """What Lambda passes as ``context``: names, memory, request id and the time budget.

    ``get_remaining_time_in_millis()`` counts down in real time from ``remaining_ms`` (by
    default the function's configured timeout), as in Lambda.
    """

    def __init__(self, function_name: str, memory_limit_in_mb: int, remaining_ms: int) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + remaining_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
