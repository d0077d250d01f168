"""A capacity meter: wraps a DynamoDB client and adds up the read and write request units
(RRU/WRU; on-demand billing uses the same units as provisioned RCU/WCU) every call consumes,
by the rules AWS documents:

* item size (developer guide, "DynamoDB item sizes and formats"): attribute name bytes plus the
  value: a string's UTF-8 bytes; a number ~1 byte per two significant digits + 1 byte (leading
  and trailing zeros trimmed); a binary value's raw bytes; null and Boolean 1 byte; a List or
  Map 3 bytes + its elements, each element 1 byte more (a Map element also its name); a set the
  sum of its elements.
* writes ("DynamoDB read and write operations"): the item size rounded up to the next 1 KB, one
  unit per KB. PutItem and UpdateItem count the larger of the item before and after the write
  (UpdateItem consumes the whole item even to change one attribute), DeleteItem the deleted item.
  A conditional write whose condition fails still consumes (the larger of the existing item and
  the one it would have written, at least 1 unit). BatchWriteItem: each item on its own.
* reads: the item size rounded up to the next 4 KB, one unit per 4 KB strongly consistent, half
  eventually consistent; reading an item that does not exist still consumes (1, or 0.5).
  BatchGetItem: each item on its own. Query: the items the key condition reads (before any
  FilterExpression), summed, then rounded up to 4 KB.
* transactions ("Capacity management for transactions"): 2x the units of the same item
  operation. A ConditionCheck is billed as a transactional write of the checked item (what the
  service reports; AWS's pages do not spell it out). A cancelled transaction is metered as if
  every item had been written (the service has done the prepare phase for each): an
  over-estimate rather than an under-estimate, and the bench reports cancellations beside it.

The before-image of a write is read without being metered (``peek``): from an in-memory client's
tables (:class:`wizwatch_tools.lake.memaws.MemoryDynamoDB`), else with a consistent GetItem. The
after-image of an update is computed by memaws (without storing it) or read back after the call.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

KB = 1024
READ_BLOCK = 4 * KB

Item = dict[str, Any]
Peek = Callable[[str, Item], Item | None]


# ---------------------------------------------------------------------------------- sizes


def number_bytes(text: str) -> int:
    """A number's stored size: 1 byte per two significant digits, plus 1 byte."""
    digits = str(Decimal(text).copy_abs().normalize()) if text.strip() else "0"
    if "E" in digits:  # normalize() writes large round numbers as 1E+3: the mantissa's digits
        digits = digits.split("E")[0]
    significant = digits.replace(".", "").lstrip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_bytes(av: dict[str, Any]) -> int:
    """The size of one AttributeValue (without its name)."""
    if not isinstance(av, dict) or len(av) != 1:
        raise ValueError(f"not a DynamoDB AttributeValue: {av!r}")
    ((kind, value),) = av.items()
    if kind == "S":
        return len(str(value).encode())
    if kind == "N":
        return number_bytes(str(value))
    if kind == "B":
        return len(value if isinstance(value, bytes | bytearray) else str(value).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_bytes(v) for v in value)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_bytes(v) for k, v in value.items())
    if kind == "SS":
        return sum(len(str(v).encode()) for v in value)
    if kind == "NS":
        return sum(number_bytes(str(v)) for v in value)
    if kind == "BS":
        return sum(len(v) for v in value)
    raise ValueError(f"unknown AttributeValue type {kind!r}")


def item_bytes(item: Item | None) -> int:
    """An item's size as DynamoDB counts it: attribute names plus values."""
    return sum(len(name.encode()) + value_bytes(av) for name, av in (item or {}).items())


