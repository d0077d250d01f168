"""Logs at DEBUG (Lambda's ApplicationLogLevel=DEBUG and LOG_LEVEL=DEBUG) never carry the secret."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lambda_support import LambdaContext, load_app
from poll_fakewiz import FakeWiz
from poll_unit_support import invoke

from wizwatch import logs

SECRET_VALUE = "s3cret-value"  # what the unit tests' Secrets Manager secret holds


@pytest.fixture
def debug_everywhere(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """What Lambda does for ApplicationLogLevel=DEBUG: the root logger at DEBUG, plus LOG_LEVEL."""
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "poller")
    caplog.set_level(logging.DEBUG)
    for name in logs.QUIET_LIBRARIES:  # as a fresh container (or another library) may leave them
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)


def run_poller(wiz: FakeWiz) -> dict[str, Any]:
    invoke(wiz, {"log_type": "Wiz.Issues"}, cold=True)  # mounts FakeWiz on a fresh container
    result: dict[str, Any] = load_app("poller").handler(
        {"log_type": "Wiz.Issues"}, LambdaContext("poller", "req-unit")
    )
    return result


def test_debug_logs_never_carry_the_client_secret(
    wiz: FakeWiz, debug_everywhere: None, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    wiz.add("issues", datetime.now(UTC) - timedelta(minutes=5), status="OPEN")
    assert run_poller(wiz)["ok"]
    out = capsys.readouterr().out
    assert SECRET_VALUE not in caplog.text and SECRET_VALUE not in out
    assert "tok-" not in caplog.text and "tok-" not in out  # nor the bearer token
    sdk = [r for r in caplog.records if r.name.split(".")[0] in logs.QUIET_LIBRARIES]
    assert all(r.levelno >= logging.WARNING for r in sdk), {r.name for r in sdk}
    # LOG_LEVEL=DEBUG is honoured for our own lines, as JSON with the service and request id.
    lines = [json.loads(line) for line in out.splitlines() if line.startswith('{"level"')]
    assert any(line["level"] == "DEBUG" for line in lines)
    assert all(line["service"] == "poller" for line in lines)
    assert any(line.get("function_request_id") == "req-unit" for line in lines)


def test_without_the_pinned_levels_botocore_would_log_the_secret(
    wiz: FakeWiz, debug_everywhere: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The hazard the pinning removes, shown on the same run: proves the test above can fail.
    monkeypatch.setattr(logs, "quiet_libraries", lambda: None)
    run_poller(wiz)
    assert SECRET_VALUE in caplog.text
    assert any(r.name.startswith("botocore") and r.levelno == logging.DEBUG for r in caplog.records)


def test_log_level_warning_silences_info(
    wiz: FakeWiz, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    run_poller(wiz)
    out = capsys.readouterr().out
    assert '"poll finished"' not in out and '"level":"INFO"' not in out
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    run_poller(wiz)
    assert '"poll finished"' in capsys.readouterr().out
