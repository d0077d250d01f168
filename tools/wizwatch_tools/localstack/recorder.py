"""What each function did while it ran: its AWS calls, its EMF metric blobs and its stdout.

The IAM conformance test compares the recorded calls with the grants in template.yaml; the
metrics conformance test compares the EMF blobs with the alarms and the dashboard. Calls are
caught by wrapping botocore's ``BaseClient._make_api_call`` once per process (every client,
whichever session made it, goes through it) and are attributed to the function whose
invocation is running (invocations run one at a time, so this holds for a handler's own threads).
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.client import BaseClient

#: API parameters that decide which IAM actions and resources AWS checks for a call (the bucket,
#: key and version; the table and index; the queue; the topic; the secret; the KMS key).
_RESOURCE_PARAMS = (
    "Bucket", "Key", "VersionId", "Prefix", "TableName", "IndexName", "QueueUrl", "TopicArn",
    "TargetArn", "SecretId", "KeyId",
)  # fmt: skip


@dataclass(frozen=True)
class AwsCall:
    """One API call: service (botocore's name), operation and the resource parameters."""

    service: str
    operation: str
    resource: tuple[tuple[str, str], ...] = ()

    @property
    def params(self) -> dict[str, str]:
        return dict(self.resource)

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "resource": dict(self.resource)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AwsCall:
        return cls(data["service"], data["operation"], tuple(sorted(data.get("resource", {}).items())))


class Recorder:
    """Per function: AWS calls, EMF metric blobs and captured stdout lines."""

    def __init__(self) -> None:
        self.calls: dict[str, list[AwsCall]] = defaultdict(list)
        self.metrics: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.output: dict[str, list[str]] = defaultdict(list)
        self._partial: dict[str, str] = {}
        self._lock = threading.Lock()

    def add_call(self, fn: str, call: AwsCall) -> None:
        with self._lock:
            self.calls[fn].append(call)

    def add_output(self, fn: str, text: str) -> None:
        """Record stdout text; complete lines that are EMF JSON (an ``_aws`` key) become metrics."""
        with self._lock:
            pending = self._partial.get(fn, "") + text
            *lines, self._partial[fn] = pending.split("\n")
            for line in lines:
                self._add_line(fn, line)

    def end_output(self, fn: str) -> None:
        """The invocation ended: a last line without a newline still counts."""
        with self._lock:
            rest = self._partial.pop(fn, "")
            if rest:
                self._add_line(fn, rest)

    def _add_line(self, fn: str, line: str) -> None:
        self.output[fn].append(line)
        blob = parse_emf(line)
        if blob is not None:
            self.metrics[fn].append(blob)

    def operations(self, fn: str) -> set[tuple[str, str]]:
        """The distinct (service, operation) pairs ``fn`` called."""
        return {(c.service, c.operation) for c in self.calls.get(fn, [])}

    def metric_names(self, fn: str | None = None) -> set[tuple[str, str, tuple[str, ...]]]:
        """(namespace, metric name, sorted dimension names) for every metric emitted."""
        found = set()
        fns = [fn] if fn else list(self.metrics)
        for name in fns:
            for blob in self.metrics.get(name, []):
                for directive in blob["_aws"].get("CloudWatchMetrics", []):
                    for dims in directive.get("Dimensions", []) or [[]]:
                        for metric in directive.get("Metrics", []):
                            found.add((directive["Namespace"], metric["Name"], tuple(sorted(dims))))
        return found

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
            self.metrics.clear()
            self.output.clear()
            self._partial.clear()


def parse_emf(line: str) -> dict[str, Any] | None:
    """The EMF document on ``line``, or None when the line is not one."""
    line = line.strip()
    if not (line.startswith("{") and '"_aws"' in line):
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if isinstance(doc, dict) and isinstance(doc.get("_aws"), dict) and "CloudWatchMetrics" in doc["_aws"]:
        return doc
    return None


# ---- attribution of AWS calls to the running function -----------------------------------------


class _Current:
    target: tuple[Recorder, str] | None = None


_current = _Current()
_install_lock = threading.Lock()
_installed = False


def _resource_of(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The parameters that say which actions and resources IAM checks for a call."""
    found = {k: str(params[k]) for k in _RESOURCE_PARAMS if k in params}
    if "RequestItems" in params:  # BatchGetItem / BatchWriteItem
        found["TableName"] = ",".join(sorted(params["RequestItems"]))
    if "TransactItems" in params:  # IAM authorises each item's own action on its own table
        items = {
            f"{kind}:{body['TableName']}" for item in params["TransactItems"] for kind, body in item.items()
        }
        found["TransactItems"] = ",".join(sorted(items))
    source = params.get("CopySource")
    if isinstance(source, dict):
        found["CopySource"] = f"{source['Bucket']}/{source['Key']}"
        if source.get("VersionId"):
            found["CopySource"] += f"?versionId={source['VersionId']}"
    elif source:
        found["CopySource"] = str(source)
    if "Tagging" in params:
        found["Tagging"] = "set"
    if "ACL" in params or any(k.startswith("Grant") for k in params):
        found["ACL"] = "set"
    return tuple(sorted(found.items()))


def install_call_hook() -> None:
    """Wrap ``BaseClient._make_api_call`` (once per process) to report calls to the recorder."""
    global _installed
    with _install_lock:
        if _installed:
            return
        original = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, untyped

        def recording(self: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
            target = _current.target
            if target is not None:
                recorder, fn = target
                service = self.meta.service_model.service_name
                recorder.add_call(fn, AwsCall(service, operation_name, _resource_of(api_params)))
            return original(self, operation_name, api_params)

        setattr(BaseClient, "_make_api_call", recording)  # noqa: B010 - private, untyped
        _installed = True


class attribute_calls:
    """Context manager: AWS calls (from any thread) belong to ``fn`` until it exits."""

    def __init__(self, recorder: Recorder, fn: str) -> None:
        self.target = (recorder, fn)

    def __enter__(self) -> None:
        install_call_hook()
        self._previous = _current.target
        _current.target = self.target

    def __exit__(self, *exc: object) -> None:
        _current.target = self._previous


# ---- stdout capture ---------------------------------------------------------------------------


class _StdoutRouter(io.TextIOBase):
    """A process-wide stdout stand-in that sends text to whichever capture is active.

    Powertools' Logger binds its handler to the ``sys.stdout`` of the moment it is created (a
    cold start, inside an invocation); routing through one long-lived object keeps later, warm
    invocations' logs flowing to the right capture instead of to a closed buffer.
    """

    def __init__(self) -> None:
        self._stack: list[tuple[Recorder, str, TextIO | None]] = []

    def push(self, recorder: Recorder, fn: str, echo: TextIO | None) -> None:
        self._stack.append((recorder, fn, echo))

    def pop(self) -> None:
        recorder, fn, _ = self._stack.pop()
        recorder.end_output(fn)

    def write(self, text: str) -> int:
        stack = self._stack
        if not stack:
            return sys.__stdout__.write(text) if sys.__stdout__ else len(text)
        recorder, fn, echo = stack[-1]
        recorder.add_output(fn, text)
        if echo is not None:
            echo.write(text)
        return len(text)

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        stack = self._stack
        if stack and stack[-1][2] is not None:
            stack[-1][2].flush()


ROUTER = _StdoutRouter()


class capture_stdout:
    """Context manager: stdout written during the invocation goes to ``recorder`` as ``fn``'s output."""

    def __init__(self, recorder: Recorder, fn: str, *, echo: bool = True) -> None:
        self.recorder, self.fn, self.echo = recorder, fn, echo

    def __enter__(self) -> None:
        self._saved = sys.stdout
        ROUTER.push(self.recorder, self.fn, self._saved if self.echo else None)
        sys.stdout = ROUTER

    def __exit__(self, *exc: object) -> None:
        sys.stdout = self._saved
        ROUTER.pop()
