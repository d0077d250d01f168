"""DynamoDB capacity, computed the way AWS documents it, for calls made to memaws's in-memory table.

``Metered(MemoryDynamoDB(...))`` forwards every call and, before it runs, prices it from the
items as they are: AWS's "Capacity unit consumption for write operations" (DynamoDB Developer
Guide, read-write-operations):

* a write costs one write request unit (WRU) per started 1 KB of the item; PutItem and UpdateItem
  are charged on the *larger* of the item before and after the write (an update of one attribute
  costs the whole item), DeleteItem on the deleted item; a write whose condition fails still
  consumes capacity (priced here like the write it would have been);
* a write inside TransactWriteItems costs twice that (two units per started KB); a ConditionCheck
  in a transaction is priced as a transactional write of the checked item;
* BatchWriteItem prices each request as its own PutItem/DeleteItem;
* reads cost one read request unit (RRU) per started 4 KB strongly consistent, half that
  eventually consistent; BatchGetItem rounds each item separately; a key that is absent costs
  the minimum (one 4 KB unit).

Item size is memaws's ``item_size`` (attribute names plus values, as DynamoDB counts them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from wizwatch_tools.lake.memaws import MemoryDynamoDB, item_size


def _wru(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def _rru(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


@dataclass
class Usage:
    wru: float = 0.0
    rru: float = 0.0
    items_written: int = 0
    transactions: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    #: WRU by the item's kind: the first letter of its ``pk`` (w window, e marker, x signal...)
    wru_by_kind: dict[str, float] = field(default_factory=dict)


class Metered:
    """A MemoryDynamoDB that keeps a running :class:`Usage`."""

    def __init__(self, inner: MemoryDynamoDB) -> None:
        self.inner = inner
        self.usage = Usage()

    def reset(self) -> Usage:
        usage, self.usage = self.usage, Usage()
        return usage

    def _current(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        rows = self.inner.tables[table]
        return rows.get(self.inner._key(table, key, "meter"))

    def _write_cost(self, table: str, kind: str, op: dict[str, Any], factor: int = 1) -> int:
        key = op["Item"] if kind == "Put" else op["Key"]
        before = self._current(table, key)
        before_size = item_size(before) if before else 0
        if kind == "Put":
            cost = _wru(max(before_size, item_size(op["Item"])))
        elif kind in ("Delete", "ConditionCheck"):
            cost = _wru(before_size)
        else:
            _, after = self.inner._apply(table, "Update", {"TableName": table, **op}, "meter")
            cost = _wru(max(before_size, item_size(after or {})))
        cost *= factor
        pk = str(next(iter(key["pk"].values())))
        kind_of = pk.split("#", 1)[0]
        self.usage.wru_by_kind[kind_of] = self.usage.wru_by_kind.get(kind_of, 0) + cost
        return cost

    def _call(self, name: str) -> None:
        self.usage.calls[name] = self.usage.calls.get(name, 0) + 1

    # -- writes
    def put_item(self, **op: Any) -> Any:
        self._call("PutItem")
        self.usage.wru += self._write_cost(op["TableName"], "Put", op)
        self.usage.items_written += 1
        return self.inner.put_item(**op)

    def update_item(self, **op: Any) -> Any:
        self._call("UpdateItem")
        self.usage.wru += self._write_cost(op["TableName"], "Update", op)
        self.usage.items_written += 1
        return self.inner.update_item(**op)

    def delete_item(self, **op: Any) -> Any:
        self._call("DeleteItem")
        self.usage.wru += self._write_cost(op["TableName"], "Delete", op)
        self.usage.items_written += 1
        return self.inner.delete_item(**op)

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **kw: Any) -> Any:
        self._call("TransactWriteItems")
        self.usage.transactions += 1
        for entry in TransactItems:
            ((kind, op),) = entry.items()
            self.usage.wru += self._write_cost(op["TableName"], kind, op, 2)
            if kind != "ConditionCheck":
                self.usage.items_written += 1
        return self.inner.transact_write_items(TransactItems=TransactItems, **kw)

    def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]], **kw: Any) -> Any:
        self._call("BatchWriteItem")
        for table, requests in RequestItems.items():
            for request in requests:
                ((kind, op),) = request.items()
                self.usage.wru += self._write_cost(table, "Put" if kind == "PutRequest" else "Delete", op)
                self.usage.items_written += 1
        return self.inner.batch_write_item(RequestItems=RequestItems, **kw)

    # -- reads
    def batch_get_item(self, RequestItems: dict[str, Any], **kw: Any) -> Any:
        self._call("BatchGetItem")
        for table, request in RequestItems.items():
            consistent = bool(request.get("ConsistentRead"))
            for key in request["Keys"]:
                item = self._current(table, key)
                self.usage.rru += _rru(item_size(item) if item else 0, consistent)
        return self.inner.batch_get_item(RequestItems=RequestItems, **kw)

    def get_item(self, TableName: str, Key: dict[str, Any], **kw: Any) -> Any:
        self._call("GetItem")
        item = self._current(TableName, Key)
        self.usage.rru += _rru(item_size(item) if item else 0, bool(kw.get("ConsistentRead")))
        return self.inner.get_item(TableName=TableName, Key=Key, **kw)

    def query(self, **op: Any) -> Any:
        self._call("Query")
        resp = self.inner.query(**op)
        # A query is priced on the total size of the items it read (before any filter).
        size = sum(item_size(i) for i in resp.get("Items", []))
        self.usage.rru += _rru(size, bool(op.get("ConsistentRead")))
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
