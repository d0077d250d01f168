"""A publish ledger, so each alert reaches SNS once even when its message arrives twice.

The alert queue is a standard SQS queue (at-least-once delivery), and the detector re-queues an
alert it cannot confirm as sent, always under the same ``alert_id``. Before publishing, the
notifier claims ``pk="p#<alert_id>"`` in the dedup table; once SNS has accepted the message the
claim becomes ``published`` and any later copy is dropped. A publish that fails releases its
claim so the retry goes ahead at once. A notifier that dies between publishing and marking
leaves a ``publishing`` claim; after ``STALE_SECONDS`` a redelivery takes it over and publishes
again — the one window where a duplicate remains possible, chosen over ever losing an alert.
Correctness never depends on TTL deletion: a ``published`` claim is honoured however old it is.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from wizwatch.errors import WizwatchError
from wizwatch.logs import logger

PUBLISHING = "publishing"
PUBLISHED = "published"
#: Longer than a notifier run (its Lambda timeout is 60 s): a claim this old was abandoned.
STALE_SECONDS = 300
#: Claims outlive SQS's longest retention (14 days), after which no copy can still arrive.
KEEP_SECONDS = 15 * 24 * 3600


class AlertBeingPublished(WizwatchError):
    """Another notifier holds a fresh claim on this alert; the message is retried later."""


@dataclass(frozen=True)
class Claim:
    alert_id: str
    token: str

    @property
    def key(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"p#{self.alert_id}"}, "sk": {"S": "p"}}


class PublishLedger:
    """Claims in the dedup table (HASH ``pk``, RANGE ``sk``, TTL ``expires_at``)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._ddb = dynamodb
        self._table = table

    def claim(self, alert_id: str, now: float) -> Claim | None:
        """Take the alert for publishing; None when it was already published."""
        claim = Claim(alert_id, uuid.uuid4().hex)
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **claim.key,
                    "state": {"S": PUBLISHING},
                    "token": {"S": claim.token},
                    "claimed_at": {"N": str(int(now))},
                    "expires_at": {"N": str(int(now) + KEEP_SECONDS)},
                },
                # Take the alert if no notifier ever claimed it, or if a claim is still
                # "publishing" but older than STALE_SECONDS (its notifier died after claiming).
                # A "published" claim never matches, so a second copy is never published.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#state = :publishing AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":publishing": {"S": PUBLISHING},
                    ":stale": {"N": str(int(now) - STALE_SECONDS)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            if old.get("state", {}).get("S") == PUBLISHED:
                return None
            raise AlertBeingPublished(
                f"alert {alert_id} is being published by another notifier; its message is retried later"
            ) from None
        return claim

    def published(self, claim: Claim, now: float) -> None:
        """Mark the claim published (after SNS accepted the message)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=claim.key,
                UpdateExpression="SET #state = :published, published_at = :now",
                # Only our own claim: if a redelivery took over a claim we held too long, it
                # publishes too (a duplicate, logged) and marks the claim itself.
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues={
                    ":published": {"S": PUBLISHED},
                    ":now": {"N": str(int(now))},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            logger.warning(
                "alert was taken over by another notifier while publishing",
                extra={"alert_id": claim.alert_id},
            )

    def release(self, claim: Claim) -> None:
        """Give the claim up after a failed publish, so the retry need not wait."""
        try:
            self._ddb.delete_item(
                TableName=self._table,
                Key=claim.key,
                # Only our own claim, never one a redelivery has taken over since.
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": claim.token}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
