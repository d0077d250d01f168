"""Destinations against the local receivers over real HTTP, credentials in a moto secret."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_fixtures import in_process_aws

from wizwatch import aws
from wizwatch.alerts.routing import parse_document
from wizwatch.notify.base import DeliveryEnv
from wizwatch.notify.destinations import Destinations, check_specs
from wizwatch.notify.http import HttpPoster
from wizwatch.notify.secrets import DestinationSecrets
from wizwatch_tools.localstack.receivers import LocalDestinations, local_destinations

REGION = "eu-west-1"


@pytest.fixture
def local() -> Iterator[LocalDestinations]:
    dest = local_destinations()
    try:
        yield dest
    finally:
        dest.stop()


@pytest.fixture
def secret_arn(monkeypatch: pytest.MonkeyPatch, local: LocalDestinations) -> Iterator[str]:
    with in_process_aws(monkeypatch):
        sm = boto3.client("secretsmanager")
        yield sm.create_secret(Name="destinations", SecretString=local.secret_string())["ARN"]


def destinations_for(local: LocalDestinations, secret_arn: str, **routing: Any) -> Destinations:
    doc = {
        "destinations": {n: {**d, **routing.get(n, {})} for n, d in local.document["destinations"].items()}
    }
    specs = parse_document(doc)
    check_specs(specs, "test document")
    env = DeliveryEnv(
        secrets=DestinationSecrets(secret_arn),
        http=HttpPoster(allow_loopback_http=True),
        region=REGION,
        alert_topic_arn="",
        sns_client=lambda: aws.client("sns"),
    )
    return Destinations(specs, env)


@pytest.fixture
def destinations(local: LocalDestinations, secret_arn: str) -> Destinations:
    return destinations_for(local, secret_arn)
