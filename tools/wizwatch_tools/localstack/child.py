"""``python -m wizwatch_tools.localstack.child``: one handler invocation in a fresh process.

Reads a JSON request on stdin (function spec, event, ``crash_at``); the environment is the
function's own (set by the parent). Prints the result as one line starting with the marker.
``crash_at="before:pkg.module.func"`` / ``"after:..."`` wraps that function so the process dies
with ``os._exit(137)`` just before / after it runs: no ``finally``, no flush, like a real crash.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from wizwatch_tools.localstack.cfn_functions import FunctionSpec
from wizwatch_tools.localstack.context import LambdaContext
from wizwatch_tools.localstack.invoke import (
    CRASH_EXIT_CODE,
    RESULT_MARKER,
    handler_of,
    load_handler_module,
    module_name,
)
from wizwatch_tools.localstack.recorder import Recorder, attribute_calls


def _resolve(dotted: str) -> tuple[Any, str, Any]:
    """(owner, attribute, value) for ``pkg.module.func`` or ``pkg.module.Class.method``."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:-1]:
            owner = getattr(owner, attr)
        return owner, parts[-1], getattr(owner, parts[-1])
    raise ValueError(f"crash_at: cannot import a module from {dotted!r}")


def install_crash(crash_at: str) -> Any:
    """Wrap the named function; returns the original so stale references can be swapped too."""
    when, _, dotted = crash_at.partition(":")
    if when not in ("before", "after") or not dotted:
        raise ValueError(f"crash_at must be 'before:pkg.module.func' or 'after:...', got {crash_at!r}")
    owner, attr, original = _resolve(dotted)
    raw = owner.__dict__.get(attr, original) if isinstance(owner, type) else original
    func = raw.__func__ if isinstance(raw, staticmethod | classmethod) else raw

    @functools.wraps(func)
    def crashing(*args: Any, **kwargs: Any) -> Any:
        if when == "before":
            os._exit(CRASH_EXIT_CODE)
        func(*args, **kwargs)
        os._exit(CRASH_EXIT_CODE)

    wrapped: Any = crashing
    if isinstance(raw, staticmethod):
        wrapped = staticmethod(crashing)
    elif isinstance(raw, classmethod):
        wrapped = classmethod(crashing)
    setattr(owner, attr, wrapped)
    return original, crashing


def _replace_references(original: Any, replacement: Any) -> None:
    """``from x import func`` made copies of the reference; point those at the wrapper too."""
    for module in list(sys.modules.values()):
        if module is None:
            continue
        for name, value in list(vars(module).items()):
            if value is original:
                setattr(module, name, replacement)


def main() -> int:
    request = json.loads(sys.stdin.read())
    spec = FunctionSpec(
        logical_id=request["logical_id"],
        name=request["name"],
        function_name=request["function_name"],
        code_dir=Path(request["code_dir"]),
        handler=request["handler"],
        timeout=0,
        memory=int(request["memory"]),
        environment={},
    )
    sys.path.insert(0, str(spec.code_dir))
    recorder = Recorder()
    out: dict[str, Any]
    try:
        with attribute_calls(recorder, spec.name):
            crash_at = request.get("crash_at") or ""
            # A layer function is wrapped before the handler module loads (so a call made at
            # import time crashes too); a function of the handler module itself, after.
            in_handler = crash_at.partition(":")[2].startswith(module_name(spec.name) + ".")
            crash = install_crash(crash_at) if crash_at and not in_handler else None
            module = load_handler_module(spec)
            if crash_at and in_handler:
                crash = install_crash(crash_at)
            if crash is not None:
                _replace_references(*crash)
            context = LambdaContext(spec.function_name, spec.memory, int(request["remaining_ms"]))
            result = handler_of(module, spec)(request["event"], context)
        out = {"result": result}
    except Exception as exc:
        out = {
            "error": {"type": type(exc).__name__, "message": str(exc), "traceback": traceback.format_exc()}
        }
    out["calls"] = [c.as_json() for c in recorder.calls.get(spec.name, [])]
    sys.stdout.flush()
    sys.stdout.write("\n" + RESULT_MARKER + json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
