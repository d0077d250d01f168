"""Two of moto's costs that grow with everything stored, made proportional to the request again.

Same behaviour, errors and answers as moto's; only the work done to get there changes.

**DynamoDB TransactWriteItems.** moto (5.x) backs up every table a transaction names with
``copy.deepcopy`` of the *whole table* before applying it, so each transaction costs time
proportional to everything the table holds: on the local stack the dedup table reaches a few
MB after one pipeline run and every transaction then takes ~0.4 s. AWS's semantics only need
the transaction's own items back when it is cancelled, so :func:`install` wraps the backend's
``transact_write_items``: the items the transaction names are copied first (at most 100, AWS's
limit), moto's own table copy is skipped, and on any failure those items are put back exactly
as they were (absent ones removed) before moto's error is re-raised. What a transaction does,
which errors it raises and in what shape are moto's, unchanged.

**SQS ReceiveMessage.** For each message it returns, moto checks the queue's retention period by
asking ``get_queue_attributes`` for it, which builds *every* attribute of the queue three times,
message counts included (a scan of the queue each): a batch costs the square of the queue's
depth. The check reads ``message_retention_period`` itself instead.

Installed for the moto server (:class:`wizwatch_tools.localstack.server.MotoServer`) and for
in-process ``mock_aws`` in the tests (``tests/conftest.py``); idempotent.
"""

from __future__ import annotations

import copy
import threading
from types import SimpleNamespace
from typing import Any

_lock = threading.Lock()
_installed = False


def install() -> None:
    """Patch moto's DynamoDB and SQS backends (idempotent, once per process)."""
    global _installed
    with _lock:
        if _installed:
            return
        _install_sqs()
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original = models.DynamoDBBackend.transact_write_items

        def _deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            # The only whole-table copy in moto's backend module is the transaction backup.
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        # The backend module's ``copy`` name only (moto's other modules keep the real one).
        models.copy = SimpleNamespace(deepcopy=_deepcopy, copy=copy.copy)  # type: ignore[assignment]

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved = _save_items(self, transact_items)
            try:
                original(self, transact_items)
            except BaseException:
                _restore_items(saved)
                raise

        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _installed = True


def _install_sqs() -> None:
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention_period + message.sent_timestamp / 1000 > unix_time())

    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period
    )


def _save_items(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any, Any]]:
    """(table, hash key, range key, copy of the item or None) of every item the transaction names."""
    saved = []
    for entry in transact_items[:100]:  # moto refuses more, before writing anything
        try:
            _, op = next(iter(entry.items()))
            table = backend.tables[op["TableName"]]
            if "Key" in op:
                key = op["Key"]
            else:
                names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
                key = {n: op["Item"][n] for n in names}
            hash_key, range_key = backend.get_keys_value(table, key)
            current = table.get_item(hash_key, range_key)
        except Exception:
            continue  # a malformed operation: moto rejects it without writing that item
        saved.append((table, hash_key, range_key, copy.deepcopy(current)))
    return saved


def _restore_items(saved: list[tuple[Any, Any, Any, Any]]) -> None:
    """Put each saved item back as it was (in reverse, so the first copy of a key wins)."""
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is not None:
            rows = table.items[hash_key]
            if item is None:
                rows.pop(range_key, None)
                if not rows:
                    table.items.pop(hash_key, None)
            else:
                rows[range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
