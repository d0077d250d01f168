"""Shared pieces of the poller's unit tests: names of the moto resources, a Lambda-like
context, a manual clock, and a handler call that mounts the FakeWiz double (fixtures stay in
conftest.py)."""

from __future__ import annotations

import gzip
import json
import threading
from typing import Any

import boto3
import orjson
import pytest
from poll_fakewiz import FakeWiz

from wizwatch.archive.keys import parse_raw_key
from wizwatch.poll import runner
from wizwatch.poll.retry import Clock

TABLE = "state"
BUCKET = "raw"
SECRET = "wiz-creds"


class Ctx:
    """A Lambda-like context with a fixed remaining time."""

    aws_request_id = "req-unit"
    function_name = "poller"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class ManualClock:
    """Monotonic time that moves only when told: waits (rate limiter, back-off) advance it at once,
    and ``cost`` seconds pass per GraphQL request (``charge`` is FakeWiz's ``on_request`` hook).
    A time budget then runs out after a known amount of work, however loaded the machine is."""

    def __init__(self, start: float = 1000.0, cost: float = 0.0) -> None:
        self.t = start
        self.cost = cost
        self._lock = threading.Lock()
        self.clock = Clock(now=self.now, sleep=self.sleep)

    def now(self) -> float:
        with self._lock:
            return self.t

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.t += max(0.0, seconds)

    def charge(self, _request: dict[str, Any] | None = None) -> None:
        self.sleep(self.cost)


def invoke(
    fake: FakeWiz,
    event: dict[str, Any] | None = None,
    remaining_ms: int = 60_000,
    cold: bool = False,
    clock: ManualClock | None = None,
) -> dict[str, Any]:
    """Run the handler logic as Lambda would; ``cold`` forgets everything a container caches.

    Time is the container's clock (the ``wiz`` fixture gives it a :class:`ManualClock`, kept across
    cold starts) or ``clock``: the budget is ``remaining_ms`` of it, never of real time."""
    kept = runner._poller[1].clock if runner._poller is not None else None
    if cold:
        runner._poller = None
    poller = runner.get_poller(runner.load_settings(), clock.clock if clock else kept)
    poller.client._session.mount("https://", fake)
    return runner.handle(event or {}, Ctx(remaining_ms))


def archived(log_type: str | None = None) -> dict[str, dict[str, Any]]:
    """key -> {"body": parsed page, "meta": metadata} for every raw object."""
    s3 = boto3.client("s3")
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix="raw/"):
        for obj in page.get("Contents", []):
            if log_type and parse_raw_key(obj["Key"]).log_type != log_type:
                continue
            got = s3.get_object(Bucket=BUCKET, Key=obj["Key"])
            raw = gzip.decompress(got["Body"].read())
            out[obj["Key"]] = {"raw": raw, "body": orjson.loads(raw), "meta": got["Metadata"]}
    return out


def ids(log_type: str, connection: str) -> set[str]:
    found = set()
    for obj in archived(log_type).values():
        found |= {n["id"] for n in obj["body"]["data"][connection]["nodes"]}
    return found


def emf(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    out = []
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            out.append(json.loads(line))
    return out
