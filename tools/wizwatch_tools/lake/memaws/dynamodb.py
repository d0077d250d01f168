"""The in-memory DynamoDB client: tables as dicts of items in DynamoDB's wire format."""

from __future__ import annotations

import re
from typing import Any

from wizwatch_tools.lake.memaws.expressions import (
    MAX_BATCH_GET_KEYS,
    MAX_BATCH_WRITE,
    MAX_ITEM_BYTES,
    MAX_TX_ITEMS,
    QUERY_OPTIONS,
    Parser,
    arith,
    error,
    item_size,
)


class PartitionedRows(dict[tuple[Any, ...], dict[str, Any]]):
    """A table's items keyed by their key attributes, also filed by partition (hash key value),
    so a Query reads its one partition as DynamoDB does instead of scanning the table (the
    correlation rules query per page: a scan would make replay and the bench grow with the
    table)."""

    def __init__(self) -> None:
        super().__init__()
        self.partitions: dict[Any, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def __setitem__(self, key: tuple[Any, ...], item: dict[str, Any]) -> None:
        super().__setitem__(key, item)
        self.partitions.setdefault(key[0], {})[key] = item

    def __delitem__(self, key: tuple[Any, ...]) -> None:
        super().__delitem__(key)
        self._unfile(key)

    def pop(self, key: tuple[Any, ...], *default: Any) -> Any:
        found = super().pop(key, *default)
        self._unfile(key)
        return found

    def _unfile(self, key: tuple[Any, ...]) -> None:
        part = self.partitions.get(key[0])
        if part is not None:
            part.pop(key, None)
            if not part:
                del self.partitions[key[0]]


class MemoryDynamoDB:
    """Tables as dicts of items in DynamoDB's wire format, keyed by their key attributes."""

    def __init__(self, tables: dict[str, tuple[str, ...]]) -> None:
        self.schemas = tables
        self.tables: dict[str, PartitionedRows] = {t: PartitionedRows() for t in tables}
        self.calls: dict[str, int] = {}

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1

    def _table(self, name: str, op: str) -> PartitionedRows:
        if name not in self.tables:
            raise error("ResourceNotFoundException", f"Requested resource not found: {name}", op)
        return self.tables[name]

    def _key(self, table: str, item: dict[str, Any], op: str) -> tuple[Any, ...]:
        key = []
        for attr in self.schemas[table]:
            if attr not in item:
                raise error("ValidationException", f"Missing the key {attr} in the item", op)
            key.append(next(iter(item[attr].items())))
        return tuple(key)

    def _check(self, table: str, current: dict[str, Any] | None, op: dict[str, Any], name: str) -> bool:
        expr = op.get("ConditionExpression")
        if not expr:
            return True
        parser = Parser(
            expr, op.get("ExpressionAttributeNames") or {}, op.get("ExpressionAttributeValues") or {}
        )
        condition = parser.condition()
        parser.done()
        return bool(condition(current or {}))

    def _apply(
        self, table: str, kind: str, op: dict[str, Any], operation: str
    ) -> tuple[Any, dict[str, Any] | None]:
        """(key, new item or None for a delete) of one write, checked but not yet stored."""
        if kind == "Put":
            item = op["Item"]
            if item_size(item) > MAX_ITEM_BYTES:
                raise error(
                    "ValidationException", "Item size has exceeded the maximum allowed size", operation
                )
            return self._key(table, item, operation), dict(item)
        key_item = op["Key"]
        key = self._key(table, key_item, operation)
        if kind == "Delete" or kind == "ConditionCheck":
            return key, None
        if kind != "Update":
            raise NotImplementedError(f"transaction operation {kind} is not implemented in memaws")
        current = dict(self.tables[table].get(key) or key_item)
        parser = Parser(
            op["UpdateExpression"],
            op.get("ExpressionAttributeNames") or {},
            op.get("ExpressionAttributeValues") or {},
        )
        actions = parser.update()
        parser.done()
        before = dict(current)
        for action, name, value in actions:
            if name in self.schemas[table]:
                raise error(
                    "ValidationException", f"Cannot update attribute {name}: part of the key", operation
                )
            if action == "SET":
                current[name] = value(before) if value else None
            elif action == "REMOVE":
                current.pop(name, None)
            elif action == "ADD":
                added = value(before) if value else None
                current[name] = arith("+", current.get(name, {"N": "0"}), added)
        if item_size(current) > MAX_ITEM_BYTES:
            raise error(
                "ValidationException", "Item size to update has exceeded the maximum allowed size", operation
            )
        return key, current

    # -- the API
    def batch_get_item(self, RequestItems: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._count("BatchGetItem")
        responses: dict[str, list[dict[str, Any]]] = {}
        total = sum(len(r.get("Keys", [])) for r in RequestItems.values())
        if total > MAX_BATCH_GET_KEYS:
            raise error(
                "ValidationException", "Too many items requested for the BatchGetItem call", "BatchGetItem"
            )
        for table, request in RequestItems.items():
            if set(request) - {"Keys", "ConsistentRead"}:
                raise NotImplementedError(
                    f"BatchGetItem options {sorted(set(request) - {'Keys', 'ConsistentRead'})}"
                )
            rows = self._table(table, "BatchGetItem")
            keys = [self._key(table, k, "BatchGetItem") for k in request["Keys"]]
            if len(set(keys)) != len(keys):
                raise error(
                    "ValidationException", "Provided list of item keys contains duplicates", "BatchGetItem"
                )
            responses[table] = [dict(rows[k]) for k in keys if k in rows]
        return {"Responses": responses, "UnprocessedKeys": {}}

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self._count("TransactWriteItems")
        op_name = "TransactWriteItems"
        if not TransactItems or len(TransactItems) > MAX_TX_ITEMS:
            raise error("ValidationException", "Member must have length between 1 and 100", op_name)
        plans = []
        reasons = []
        failed = False
        seen: set[tuple[str, tuple[Any, ...]]] = set()
        for entry in TransactItems:
            ((kind, op),) = entry.items()
            table = op["TableName"]
            rows = self._table(table, op_name)
            key, new = self._apply(table, kind, op, op_name)
            if (table, key) in seen:
                raise error(
                    "ValidationException",
                    "Transaction request cannot include multiple operations on one item",
                    op_name,
                )
            seen.add((table, key))
            current = rows.get(key)
            if self._check(table, current, op, op_name):
                reasons.append({"Code": "None"})
            else:
                failed = True
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
                    reason["Item"] = dict(current)
                reasons.append(reason)
            plans.append((rows, key, kind, new))
        if failed:
            codes = ", ".join(r["Code"] for r in reasons)
            raise error(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                op_name,
                CancellationReasons=reasons,
            )
        for rows, key, kind, new in plans:
            if kind == "Delete":
                rows.pop(key, None)
            elif kind != "ConditionCheck" and new is not None:
                rows[key] = new
        return {}

    def _single(self, kind: str, operation: str, TableName: str, **op: Any) -> dict[str, Any]:
        self._count(operation)
        rows = self._table(TableName, operation)
        key, new = self._apply(TableName, kind, {"TableName": TableName, **op}, operation)
        current = rows.get(key)
        if not self._check(TableName, current, op, operation):
            extra = (
                {"Item": dict(current)}
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current
                else {}
            )
            raise error(
                "ConditionalCheckFailedException", "The conditional request failed", operation, **extra
            )
        if kind == "Delete":
            rows.pop(key, None)
        elif new is not None:
            rows[key] = new
        return {}

    def put_item(self, **op: Any) -> dict[str, Any]:
        return self._single("Put", "PutItem", **op)

    def update_item(self, **op: Any) -> dict[str, Any]:
        return self._single("Update", "UpdateItem", **op)

    def delete_item(self, **op: Any) -> dict[str, Any]:
        return self._single("Delete", "DeleteItem", **op)

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]], **_: Any) -> dict[str, Any]:
        self._count("BatchWriteItem")
        requests = [(t, r) for t, rs in RequestItems.items() for r in rs]
        if not requests or len(requests) > MAX_BATCH_WRITE:
            raise error("ValidationException", "Member must have length between 1 and 25", "BatchWriteItem")
        planned = []
        for table, request in requests:
            rows = self._table(table, "BatchWriteItem")
            ((kind, op),) = request.items()
            if kind == "PutRequest":
                key, new = self._apply(table, "Put", op, "BatchWriteItem")
            elif kind == "DeleteRequest":
                key, new = self._key(table, op["Key"], "BatchWriteItem"), None
            else:
                raise NotImplementedError(f"BatchWriteItem {kind} is not implemented in memaws")
            planned.append((table, rows, key, new))
        keys = [(t, k) for t, _rows, k, _new in planned]
        if len(set(keys)) != len(keys):
            raise error(
                "ValidationException", "Provided list of item keys contains duplicates", "BatchWriteItem"
            )
        for _table, rows, key, new in planned:
            if new is None:
                rows.pop(key, None)
            else:
                rows[key] = new
        return {"UnprocessedItems": {}}

    def query(self, TableName: str, KeyConditionExpression: str, **op: Any) -> dict[str, Any]:
        """Items of one partition (hash key equality, optional range condition), range key order;
        FilterExpression applied after. One page (the client's paging loop simply ends)."""
        self._count("Query")
        unknown = set(op) - QUERY_OPTIONS
        if unknown:
            raise NotImplementedError(f"Query options {sorted(unknown)} are not implemented in memaws")
        rows = self._table(TableName, "Query")
        names = op.get("ExpressionAttributeNames") or {}
        values = op.get("ExpressionAttributeValues") or {}
        key_parser = Parser(KeyConditionExpression, names, values)
        key_condition = key_parser.condition()
        key_parser.done()
        keep = None
        if op.get("FilterExpression"):
            f = Parser(op["FilterExpression"], names, values)
            keep = f.condition()
            f.done()
        schema = self.schemas[TableName]
        m = re.match(r"\s*(#?\w+)\s*=\s*(:\w+)", KeyConditionExpression)
        if not m or names.get(m[1], m[1]) != schema[0] or m[2] not in values:
            raise error(
                "ValidationException", "Query key condition must be an equality on the hash key", "Query"
            )
        part = next(iter(values[m[2]].items()))
        matched = [i for i in rows.partitions.get(part, {}).values() if key_condition(i)]
        if len(schema) > 1:
            matched.sort(
                key=lambda i: next(iter(i[schema[1]].values())), reverse=op.get("ScanIndexForward") is False
            )
        items = [dict(i) for i in matched if keep is None or keep(i)]
        return {"Items": items, "Count": len(items), "ScannedCount": len(matched)}

    def get_item(self, TableName: str, Key: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._count("GetItem")
        item = self._table(TableName, "GetItem").get(self._key(TableName, Key, "GetItem"))
        return {"Item": dict(item)} if item is not None else {}

    def expire(self, now_s: int, attribute: str = "expires_at") -> int:
        """DynamoDB's TTL deletion: drop items whose ``attribute`` (epoch seconds) is past."""
        dropped = 0
        for rows in self.tables.values():
            for key in [
                k for k, item in rows.items() if attribute in item and int(item[attribute]["N"]) < now_s
            ]:
                del rows[key]
                dropped += 1
        return dropped

    def __len__(self) -> int:
        return sum(len(rows) for rows in self.tables.values())

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"DynamoDB {name} is not implemented in memaws")
