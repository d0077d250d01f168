"""The local stack's fixed AWS identity (region, account, dummy credentials) and boto3 clients.

Every client the local stack, its tests and its handlers' harness make goes to the one endpoint
(the moto server) in one region; :func:`aws_client` caches them per endpoint and credentials.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3

from wizwatch_tools.localstack import roles

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@functools.lru_cache(maxsize=64)
def aws_client(service: str, endpoint: str, credentials: roles.Credentials | None = None) -> Any:
    """A boto3 client on ``endpoint`` with the local stack's fixed region; signed with
    ``credentials`` (e.g. a function's role) or else the dummy credentials, which on an
    IAM-enforcing local server are the administrator's.

    Cached: creating a client loads botocore's service model (tens of milliseconds), and clients
    are thread-safe, so every stack on the same endpoint shares them.
    """
    return boto3.session.Session(
        aws_access_key_id=credentials.access_key_id
        if credentials
        else DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=(
            credentials.secret_access_key if credentials else DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
        ),
        aws_session_token=credentials.session_token if credentials else None,
        region_name=REGION,
    ).client(service, endpoint_url=endpoint)  # type: ignore[call-overload]
