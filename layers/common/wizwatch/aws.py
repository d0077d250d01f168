"""boto3 clients, created once per container and honouring ``AWS_ENDPOINT_URL``.

boto3 reads ``AWS_ENDPOINT_URL`` (and the per-service ``AWS_ENDPOINT_URL_<SERVICE>``) itself, so
the same code talks to AWS in Lambda and to the moto server locally; nothing here hard-codes an
endpoint. Clients are cached because creating one costs tens of milliseconds on a cold start.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 5},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="wizwatch",
)


@functools.cache
def client(service: str) -> Any:
    """A cached client for ``service`` (s3, sqs, sns, dynamodb, secretsmanager...)."""
    return boto3.session.Session().client(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials between cases)."""
    client.cache_clear()