def write_units(size: int) -> int:
    """Write units of one item: size rounded up to 1 KB (an absent or empty item still costs 1)."""
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    """Read units of one read: size rounded up to 4 KB (nothing found still costs one block)."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return float(blocks) if consistent else blocks / 2


# ---------------------------------------------------------------------------------- the meter


class CapacityMeter:
    """A DynamoDB client that forwards every call and meters it (``wru``, ``rru``, per operation)."""

    def __init__(self, client: Any, *, peek: Peek | None = None) -> None:
        self.client = client
        self._peek = peek or _default_peek(client)
        self.wru = 0.0
        self.rru = 0.0
        self.requests: dict[str, int] = {}
        self.units: dict[str, dict[str, float]] = {}
        self.condition_failures = 0  # failed conditional writes and cancelled transactions
        self.unmetered: dict[str, int] = {}

    def _add(self, op: str, *, wru: float = 0.0, rru: float = 0.0) -> None:
        self.wru += wru
        self.rru += rru
        per = self.units.setdefault(op, {"wru": 0.0, "rru": 0.0})
        per["wru"] += wru
        per["rru"] += rru

    def _count(self, op: str) -> None:
        self.requests[op] = self.requests.get(op, 0) + 1

    def _item_written(self, kind: str, key: Item, units: float) -> None:
        """One item of a write was billed ``units`` (``key``: its key or whole item): a hook for
        meters that break the units down further (the tests' :class:`Metered`)."""

    def summary(self) -> dict[str, Any]:
        return {
            "wru": self.wru,
            "rru": self.rru,
            "requests": dict(sorted(self.requests.items())),
            "units_by_operation": {k: dict(v) for k, v in sorted(self.units.items())},
            "condition_failures": self.condition_failures,
            "unmetered": dict(self.unmetered),
        }

    # -- images
    def _after_update(self, table: str, op: Item) -> Item | None:
        """The item an UpdateItem would leave, when the client can compute it without storing."""
        apply = getattr(self.client, "_apply", None)
        if apply is None:
            return None
        try:
            _key, new = apply(table, "Update", {"TableName": table, **op}, "Meter")
        except ClientError:
            return None
        return dict(new) if new is not None else None

    def _write_size(self, kind: str, table: str, op: Item) -> tuple[int, bool]:
        """(size that the write is billed on, whether the after-image must be read back)."""
        key = op["Item"] if kind == "Put" else op["Key"]
        before = item_bytes(self._peek(table, key))
        if kind == "Put":
            return max(before, item_bytes(op["Item"])), False
        if kind == "Update":
            after = self._after_update(table, op)
            if after is None:
                return before, True
            return max(before, item_bytes(after)), False
        return before, False  # Delete, ConditionCheck: the item as it is

    # -- single-item writes
    def _single(self, kind: str, operation: str, **op: Any) -> Any:
        self._count(operation)
        table = op["TableName"]
        size, read_back = self._write_size(kind, table, op)
        key = op["Item"] if kind == "Put" else op["Key"]
        try:
            response = getattr(self.client, _method(operation))(**op)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                self.condition_failures += 1
                self._item_written(kind, key, write_units(size))
                self._add(operation, wru=write_units(size))
            raise
        if read_back:
            size = max(size, item_bytes(self._peek(table, op["Key"])))
        self._item_written(kind, key, write_units(size))
        self._add(operation, wru=write_units(size))
        return response

    def put_item(self, **op: Any) -> Any:
        return self._single("Put", "PutItem", **op)

    def update_item(self, **op: Any) -> Any:
        return self._single("Update", "UpdateItem", **op)

    def delete_item(self, **op: Any) -> Any:
        return self._single("Delete", "DeleteItem", **op)

    def batch_write_item(self, RequestItems: dict[str, list[Item]], **rest: Any) -> Any:
        self._count("BatchWriteItem")
        planned: list[tuple[str, str, Item, int]] = []
        for table, requests in RequestItems.items():
            for request in requests:
                ((kind, op),) = request.items()
                if kind == "PutRequest":
                    before = item_bytes(self._peek(table, op["Item"]))
                    planned.append(
                        (table, "Put", op["Item"], write_units(max(before, item_bytes(op["Item"]))))
                    )
                else:
                    planned.append(
                        (table, "Delete", op["Key"], write_units(item_bytes(self._peek(table, op["Key"]))))
                    )
        response = self.client.batch_write_item(RequestItems=RequestItems, **rest)
        # Unprocessed items were not written: not consumed (the retry pays for them).
        skipped = {
            (table, _key_id(next(iter(op.values()))))  # the request's Item or Key, as sent
            for table, requests in (response.get("UnprocessedItems") or {}).items()
            for op in (next(iter(request.values())) for request in requests)
        }
        units = 0
        for table, kind, key, item_units in planned:
            if (table, _key_id(key)) not in skipped:
                self._item_written(kind, key, item_units)
                units += item_units
        self._add("BatchWriteItem", wru=units)
        return response

    def transact_write_items(self, TransactItems: list[Item], **rest: Any) -> Any:
        self._count("TransactWriteItems")
        planned: list[tuple[str, str, Item, int, bool]] = []
        for entry in TransactItems:
            ((kind, op),) = entry.items()
            size, read_back = self._write_size(kind, op["TableName"], op)
            planned.append((kind, op["TableName"], op, size, read_back))
        try:
            response = self.client.transact_write_items(TransactItems=TransactItems, **rest)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                self.condition_failures += 1
                for kind, _, op, size, _ in planned:
                    self._item_written(kind, op.get("Item") or op["Key"], 2 * write_units(size))
                self._add("TransactWriteItems", wru=sum(2 * write_units(s) for _, _, _, s, _ in planned))
            raise
        units = 0
        for kind, table, op, size, read_back in planned:
            if read_back:
                size = max(size, item_bytes(self._peek(table, op["Key"])))
            self._item_written(kind, op.get("Item") or op["Key"], 2 * write_units(size))
            units += 2 * write_units(size)
        self._add("TransactWriteItems", wru=units)
        return response

    # -- reads
    def get_item(self, **op: Any) -> Any:
        self._count("GetItem")
        response = self.client.get_item(**op)
        consistent = bool(op.get("ConsistentRead"))
        self._add("GetItem", rru=read_units(item_bytes(response.get("Item")), consistent=consistent))
        return response

    def batch_get_item(self, RequestItems: dict[str, Item], **rest: Any) -> Any:
        self._count("BatchGetItem")
        response = self.client.batch_get_item(RequestItems=RequestItems, **rest)
        unprocessed = response.get("UnprocessedKeys") or {}
        units = 0.0
        for table, request in RequestItems.items():
            consistent = bool(request.get("ConsistentRead"))
            skipped = {_key_id(k) for k in (unprocessed.get(table) or {}).get("Keys", [])}
            for key in request["Keys"]:
                if _key_id(key) in skipped:
                    continue
                units += read_units(item_bytes(self._peek(table, key)), consistent=consistent)
        self._add("BatchGetItem", rru=units)
        return response

    def query(self, **op: Any) -> Any:
        self._count("Query")
        read = op
        if op.get("FilterExpression"):  # billed on what the key condition read, before filtering
            read = {k: v for k, v in op.items() if k != "FilterExpression"}
            names = _used(read, "ExpressionAttributeNames")
            values = _used(read, "ExpressionAttributeValues")
            read = {**read, "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
            read = {k: v for k, v in read.items() if v != {}}
            scanned = self.client.query(**read)
        response = self.client.query(**op)
        if read is op:
            scanned = response
        size = sum(item_bytes(i) for i in scanned.get("Items", []))
        self._add("Query", rru=read_units(size, consistent=bool(op.get("ConsistentRead"))))
        return response

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if callable(attr):
            self.unmetered[name] = self.unmetered.get(name, 0) + 1
        return attr


def _method(operation: str) -> str:
    return {"PutItem": "put_item", "UpdateItem": "update_item", "DeleteItem": "delete_item"}[operation]


def _key_id(key: Item) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, repr(v)) for k, v in key.items()))


