"""The in-memory S3 and SQS clients: objects served from a dict, writes and messages handed on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from wizwatch_tools.lake.memaws.expressions import SQS_MAX_BATCH, SQS_MAX_BYTES, error


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = (self._data, b"") if amt is None else (self._data[:amt], self._data[amt:])
        return data


class MemoryS3:
    """Serves the objects it was given (``serve``); every write is handed to ``on_put`` and dropped."""

    def __init__(self, on_put: Callable[[str, str, bytes, dict[str, str]], None] | None = None) -> None:
        self.objects: dict[tuple[str, str], tuple[bytes, dict[str, str]]] = {}
        self.on_put = on_put
        self.calls: dict[str, int] = {}
        self.bytes_written = 0

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1

    def serve(self, bucket: str, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self.objects[(bucket, key)] = (body, dict(metadata or {}))

    def forget(self, bucket: str, key: str) -> None:
        self.objects.pop((bucket, key), None)

    def get_object(self, Bucket: str, Key: str, **_: Any) -> dict[str, Any]:
        self._count("GetObject")
        found = self.objects.get((Bucket, Key))
        if found is None:
            raise error("NoSuchKey", "The specified key does not exist.", "GetObject")
        body, meta = found
        return {"Body": _Body(body), "Metadata": dict(meta), "ContentLength": len(body)}

    def put_object(
        self, Bucket: str, Key: str, Body: bytes = b"", Metadata: dict[str, str] | None = None, **_: Any
    ) -> dict[str, Any]:
        self._count("PutObject")
        data = Body if isinstance(Body, bytes) else Body.encode() if isinstance(Body, str) else Body.read()
        self.bytes_written += len(data)
        if self.on_put is not None:
            self.on_put(Bucket, Key, data, dict(Metadata or {}))
        return {"ETag": '"' + uuid.uuid4().hex + '"'}

    def copy_object(
        self,
        Bucket: str,
        Key: str,
        CopySource: dict[str, str],
        Metadata: dict[str, str] | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        self._count("CopyObject")
        found = self.objects.get((CopySource["Bucket"], CopySource["Key"]))
        if found is None:
            raise error("NoSuchKey", "The specified key does not exist.", "CopyObject")
        if self.on_put is not None:
            self.on_put(Bucket, Key, found[0], dict(Metadata or {}))
        return {"CopyObjectResult": {}}

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"S3 {name} is not implemented in memaws")


class MemorySQS:
    """Accepts messages (checked against SQS's batch limits), hands each body to ``on_message``."""

    def __init__(self, on_message: Callable[[str, str], None] | None = None) -> None:
        self.on_message = on_message
        self.calls: dict[str, int] = {}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self.calls["SendMessageBatch"] = self.calls.get("SendMessageBatch", 0) + 1
        if not Entries or len(Entries) > SQS_MAX_BATCH:
            raise error(
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Too many entries", "SendMessageBatch"
            )
        if len({e["Id"] for e in Entries}) != len(Entries):
            raise error(
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Ids not distinct", "SendMessageBatch"
            )
        if sum(len(e["MessageBody"].encode()) for e in Entries) > SQS_MAX_BYTES:
            raise error(
                "AWS.SimpleQueueService.BatchRequestTooLong", "Batch requests too long", "SendMessageBatch"
            )
        for entry in Entries:
            if self.on_message is not None:
                self.on_message(QueueUrl, entry["MessageBody"])
        return {
            "Successful": [{"Id": e["Id"], "MessageId": str(uuid.uuid4())} for e in Entries],
            "Failed": [],
        }

    def send_message(self, QueueUrl: str, MessageBody: str, **_: Any) -> dict[str, Any]:
        self.send_message_batch(QueueUrl, [{"Id": "0", "MessageBody": MessageBody}])
        return {"MessageId": str(uuid.uuid4())}

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"SQS {name} is not implemented in memaws")
