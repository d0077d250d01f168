"""DynamoDB capacity for calls made to memaws's in-memory table, as the tests break it down.

``Metered(MemoryDynamoDB(...))`` is the bench's :class:`~wizwatch_tools.bench.capacity.CapacityMeter`
(AWS's documented pricing: item sizes, 1 KB write and 4 KB read units, twice for a transaction, a
failed conditional write still consuming) keeping, besides, a resettable :class:`Usage`: the items
written, the transactions and the write units by the item's kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizwatch_tools.bench.capacity import CapacityMeter
from wizwatch_tools.lake.memaws import MemoryDynamoDB


@dataclass
class Usage:
    wru: float = 0.0
    rru: float = 0.0
    items_written: int = 0
    transactions: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    #: WRU by the item's kind: the first letter of its ``pk`` (w window, e marker, x signal...)
    wru_by_kind: dict[str, float] = field(default_factory=dict)


class Metered(CapacityMeter):
    """A MemoryDynamoDB that keeps a running :class:`Usage`."""

    def __init__(self, inner: MemoryDynamoDB) -> None:
        super().__init__(inner)
        self.inner = inner
        self.usage = Usage()

    def reset(self) -> Usage:
        usage, self.usage = self.usage, Usage()
        return usage

    def _count(self, op: str) -> None:
        super()._count(op)
        self.usage.calls[op] = self.usage.calls.get(op, 0) + 1
        if op == "TransactWriteItems":
            self.usage.transactions += 1

    def _add(self, op: str, *, wru: float = 0.0, rru: float = 0.0) -> None:
        super()._add(op, wru=wru, rru=rru)
        self.usage.wru += wru
        self.usage.rru += rru

    def _item_written(self, kind: str, key: dict[str, Any], units: float) -> None:
        if kind != "ConditionCheck":
            self.usage.items_written += 1
        kind_of = str(next(iter(key["pk"].values()))).split("#", 1)[0]
        self.usage.wru_by_kind[kind_of] = self.usage.wru_by_kind.get(kind_of, 0) + units
