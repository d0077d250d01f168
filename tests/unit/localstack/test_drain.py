"""Draining an SQS event source like Lambda: batches, partial failures, redrive to the DLQ."""

from __future__ import annotations

import json

from wizwatch_tools.localstack import LocalStack
from wizwatch_tools.localstack.event_sources import sqs_record


def _send(stack: LocalStack, bodies: list[dict[str, object]]) -> str:
    url = stack.provisioned.physical["WorkQueue"]
    for body in bodies:
        stack.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    return url


def test_drain_invokes_in_batches_and_deletes_successes(tiny_stack: LocalStack) -> None:
    url = _send(tiny_stack, [{"n": i} for i in range(12)])
    result = tiny_stack.drain("worker")
    assert result.messages == 12
    assert result.deleted == 12
    assert result.invocations >= 3  # batch size 5
    attrs = tiny_stack.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_reported_failures_are_retried_then_land_in_the_dlq(tiny_stack: LocalStack) -> None:
    _send(tiny_stack, [{"n": 1}, {"poison": True}])
    result = tiny_stack.drain("worker")
    assert result.deleted == 1
    assert result.failed == 2  # maxReceiveCount 2: two attempts, then redrive
    dlq = tiny_stack.provisioned.physical["WorkDLQ"]
    moved = tiny_stack.sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in moved] == [{"poison": True}]


def test_records_look_like_lambda_sqs_events(tiny_stack: LocalStack) -> None:
    _send(tiny_stack, [{"n": 1}])
    received = tiny_stack.sqs.receive_message(
        QueueUrl=tiny_stack.provisioned.physical["WorkQueue"], AttributeNames=["All"]
    )["Messages"][0]
    record = sqs_record(received, "arn:aws:sqs:us-east-1:123456789012:tiny-WorkQueue")
    assert record["eventSource"] == "aws:sqs"
    assert record["messageId"] == received["MessageId"]
    assert record["receiptHandle"] == received["ReceiptHandle"]
    assert json.loads(record["body"]) == {"n": 1}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["eventSourceARN"].endswith(":tiny-WorkQueue")
    assert record["awsRegion"] == "us-east-1"


def test_tick_uses_the_schedule_input(tiny_stack: LocalStack) -> None:
    assert tiny_stack.spec("echo").schedules[0].input == {"log_type": "Wiz.Audit"}
    result = tiny_stack.invoke("echo", tiny_stack.spec("echo").schedules[0].input)
    assert result["event"] == {"log_type": "Wiz.Audit"}
