"""boto3 clients, created once per container and honouring ``AWS_ENDPOINT_URL``.

boto3 reads ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so
the same code talks to AWS in Lambda and to the moto server locally; nothing here hard-codes an
endpoint. Clients are cached because creating one costs tens of milliseconds on a cold start.
"""

from __future__ import annotations

import functools
import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="wizwatch",
)


def client(service: str) -> Any:
    """A cached client for ``service`` (s3, sqs, sns, dynamodb, secretsmanager...).

    Cached per access key as well: in Lambda a container has one identity, so this is one client
    per service; a process hosting several functions' identities in turn (the local stack runs
    handlers in-process, each under its own role) never hands one function another's client.
    """
    return _client(service, os.environ.get("AWS_ACCESS_KEY_ID"))


_LOCK = threading.Lock()


@functools.cache
def _session(access_key_id: str | None) -> boto3.session.Session:
    # One session per identity: its loader caches the endpoint and partition data every client
    # needs, so the second and third clients of a cold start cost ~5 ms instead of ~70 ms each.
    return boto3.session.Session()


@functools.cache
def _client(service: str, access_key_id: str | None) -> Any:
    with _LOCK:  # creating clients from one session is not thread-safe (using them is)
        return _session(access_key_id).client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients and sessions (tests switch endpoints and credentials between cases)."""
    _client.cache_clear()
    _session.cache_clear()


class LazyClient:
    """A client created on first use, with :func:`client` (cached and shared the same way).

    Handlers build their objects at import (a misconfiguration fails the cold start), but a
    client costs 5-70 ms to create: this keeps that off the import path, and a client some
    invocations never need (the detector's SQS client: only when there is an alert) is never made.
    """

    __slots__ = ("_made", "_service")

    def __init__(self, service: str) -> None:
        self._service = service
        self._made: Any = None

    def __getattr__(self, name: str) -> Any:
        made = self._made
        if made is None:
            made = self._made = client(self._service)
        return getattr(made, name)

    def __repr__(self) -> str:
        return f"LazyClient({self._service!r}, made={self._made is not None})"
