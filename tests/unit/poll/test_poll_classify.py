"""Every way Wiz can answer maps to one typed outcome (HTTP statuses and 200 + errors[])."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wizwatch.errors import (
    CursorInvalidError,
    WizApiError,
    WizAuthenticationError,
    WizAuthorizationError,
    WizBadRequestError,
    WizRetryableError,
)
from wizwatch.poll.client import classify

SAMPLES = Path(__file__).resolve().parents[4] / "shared" / "samples" / "wiz" / "graphql_envelopes"


def env(code: str, message: str = "m") -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}], "data": None}


OK = {"data": {"auditLogEntries": {"nodes": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}


@pytest.mark.parametrize(
    ("status", "headers", "payload", "expected"),
    [
        (200, {}, OK, None),
        (429, {"Retry-After": "2"}, env("RATE_LIMIT_EXCEEDED"), WizRetryableError),
        (429, {}, None, WizRetryableError),
        (200, {}, env("RATE_LIMIT_EXCEEDED"), WizRetryableError),
        (500, {}, env("INTERNAL"), WizRetryableError),
        (200, {}, env("INTERNAL"), WizRetryableError),
        (502, {}, None, WizRetryableError),
        (503, {}, b"<html>", WizRetryableError),
        (504, {}, None, WizRetryableError),
        (401, {}, env("UNAUTHENTICATED"), WizAuthenticationError),
        (200, {}, env("UNAUTHENTICATED"), WizAuthenticationError),
        (403, {}, env("UNAUTHORIZED"), WizAuthorizationError),
        (200, {}, env("UNAUTHORIZED"), WizAuthorizationError),
        (403, {}, env("FORBIDDEN_IP"), WizAuthorizationError),
        (400, {}, env("BAD_USER_INPUT", "'first' must be less than or equal to 500"), WizBadRequestError),
        (200, {}, env("BAD_USER_INPUT", "Invalid or expired cursor"), CursorInvalidError),
        (400, {}, env("BAD_USER_INPUT", "cursor is not valid"), CursorInvalidError),
        (200, {}, env("SOMETHING_NEW"), WizApiError),
        (200, {}, {"data": None}, WizRetryableError),
        (200, {}, None, WizRetryableError),
    ],
)
def test_classify(status: int, headers: dict[str, str], payload: Any, expected: type | None) -> None:
    got = classify(status, headers, payload)
    if expected is None:
        assert got is None
    else:
        assert type(got) is expected, got


def test_retry_after_is_carried() -> None:
    err = classify(429, {"Retry-After": "7"}, None)
    assert isinstance(err, WizRetryableError) and err.retry_after == 7.0


def test_documented_envelopes_from_samples() -> None:
    doc = json.loads((SAMPLES / "INFERRED_error_envelope.json").read_text())
    kinds = {}
    for example in doc["examples"]:
        code = example["errors"][0]["extensions"]["code"]
        status = example["errors"][0]["extensions"]["http"]["status"]
        kinds[code] = type(classify(status, {}, example))
        assert type(classify(200, {}, example)) is kinds[code]  # same meaning on HTTP 200
    assert kinds == {
        "UNAUTHENTICATED": WizAuthenticationError,
        "UNAUTHORIZED": WizAuthorizationError,
        "RATE_LIMIT_EXCEEDED": WizRetryableError,
        "BAD_USER_INPUT": WizBadRequestError,
        "INTERNAL": WizRetryableError,
    }
