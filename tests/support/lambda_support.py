"""Running a function's real ``functions/<name>/app.py`` handler in a test, as Lambda would."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"


def load_app(function: str) -> Any:
    """A fresh import of ``functions/<function>/app.py`` (its decorators and module code run)."""
    spec = importlib.util.spec_from_file_location(
        f"{function}_app_under_test", FUNCTIONS / function / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """The documented context attributes Powertools' ``inject_lambda_context`` reads."""

    memory_limit_in_mb = 512

    def __init__(self, function: str, request_id: str, remaining_ms: int = 60_000) -> None:
        self.function_name = f"wizwatch-{function}"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:wizwatch-{function}"
        self.aws_request_id = request_id
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms
