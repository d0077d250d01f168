"""One (alert, destination) delivery: ledger, inline retries within the Lambda's time, deferral
with Retry-After, the last attempt, records under deliveries/, metrics; no real sleeping."""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import boto3
import pytest
from aws_fixtures import create_dedup_table

from wizwatch import metric_names as mn
from wizwatch.alerts.metrics import MetricCounts
from wizwatch.notify.deliver import Deliverer, DeliveryPolicy
from wizwatch.notify.destinations import Destinations
from wizwatch.notify.ledger import DeliveryLedger
from wizwatch.notify.records import DeliveryRecords, record_key
from wizwatch.poll.retry import TimeBudget
from wizwatch_tools.destinations_cli import sample_alert
from wizwatch_tools.localstack.receivers import LocalDestinations

BUCKET = "archive"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def setup(destinations: Destinations) -> tuple[Deliverer, Clock, Any]:
    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    create_dedup_table(ddb, "dedup")
    s3.create_bucket(Bucket=BUCKET)
    clock = Clock()
    deliverer = Deliverer(
        destinations,
        DeliveryLedger(ddb, "dedup"),
        DeliveryRecords(s3, BUCKET),
        MetricCounts(),
        DeliveryPolicy(max_attempts=3, inline_wait=5, backoff_base=30, backoff_max=3600),
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(1),
    )
    return deliverer, clock, s3


def budget(clock: Clock, seconds: float = 60) -> TimeBudget:
    return TimeBudget(clock.now + seconds, clock)


def record(s3: Any, alert: dict[str, Any], name: str) -> dict[str, Any]:
    body = s3.get_object(Bucket=BUCKET, Key=record_key(alert, name))["Body"].read()
    return dict(json.loads(gzip.decompress(body)))


def test_a_short_retry_after_is_waited_out_in_the_same_invocation(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, s3 = setup
    local.receivers.fail("slack", 429, retry_after=2)
    alert = sample_alert()
    out = deliverer.deliver(alert, "slack", attempt=1, budget=budget(clock))
    assert out.status == "delivered" and clock.slept == [2.0]
    assert len(local.receivers.received("slack", accepted=True)) == 1
    rec = record(s3, alert, "slack")
    assert rec["status"] == "delivered" and rec["attempts"] == 1 and rec["destination_type"] == "slack"
    assert deliverer.metrics.total(mn.ALERTS_DELIVERED) == 1


def test_a_long_retry_after_goes_back_to_the_queue_then_delivers_once(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, s3 = setup
    local.receivers.fail("pagerduty", 429, retry_after=120)
    alert = sample_alert()
    first = deliverer.deliver(alert, "pagerduty", attempt=1, budget=budget(clock))
    assert first.status == "deferred" and first.delay >= 120 and clock.slept == []
    assert record(s3, alert, "pagerduty")["status"] == "retrying"
    assert record(s3, alert, "pagerduty")["failure_class"] == "unavailable"
    second = deliverer.deliver(alert, "pagerduty", attempt=2, budget=budget(clock))  # claim was released
    assert second.status == "delivered"
    third = deliverer.deliver(alert, "pagerduty", attempt=1, budget=budget(clock))  # a redelivered copy
    assert third.status == "duplicate"
    assert len(local.receivers.received("pagerduty", accepted=True)) == 1
    assert deliverer.metrics.total(mn.DUPLICATES_DROPPED) == 1


def test_no_attempt_without_enough_lambda_time(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, _ = setup
    out = deliverer.deliver(sample_alert(), "slack", attempt=1, budget=budget(clock, seconds=3.5))
    assert out.status == "deferred" and local.receivers.received("slack") == []


def test_an_inline_wait_never_outlives_the_lambda(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, _ = setup
    local.receivers.fail("slack", 503, retry_after=4)
    out = deliverer.deliver(sample_alert(), "slack", attempt=1, budget=budget(clock, seconds=8))
    assert out.status == "deferred" and clock.slept == []


def test_a_destination_down_fails_for_good_at_the_last_attempt(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, s3 = setup
    local.receivers.fail("teams", 503, count=None)
    alert = sample_alert()
    outcomes = [deliverer.deliver(alert, "teams", attempt=n, budget=budget(clock)).status for n in (1, 2, 3)]
    assert outcomes == ["deferred", "deferred", "failed"]
    rec = record(s3, alert, "teams")
    assert rec["status"] == "failed" and rec["attempts"] == 3 and rec["http_status"] == 503
    counts = deliverer.metrics.counts
    assert counts[(mn.DELIVERY_FAILURES, ((mn.FAILURE_CLASS, "unavailable"),))] == 3


def test_a_refusal_is_a_rejection_and_unknown_names_too(
    setup: tuple[Deliverer, Clock, Any], local: LocalDestinations
) -> None:
    deliverer, clock, s3 = setup
    local.receivers.fail("slack", 404)
    alert = sample_alert()
    out = deliverer.deliver(alert, "slack", attempt=1, budget=budget(clock))
    assert out.status == "deferred" and out.error is not None and out.error.failure_class == "rejected"
    assert local.credentials["slack"] not in json.dumps(record(s3, alert, "slack"))
    gone = deliverer.deliver(alert, "slack-typo", attempt=1, budget=budget(clock))
    assert gone.error is not None and "not configured" in str(gone.error)
    assert record(s3, alert, "slack-typo")["failure_class"] == "rejected"


def test_backoff_doubles_is_capped_and_respects_retry_after() -> None:
    policy, rng = DeliveryPolicy(backoff_base=30, backoff_max=3600), random.Random(3)
    delays = [policy.defer_delay(n, None, rng) for n in range(1, 12)]
    assert all(15 * 2 ** (n - 1) <= d <= 30 * 2 ** (n - 1) for n, d in enumerate(delays[:6], 1))
    assert max(delays) <= 3600
    assert policy.defer_delay(1, 900, rng) >= 900
    assert policy.defer_delay(1, 10**9, rng) == 43_200  # SQS's longest visibility timeout
