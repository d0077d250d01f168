"""Reading back what ran on the local stack: notifications and alerts SNS delivered, queue
depths and archived keys; and DynamoDB's TTL expiry, which moto never does on its own.

Mixed into :class:`wizwatch_tools.localstack.stack.LocalStack` (it uses the stack's
``resources`` and its ``s3``/``sqs``/``dynamodb`` clients).
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer


class StackInspection:
    """What came out of the handlers (a mixin of LocalStack)."""

    if TYPE_CHECKING:  # provided by LocalStack
        resources: dict[str, str]
        s3: Any
        sqs: Any
        dynamodb: Any
        _alerts: list[dict[str, Any]]
        _notifications: list[dict[str, Any]]

    def received_notifications(self) -> list[dict[str, Any]]:
        """Every SNS notification delivered to the local subscription so far (the SNS envelope:
        ``Message``, ``MessageAttributes``, ``Subject``...), oldest first."""
        url = self.resources["alerts_subscription_queue_url"]
        while True:
            resp = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = resp.get("Messages", [])
            if not messages:
                break
            for m in messages:
                self._notifications.append(json.loads(m["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return list(self._notifications)

    def received_alerts(self) -> list[dict[str, Any]]:
        """The alert JSON of every notification SNS delivered so far, oldest first."""
        notes = self.received_notifications()
        self._alerts = [json.loads(n["Message"]) for n in notes]
        return list(self._alerts)

    def queue_depth(self, key: str) -> int:
        """Visible + in-flight messages of a queue named in ``resources`` (e.g. ``raw_dlq_url``)."""
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.resources[key],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def archived_keys(self, prefix: str = "raw/") -> list[str]:
        """Keys under ``prefix`` in the archive bucket."""
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.resources["bucket"], Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    def expire_ttl_items(self, now: float | None = None) -> int:
        """Delete items whose TTL has passed, as DynamoDB eventually would (moto never does).

        The code must not rely on this happening (expiry is checked on read); tests use it to
        show that either way the outcome is the same.
        """
        now = time.time() if now is None else now
        deleted = 0
        deser = TypeDeserializer()
        for table in self.dynamodb.list_tables()["TableNames"]:
            ttl = self.dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
            attr = ttl.get("AttributeName")
            if ttl.get("TimeToLiveStatus") != "ENABLED" or not attr:
                continue
            keys = [
                k["AttributeName"]
                for k in self.dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
            ]
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=table):
                for item in page["Items"]:
                    if attr in item and "N" in item[attr] and float(deser.deserialize(item[attr])) <= now:
                        self.dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys})
                        deleted += 1
        return deleted
