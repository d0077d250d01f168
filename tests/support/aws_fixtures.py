"""moto resources several test folders create the same way (tests/support is on pythonpath)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from wizwatch import aws


@contextlib.contextmanager
def in_process_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto in-process with dummy credentials; wizwatch's cached clients reset on both sides."""
    for k, v in {
        "AWS_ACCESS_KEY_ID": "t",
        "AWS_SECRET_ACCESS_KEY": "t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset_clients()
        try:
            yield
        finally:
            aws.reset_clients()


def create_dedup_table(dynamodb: Any, name: str) -> None:
    """The dedup table's key schema as template.yaml declares it (HASH pk, RANGE sk)."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def subscribed_topic(sns: Any, sqs: Any, topic: str = "alerts", queue: str = "sub") -> tuple[str, str]:
    """An SNS topic with an SQS queue subscribed: (topic ARN, queue URL) to read deliveries from."""
    topic_arn = sns.create_topic(Name=topic)["TopicArn"]
    queue_url = sqs.create_queue(QueueName=queue)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return topic_arn, queue_url


def sqs_record(
    body: str, message_id: str = "m0", *, source: str = "alerts", receipt: str = "h", receive_count: int = 1
) -> dict[str, Any]:
    """One SQS message as Lambda's event source mapping hands it over (``Records[i]``)."""
    return {
        "messageId": message_id,
        "receiptHandle": receipt,
        "body": body,
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{source}",
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
    }


def sqs_batch(*bodies: str, receive_count: int = 1, queue: str = "alerts") -> dict[str, Any]:
    """An SQS event for a Lambda (message ids ``m0``, ``m1``...), as the event source mapping sends it."""
    return {
        "Records": [
            sqs_record(body, f"m{i}", source=queue, receipt=f"h{i}", receive_count=receive_count)
            for i, body in enumerate(bodies)
        ]
    }
