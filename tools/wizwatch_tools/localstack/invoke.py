"""Running a handler the way Lambda would: its own environment, a context, cold and warm starts.

In-process invocations load ``functions/<fn>/app.py`` by file path under a distinct module name
(``wizwatch_fn_<fn>``) and swap ``os.environ`` for the duration (the environment is process-wide,
so invocations run one at a time). The first invocation of a function in a stack, or one with a
different environment, is a cold start: the module is executed afresh and cached boto3 clients
and ``functools`` caches of the ``wizwatch`` package are dropped. ``fresh_process=True`` runs the
handler in a new Python process (``python -m wizwatch_tools.localstack.child``), where
``crash_at`` can kill it mid-flight like a real crash.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from wizwatch_tools.localstack.cfn_functions import FunctionSpec
from wizwatch_tools.localstack.context import LambdaContext
from wizwatch_tools.localstack.recorder import AwsCall, Recorder, attribute_calls, capture_stdout

RESULT_MARKER = "@@WIZWATCH-RESULT@@ "
CRASH_EXIT_CODE = 137
#: Variables a function's environment owns: removed from the inherited environment first.
_OWNED_PREFIXES = ("AWS_", "WIZ_", "POWERTOOLS_", "LAMBDA_", "_HANDLER", "_X_AMZN")


class HandlerError(Exception):
    """A handler run in a fresh process raised; carries the original type, message and traceback."""

    def __init__(self, error_type: str, message: str, traceback: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.traceback = traceback


class CrashPointNotReached(Exception):
    """``crash_at`` named a function the handler never called: the test's premise is wrong."""


@dataclass(frozen=True)
class CrashResult:
    """A fresh-process invocation that died: killed at ``crash_at``, or at the function timeout."""

    exit_code: int | None
    where: str
    stdout: str
    stderr: str


def runtime_env(spec: FunctionSpec, env: Mapping[str, str]) -> dict[str, str]:
    """``env`` plus what the Lambda runtime itself sets for the function."""
    out = dict(env)
    out.setdefault("AWS_LAMBDA_FUNCTION_NAME", spec.function_name)
    out.setdefault("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", str(spec.memory))
    out.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
    out.setdefault("AWS_LAMBDA_LOG_GROUP_NAME", f"/aws/lambda/{spec.function_name}")
    out.setdefault("LAMBDA_TASK_ROOT", str(spec.code_dir))
    out.setdefault("_HANDLER", spec.handler)
    # No X-Ray daemon here; Powertools' Tracer would otherwise try to send segments.
    out.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    return out


def _owned(key: str, function_keys: set[str]) -> bool:
    return key.startswith(_OWNED_PREFIXES) or key in function_keys


@contextlib.contextmanager
def swapped_environ(env: Mapping[str, str], function_keys: set[str]) -> Iterator[None]:
    """``os.environ`` = inherited (minus anything a function owns) + ``env``; restored after."""
    saved = dict(os.environ)
    try:
        for key in [k for k in os.environ if _owned(k, function_keys)]:
            del os.environ[key]
        os.environ.update(env)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def on_sys_path(path: Path) -> Iterator[None]:
    """The function's code directory first on ``sys.path``, as Lambda's task root is."""
    entry = str(path)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(entry)


def module_name(fn: str) -> str:
    return f"wizwatch_fn_{fn}"


