"""Fixtures for the poller's unit tests: moto in-process AWS and the FakeWiz double."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import orjson
import pytest
from moto import mock_aws
from poll_fakewiz import API_URL, TOKEN_URL, FakeWiz
from poll_unit_support import BUCKET, SECRET, TABLE, ManualClock

from wizwatch import aws
from wizwatch.poll import runner


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "WIZ_API_URL": API_URL,
        "WIZ_TOKEN_URL": TOKEN_URL,
        "WIZ_CREDENTIALS_SECRET": SECRET,
        "STATE_TABLE": TABLE,
        "RAW_BUCKET": BUCKET,
        "WIZ_SETTLE_SECONDS": "1",
        "WIZ_OVERLAP_SECONDS": "5",
        "WIZ_INITIAL_LOOKBACK_HOURS": "2",
        "WIZ_REQUESTS_PER_SECOND": "50",
        "WIZ_RETRY_BASE_SECONDS": "0.01",
        "WIZ_RETRY_MAX_SECONDS": "0.05",
        "WIZ_TIME_RESERVE_SECONDS": "1",
        "POWERTOOLS_METRICS_NAMESPACE": "Wizwatch",
    }
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def aws_env(env: dict[str, str]) -> Iterator[Any]:
    aws.reset_clients()
    runner._poller = None
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        boto3.client("secretsmanager").create_secret(
            Name=SECRET,
            SecretString=orjson.dumps({"client_id": "cid", "client_secret": "s3cret-value"}).decode(),
        )
        yield
    aws.reset_clients()
    runner._poller = None


@pytest.fixture
def wiz(aws_env: Any) -> FakeWiz:
    """A FakeWiz mounted on the container's HTTP session (built from the current env)."""
    fake = FakeWiz()
    # A manual clock: budgets and waits are measured in work done, never in real time.
    poller = runner.get_poller(runner.load_settings(), ManualClock().clock)
    poller.client._session.mount("https://", fake)
    return fake