def _used(op: Item, field: str) -> dict[str, Any]:
    """Placeholders of ``field`` still used once the FilterExpression is dropped."""
    text = " ".join(str(op.get(k) or "") for k in ("KeyConditionExpression", "ProjectionExpression"))
    return {k: v for k, v in (op.get(field) or {}).items() if k in text}


def _default_peek(client: Any) -> Peek:
    tables = getattr(client, "tables", None)
    key_of = getattr(client, "_key", None)
    if isinstance(tables, dict) and key_of is not None:  # memaws: read its dict

        def peek_memory(table: str, key: Item) -> Item | None:
            found = tables.get(table, {}).get(key_of(table, key, "Meter"))
            return dict(found) if found is not None else None

        return peek_memory

    def peek_client(table: str, key: Item) -> Item | None:
        schema_key = {k: key[k] for k in _key_names(client, table, key)}
        item: Item | None = client.get_item(TableName=table, Key=schema_key, ConsistentRead=True).get("Item")
        return item

    return peek_client


_KEY_NAMES: dict[tuple[int, str], list[str]] = {}


def _key_names(client: Any, table: str, key: Item) -> list[str]:
    """The table's key attributes (DescribeTable, once per table) to cut an item down to its key."""
    cache = (id(client), table)
    if cache not in _KEY_NAMES:
        schema = client.describe_table(TableName=table)["Table"]["KeySchema"]
        _KEY_NAMES[cache] = [k["AttributeName"] for k in schema]
    return [k for k in _KEY_NAMES[cache] if k in key]
