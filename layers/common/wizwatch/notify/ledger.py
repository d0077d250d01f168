"""A delivery ledger, so each alert reaches each destination once even when it arrives twice.

The alert and delivery queues are standard SQS queues (at-least-once delivery), and the detector
re-queues an alert it cannot confirm as sent, always under the same ``alert_id``. Before
delivering, the notifier claims ``pk="d#<alert_id>", sk="<destination>"`` in the dedup table;
once the destination has accepted the alert the claim becomes ``delivered`` and any later copy
is dropped. A delivery that fails releases its claim so the retry goes ahead at once. A notifier
that dies between delivering and marking leaves a ``delivering`` claim; after ``STALE_SECONDS`` a
redelivery takes it over and delivers again — the one window where a duplicate remains possible
(PagerDuty's ``dedup_key`` and Jira's alert-id label absorb it there), chosen over ever losing an
alert. Correctness never depends on TTL deletion: a ``delivered`` claim is honoured however old.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from wizwatch.errors import WizwatchError
from wizwatch.logs import logger

DELIVERING = "delivering"
DELIVERED = "delivered"
#: Longer than a notifier run (its Lambda timeout is 60 s): a claim this old was abandoned.
STALE_SECONDS = 300
#: Claims outlive SQS's longest retention (14 days), after which no copy can still arrive.
KEEP_SECONDS = 15 * 24 * 3600


class DeliveryInProgress(WizwatchError):
    """Another notifier holds a fresh claim on this delivery; the message is retried later."""


@dataclass(frozen=True)
class Claim:
    alert_id: str
    destination: str
    token: str

    @property
    def key(self) -> dict[str, dict[str, str]]:
        return {"pk": {"S": f"d#{self.alert_id}"}, "sk": {"S": self.destination}}


class DeliveryLedger:
    """Claims in the dedup table (HASH ``pk``, RANGE ``sk``, TTL ``expires_at``)."""

    def __init__(self, dynamodb: Any, table: str) -> None:
        self._ddb = dynamodb
        self._table = table

    def claim(self, alert_id: str, destination: str, now: float) -> Claim | None:
        """Take the delivery; None when this destination already has the alert."""
        claim = Claim(alert_id, destination, uuid.uuid4().hex)
        try:
            self._ddb.put_item(
                TableName=self._table,
                Item={
                    **claim.key,
                    "state": {"S": DELIVERING},
                    "token": {"S": claim.token},
                    "claimed_at": {"N": str(int(now))},
                    "expires_at": {"N": str(int(now) + KEEP_SECONDS)},
                },
                # Take the delivery if no notifier ever claimed it, or if a claim is still
                # "delivering" but older than STALE_SECONDS (its notifier died after claiming).
                # A "delivered" claim never matches, so a second copy is never delivered.
                ConditionExpression=(
                    "attribute_not_exists(pk) OR (#state = :delivering AND claimed_at < :stale)"
                ),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":delivering": {"S": DELIVERING},
                    ":stale": {"N": str(int(now) - STALE_SECONDS)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = exc.response.get("Item") or {}  # type: ignore[assignment]
            if old.get("state", {}).get("S") == DELIVERED:
                return None
            raise DeliveryInProgress(
                f"alert {alert_id} is being delivered to {destination} by another notifier; retried later"
            ) from None
        return claim

    def delivered(self, claim: Claim, now: float, external_id: str = "") -> None:
        """Mark the claim delivered (after the destination accepted the alert)."""
        try:
            self._ddb.update_item(
                TableName=self._table,
                Key=claim.key,
                UpdateExpression="SET #state = :delivered, delivered_at = :now, external_id = :ext",
                # Only our own claim: if a redelivery took over a claim we held too long, it
                # delivers too (a duplicate, logged) and marks the claim itself.
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#state": "state", "#token": "token"},
                ExpressionAttributeValues={
                    ":delivered": {"S": DELIVERED},
                    ":now": {"N": str(int(now))},
                    ":ext": {"S": external_id},
                    ":token": {"S": claim.token},
                },
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            logger.warning(
                "delivery taken over by another notifier while delivering",
                extra={"alert_id": claim.alert_id, "destination": claim.destination},
            )

    def release(self, claim: Claim) -> None:
        """Give the claim up after a failed delivery, so the retry need not wait."""
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
