"""The detector logs through Powertools (JSON, LOG_LEVEL) and names every failed message once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from detector_fixtures import (  # noqa: F401  (env_fixture, now_fixture: pytest fixtures)
    Env,
    audit,
    env_fixture,
    key_for,
    now_fixture,
    s3_event,
    sqs_event,
)
from lambda_support import LambdaContext, load_app

from wizwatch.alerts import handler as detector_handler


def log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"level"')]


@pytest.fixture(autouse=True)
def _detector_env(monkeypatch: pytest.MonkeyPatch) -> None:
    detector_handler._build.cache_clear()
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "detector")


def test_each_failed_message_is_logged_once_with_key_page_and_reason(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    good = env.put(key_for(1), [audit("a1")])
    missing = key_for(3)  # notified, but not in the bucket (deleted, or a wrong bucket)
    event = sqs_event(s3_event(good), s3_event(missing), "not json")
    result = load_app("detector").handler(event, LambdaContext("detector", "req-detector"))
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["m1", "m2"]
    lines = log_lines(capsys.readouterr().out)
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert len(errors) == 2, errors  # once each: the batch processor adds nothing of its own
    by_message = {line["message_id"]: line for line in errors}
    obj = by_message["m1"]
    assert obj["key"] == missing and obj["page"] == 3 and "NoSuchKey" in obj["reason"]
    assert "exception" in obj  # the traceback rides in the same JSON line
    bad = by_message["m2"]
    assert "not JSON" in bad["reason"] and "key" not in bad
    assert all(line["service"] == "detector" for line in lines)
    assert all(line["function_request_id"] == "req-detector" for line in lines)


def test_log_level_is_honoured(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A page with an unreadable body is quarantined with a WARNING/ERROR line; at LOG_LEVEL=CRITICAL
    # the detector prints no log line at all (metrics still go out).
    key = env.put(key_for(2), body=b"\x1f\x8bnot really gzip")
    monkeypatch.setenv("LOG_LEVEL", "CRITICAL")
    load_app("detector").handler(sqs_event(s3_event(key)), LambdaContext("detector", "req-detector"))
    assert log_lines(capsys.readouterr().out) == []
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    load_app("detector").handler(sqs_event(s3_event(key)), LambdaContext("detector", "req-detector"))
    assert any("quarantined" in line["message"] for line in log_lines(capsys.readouterr().out))
