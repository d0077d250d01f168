"""Handler invocation: environment, context, warm/cold starts, recording, subprocess crashes."""

from __future__ import annotations

import json
import os
import time

import pytest

from wizwatch_tools.localstack import CrashPointNotReached, CrashResult, HandlerError, LocalStack


def test_invoke_gives_template_environment_and_lambda_context(tiny_stack: LocalStack) -> None:
    before = dict(os.environ)
    result = tiny_stack.invoke("echo", {"x": 1}, remaining_ms=5000)
    assert result["greeting"] == "hello from us-east-1"
    assert result["endpoint"] == tiny_stack.endpoint
    assert result["function_name"] == "tiny-EchoFunction"
    assert result["memory"] == 256
    assert 0 < result["remaining"] <= 5000
    assert result["event"] == {"x": 1}
    assert dict(os.environ) == before  # the function's environment did not leak


def test_default_time_budget_is_the_template_timeout(tiny_stack: LocalStack) -> None:
    # Bracketed by the time the invocation itself took, so a loaded machine cannot fail it.
    started = time.monotonic()
    remaining = tiny_stack.invoke("echo", {})["remaining"]
    elapsed_ms = (time.monotonic() - started) * 1000
    assert 7000 - elapsed_ms - 1 <= remaining <= 7000  # the template's Timeout: 7


def test_env_is_template_environment_plus_endpoint_and_credentials(tiny_stack: LocalStack) -> None:
    env = tiny_stack.env("echo")
    assert env["GREETING"] == "hello from us-east-1"
    assert env["WORK_QUEUE_URL"].endswith("/tiny-WorkQueue")
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Wizwatch"  # from Globals
    assert env["AWS_ENDPOINT_URL"] == tiny_stack.endpoint
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    # The role's temporary credentials, as Lambda hands them to the function (never the admin's).
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]
    assert env["AWS_ACCESS_KEY_ID"] != tiny_stack.env("worker")["AWS_ACCESS_KEY_ID"]


def test_warm_invocations_reuse_the_module_until_the_environment_changes(tiny_stack: LocalStack) -> None:
    first = tiny_stack.invoke("echo", {})
    second = tiny_stack.invoke("echo", {})
    assert (first["invocations"], second["invocations"]) == (1, 2)
    assert first["request_id"] != second["request_id"]
    changed = tiny_stack.invoke("echo", {}, env_overrides={"GREETING": "other"})
    assert changed["greeting"] == "other"
    assert changed["invocations"] == 1  # cold start: the module ran again


def test_handler_exception_propagates_in_process(tiny_stack: LocalStack) -> None:
    with pytest.raises(RuntimeError, match="asked to fail"):
        tiny_stack.invoke("echo", {"raise": True})


def test_recorder_captures_aws_calls_and_emf_per_function(tiny_stack: LocalStack) -> None:
    tiny_stack.invoke("echo", {})
    assert ("sqs", "GetQueueAttributes") in tiny_stack.recorder.operations("echo")
    assert tiny_stack.recorder.operations("worker") == set()
    names = tiny_stack.recorder.metric_names("echo")
    assert ("Wizwatch", "EchoCount", ("LogType", "service")) in names
    # the stack's own clients are not attributed to any function
    tiny_stack.sqs.list_queues()
    assert all(op != ("sqs", "ListQueues") for op in tiny_stack.recorder.operations("echo"))


def test_fresh_process_is_a_cold_start_and_records_calls(tiny_stack: LocalStack) -> None:
    tiny_stack.invoke("echo", {})
    result = tiny_stack.invoke("echo", {"y": 2}, fresh_process=True)
    assert result["pid"] != os.getpid()
    assert result["invocations"] == 1
    assert result["greeting"] == "hello from us-east-1"
    assert result["event"] == {"y": 2}
    calls = [c for c in tiny_stack.recorder.calls["echo"] if c.operation == "GetQueueAttributes"]
    assert len(calls) == 2
    assert len(tiny_stack.recorder.metrics["echo"]) == 2


def test_fresh_process_handler_error_is_raised_with_its_type(tiny_stack: LocalStack) -> None:
    with pytest.raises(HandlerError) as info:
        tiny_stack.invoke("echo", {"raise": True}, fresh_process=True)
    assert info.value.error_type == "RuntimeError"
    assert "asked to fail" in info.value.message


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_at_kills_the_process_at_that_function(tiny_stack: LocalStack, when: str) -> None:
    result = tiny_stack.invoke(
        "echo", {"call_marker": True}, fresh_process=True, crash_at=f"{when}:wizwatch_fn_echo.marker"
    )
    assert isinstance(result, CrashResult)
    assert result.exit_code == 137
    assert not any(json.dumps("EchoCount") in line for line in tiny_stack.recorder.output["echo"])


def test_crash_point_never_reached_is_an_error(tiny_stack: LocalStack) -> None:
    with pytest.raises(CrashPointNotReached):
        tiny_stack.invoke("echo", {}, fresh_process=True, crash_at="before:wizwatch_fn_echo.marker")


def test_crash_at_requires_a_fresh_process(tiny_stack: LocalStack) -> None:
    with pytest.raises(ValueError, match="fresh_process"):
        tiny_stack.invoke("echo", {}, crash_at="before:wizwatch_fn_echo.marker")


def test_crash_at_a_layer_function(tiny_stack: LocalStack) -> None:
    result = tiny_stack.invoke("echo", {}, fresh_process=True, crash_at="after:wizwatch.aws.client")
    assert isinstance(result, CrashResult)