def load_handler_module(spec: FunctionSpec) -> ModuleType:
    """Execute the handler's file afresh under ``wizwatch_fn_<fn>``."""
    file_name, _, _ = spec.handler.rpartition(".")
    path = spec.code_dir / (file_name.replace(".", "/") + ".py")
    if not path.is_file():
        raise FileNotFoundError(
            f"{spec.logical_id}: handler file {path} does not exist (Handler: {spec.handler})"
        )
    name = module_name(spec.name)
    mod_spec = importlib.util.spec_from_file_location(name, path)
    assert mod_spec is not None and mod_spec.loader is not None
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[name] = module
    try:
        mod_spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def forget_warm_state() -> None:
    """What a new container would not have: cached boto3 clients and wizwatch's memoised values."""
    for name, module in list(sys.modules.items()):
        if not (name == "wizwatch" or name.startswith("wizwatch.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and hasattr(value, "cache_info"):
                value.cache_clear()


def handler_of(module: ModuleType, spec: FunctionSpec) -> Any:
    attr = spec.handler.rpartition(".")[2]
    handler = getattr(module, attr, None)
    if not callable(handler):
        raise AttributeError(f"{spec.logical_id}: {module.__file__} has no callable {attr!r}")
    return handler


def _fresh_event(event: Any) -> Any:
    """What Lambda hands over is always freshly decoded JSON (never the caller's object)."""
    return json.loads(json.dumps(event))


class InProcessRunner:
    """Warm containers for the functions of one stack, run inside this process."""

    def __init__(self, recorder: Recorder, function_keys: set[str], *, echo: bool = True) -> None:
        self.recorder = recorder
        self.function_keys = function_keys
        self.echo = echo
        self._warm: dict[str, tuple[ModuleType, dict[str, str]]] = {}

    def invoke(self, spec: FunctionSpec, env: Mapping[str, str], event: Any, remaining_ms: int) -> Any:
        env = runtime_env(spec, env)
        with (
            swapped_environ(env, self.function_keys),
            on_sys_path(spec.code_dir),
            attribute_calls(self.recorder, spec.name),
            capture_stdout(self.recorder, spec.name, echo=self.echo),
        ):
            warm = self._warm.get(spec.name)
            if warm is None or warm[1] != env:
                forget_warm_state()
                self._warm.pop(spec.name, None)
                module = load_handler_module(spec)
                self._warm[spec.name] = (module, dict(env))
            module = self._warm[spec.name][0]
            context = LambdaContext(spec.function_name, spec.memory, remaining_ms)
            return handler_of(module, spec)(_fresh_event(event), context)


def run_in_subprocess(
    spec: FunctionSpec,
    env: Mapping[str, str],
    event: Any,
    remaining_ms: int,
    recorder: Recorder,
    function_keys: set[str],
    crash_at: str | None = None,
) -> Any:
    """Cold start in a new process; returns the result, a CrashResult, or raises HandlerError."""
    child_env = {k: v for k, v in os.environ.items() if not _owned(k, function_keys)}
    child_env.update(runtime_env(spec, env))
    payload = {
        "logical_id": spec.logical_id,
        "name": spec.name,
        "function_name": spec.function_name,
        "code_dir": str(spec.code_dir),
        "handler": spec.handler,
        "memory": spec.memory,
        "remaining_ms": remaining_ms,
        "event": event,
        "crash_at": crash_at,
    }
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "wizwatch_tools.localstack.child"],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            env=child_env,
            cwd=str(spec.code_dir),
            timeout=remaining_ms / 1000.0 + 5.0,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode() if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        recorder.add_output(spec.name, out)
        recorder.end_output(spec.name)
        return CrashResult(exit_code=None, where="timeout", stdout=out, stderr=err)
    result: dict[str, Any] | None = None
    lines = []
    for line in proc.stdout.splitlines(keepends=True):
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER) :])
        else:
            lines.append(line)
    recorder.add_output(spec.name, "".join(lines))
    recorder.end_output(spec.name)
    if result is None:
        if proc.returncode == CRASH_EXIT_CODE and crash_at:
            return CrashResult(proc.returncode, crash_at, proc.stdout, proc.stderr)
        raise HandlerError(
            "ProcessDied", f"{spec.name} exited with {proc.returncode} and no result", proc.stderr
        )
    for call in result.get("calls", []):
        recorder.add_call(spec.name, AwsCall.from_json(call))
    if "error" in result:
        err = result["error"]
        raise HandlerError(err["type"], err["message"], err["traceback"])
    if crash_at:
        raise CrashPointNotReached(f"{spec.name} never called {crash_at.partition(':')[2]}")
    return result["result"]
