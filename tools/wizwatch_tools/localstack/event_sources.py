"""Lambda's SQS event source mapping, played locally: a function's queues drained into batches.

Messages are received with the function's own role, handed to the handler in Lambda's record
shape, and deleted unless reported in ``batchItemFailures``; failed ones (or the whole batch
when the handler raises) are made visible again at once, and moto's redrive moves them to the
DLQ after ``maxReceiveCount``. Mixed into :class:`wizwatch_tools.localstack.stack.LocalStack`
(it uses the stack's ``spec``, ``client_as``, ``invoke`` and ``errors``).
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wizwatch_tools.localstack.cfn_functions import FunctionSpec, QueueSource
from wizwatch_tools.localstack.clients import REGION

#: A safety net against a handler that fails forever: Lambda would stop at the DLQ too.
MAX_BATCHES_PER_DRAIN = 500


@dataclass
class DrainResult:
    """What draining one function's queue did."""

    invocations: int = 0
    messages: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainResult) -> None:
        """Fold another drain's counts into this one."""
        self.invocations += other.invocations
        self.messages += other.messages
        self.deleted += other.deleted
        self.failed += other.failed
        self.errors += other.errors


class QueueEventSources:
    """Draining SQS event sources into handler invocations (a mixin of LocalStack)."""

    if TYPE_CHECKING:  # provided by LocalStack
        errors: list[str]

        def spec(self, fn: str) -> FunctionSpec: ...

        def client_as(self, fn: str, service: str) -> Any: ...

        def invoke(self, fn: str, event: Any) -> Any: ...

    def drain(self, fn: str) -> DrainResult:
        """Poll every SQS event source of ``fn`` as Lambda would until all of them are empty.

        Messages not reported in ``batchItemFailures`` are deleted; failed ones (or the whole
        batch when the handler raises) are made visible again at once, so retries happen now
        rather than after the visibility timeout (or the delay a handler set); moto's redrive
        moves them to the DLQ.
        """
        spec = self.spec(fn)
        if not spec.queue_sources:
            raise ValueError(f"{fn} has no SQS event source in the template")
        out = DrainResult()
        for _ in range(MAX_BATCHES_PER_DRAIN):
            rounds = [self._drain_source(fn, source) for source in spec.queue_sources]
            for r in rounds:
                out.add(r)
            if all(r.messages == 0 for r in rounds):
                return out
        raise RuntimeError(f"{fn}: queues still not empty after {MAX_BATCHES_PER_DRAIN} rounds")

    def _drain_source(self, fn: str, source: QueueSource) -> DrainResult:
        # Lambda's event source mapping polls with the function's execution role.
        sqs = self.client_as(fn, "sqs")
        out = DrainResult()
        for _ in range(MAX_BATCHES_PER_DRAIN):
            resp = sqs.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=min(10, source.batch_size),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            messages = resp.get("Messages", [])
            if not messages:
                return out
            out.invocations += 1
            out.messages += len(messages)
            event = {"Records": [sqs_record(m, source.queue_arn) for m in messages]}
            try:
                result = self.invoke(fn, event)
                failed = _failed_ids(result) if source.report_batch_item_failures else set()
            except Exception:
                tb = traceback.format_exc()
                self.errors.append(f"{fn}: {tb}")
                out.errors.append(tb)
                print(f"[local stack] {fn} raised; the batch will be retried:\n{tb}", file=sys.stderr)
                failed = {m["MessageId"] for m in messages}
            for m in messages:
                if m["MessageId"] in failed:
                    out.failed += 1
                    sqs.change_message_visibility(
                        QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                    )
                else:
                    out.deleted += 1
                    sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=m["ReceiptHandle"])
        raise RuntimeError(f"{fn}: queue still not empty after {MAX_BATCHES_PER_DRAIN} batches")


def _failed_ids(result: Any) -> set[str]:
    if not isinstance(result, dict):
        return set()
    return {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", []) or []}


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    """An SQS message as Lambda's event source mapping hands it to the function."""
    attrs = message.get("MessageAttributes", {}) or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {
            k: {
                "stringValue": v.get("StringValue"),
                "binaryValue": v.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": v["DataType"],
            }
            for k, v in attrs.items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }
