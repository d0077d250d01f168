"""In-memory S3, SQS and DynamoDB clients, so the detector's own code runs without AWS.

``wizwatch replay`` (and the benchmark of the detector's path) hand these to
:class:`wizwatch.alerts.detector.Detector` and :class:`wizwatch.dedup.store.DedupStore` in place
of boto3 clients: same method names, same request and response shapes, same errors
(``botocore.exceptions.ClientError`` with AWS's codes and, for cancelled transactions,
``CancellationReasons``).

Why not moto in-process: every call would go through botocore's serialisation and moto's
parsing, and moto deep-copies the whole table once per item of a transaction (see
``bench/detector.py``), so a month of replay would slow down as its dedup table grows. Here a
call is a dictionary operation, and the dedup table stays as small as in DynamoDB: items whose
``expires_at`` has passed are swept (what DynamoDB's TTL does; the store never relies on
either, every condition compares the time itself).

Only what the detector uses is implemented, and strictly: condition and update expressions are
parsed and evaluated by DynamoDB's grammar (comparisons, BETWEEN, IN, AND/OR/NOT, parentheses,
``attribute_exists``/``attribute_not_exists``/``begins_with``/``contains``/``size``; SET with
``+``/``-``/``if_not_exists``, REMOVE, ADD of numbers) on top-level attributes; DynamoDB's limits
that the store designs around are enforced (100 items and one operation per item in a
transaction, 400 KB per item, 100 keys per BatchGetItem, no duplicate keys). Anything else raises
``NotImplementedError`` naming it, so a change in the store fails loudly rather than replaying
differently. ``tests/unit/lake/test_memaws.py`` runs the same store scenarios on moto and here.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

MAX_ITEM_BYTES = 400 * 1024
MAX_TX_ITEMS = 100
MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE = 25
_QUERY_OPTIONS = {
    "FilterExpression",
    "ExpressionAttributeValues",
    "ExpressionAttributeNames",
    "ConsistentRead",
    "ScanIndexForward",
    "ExclusiveStartKey",
}
SQS_MAX_BATCH = 10
SQS_MAX_BYTES = 262_144


def _error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": message}, **extra}
    return ClientError(response, operation)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------- expressions

_TOKEN = re.compile(
    r"\s*(?:(?P<op><>|<=|>=|=|<|>|\(|\)|,|\+|-|\.|\[|\])|(?P<name>#[A-Za-z0-9_]+)"
    r"|(?P<value>:[A-Za-z0-9_]+)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}


@functools.lru_cache(maxsize=256)
def _tokens(expr: str) -> tuple[tuple[str, str], ...]:
    """The tokens of an expression (the store sends the same few expressions over and over)."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expr):
        if expr[pos:].strip() == "":
            break
        m = _TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise _error(
                "ValidationException", f"Invalid expression: syntax error near {expr[pos:]!r}", "Expr"
            )
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "word" and text.upper() in _KEYWORDS:
            kind, text = "kw", text.upper()
        out.append((kind, text))
        pos = m.end()
    return tuple(out)


class _Parser:
    """Recursive descent over DynamoDB's condition/update grammar, top-level attributes only."""

    def __init__(self, expr: str, names: dict[str, str], values: dict[str, Any]) -> None:
        self.toks = _tokens(expr)
        self.i = 0
        self.names = names
        self.values = values
        self.used_values: set[str] = set()

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.toks[j] if j < len(self.toks) else ("end", "")

    def take(self, text: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if text is not None and tok[1] != text:
            raise _error(
                "ValidationException", f"Invalid expression: expected {text!r}, got {tok[1]!r}", "Expr"
            )
        self.i += 1
        return tok

    def done(self) -> None:
        if self.peek()[0] != "end":
            raise _error("ValidationException", f"Invalid expression: unexpected {self.peek()[1]!r}", "Expr")

    # -- operands: a closure item -> AttributeValue | None
    def path(self) -> str:
        kind, text = self.take()
        if kind == "name":
            if text not in self.names:
                raise _error(
                    "ValidationException", f"An expression attribute name is undefined: {text}", "Expr"
                )
            name = self.names[text]
        elif kind == "word":
            name = text
        else:
            raise _error("ValidationException", f"Invalid expression: expected a path, got {text!r}", "Expr")
        if self.peek()[1] in (".", "["):
            raise NotImplementedError("nested attribute paths are not implemented in memaws")
        return name

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, text = self.peek()
        if kind == "value":
            self.take()
            if text not in self.values:
                raise _error(
                    "ValidationException", f"An expression attribute value is undefined: {text}", "Expr"
                )
            self.used_values.add(text)
            value = self.values[text]
            return lambda item: value
        if kind == "word" and self.peek(1)[1] == "(":
            fn = text.lower()
            self.take()
            self.take("(")
            if fn == "size":
                name = self.path()
                self.take(")")
                return lambda item: _size(item.get(name))
            if fn == "if_not_exists":
                name = self.path()
                self.take(",")
                default = self.operand()
                self.take(")")
                return lambda item: item[name] if name in item else default(item)
            raise NotImplementedError(f"function {text}() in an operand is not implemented in memaws")
        name = self.path()
        return lambda item: item.get(name)

    # -- conditions: a closure item -> bool
    def condition(self) -> Callable[[dict[str, Any]], bool]:
        left = self.conjunction()
        while self.peek() == ("kw", "OR"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda item: a(item) or b(item))(left, right)
        return left

    def conjunction(self) -> Callable[[dict[str, Any]], bool]:
        left = self.negation()
        while self.peek() == ("kw", "AND"):
            self.take()
            right = self.negation()
            left = (lambda a, b: lambda item: a(item) and b(item))(left, right)
        return left

    def negation(self) -> Callable[[dict[str, Any]], bool]:
        if self.peek() == ("kw", "NOT"):
            self.take()
            inner = self.negation()
            return lambda item: not inner(item)
        return self.primary()

    def primary(self) -> Callable[[dict[str, Any]], bool]:
        kind, text = self.peek()
        if text == "(":
            self.take()
            inner = self.condition()
            self.take(")")
            return inner
        if kind == "word" and self.peek(1)[1] == "(" and text.lower() != "size":
            return self.function()
        left = self.operand()
        kind, text = self.peek()
        if text in ("=", "<>", "<", "<=", ">", ">="):
            self.take()
            right = self.operand()
            return lambda item: _compare(text, left(item), right(item))
        if (kind, text) == ("kw", "BETWEEN"):
            self.take()
            lo = self.operand()
            self.take("AND")
            hi = self.operand()
            return lambda item: _compare(">=", left(item), lo(item)) and _compare("<=", left(item), hi(item))
        if (kind, text) == ("kw", "IN"):
            self.take()
            self.take("(")
            options = [self.operand()]
            while self.peek()[1] == ",":
                self.take()
                options.append(self.operand())
            self.take(")")
            return lambda item: any(_compare("=", left(item), o(item)) for o in options)
        raise _error(
            "ValidationException", f"Invalid expression: expected a comparison, got {text!r}", "Expr"
        )

    def function(self) -> Callable[[dict[str, Any]], bool]:
        fn = self.take()[1].lower()
        self.take("(")
        if fn in ("attribute_exists", "attribute_not_exists"):
            name = self.path()
            self.take(")")
            return (
                (lambda item: name in item) if fn == "attribute_exists" else (lambda item: name not in item)
            )
        if fn in ("begins_with", "contains"):
            name = self.path()
            self.take(",")
            arg = self.operand()
            self.take(")")
            if fn == "begins_with":
                return lambda item: _begins_with(item.get(name), arg(item))
            return lambda item: _contains(item.get(name), arg(item))
        raise NotImplementedError(f"condition function {fn}() is not implemented in memaws")

    # -- update expressions: a list of (action, name, closure)
    def update(self) -> list[tuple[str, str, Callable[[dict[str, Any]], Any] | None]]:
        actions: list[tuple[str, str, Callable[[dict[str, Any]], Any] | None]] = []
        seen_clauses: set[str] = set()
        while self.peek()[0] != "end":
            kind, clause = self.take()
            if kind != "kw" or clause not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise _error("ValidationException", f"Invalid UpdateExpression near {clause!r}", "Expr")
            if clause in seen_clauses:
                raise _error("ValidationException", f"The {clause} section can only be used once", "Expr")
            seen_clauses.add(clause)
            if clause == "DELETE":
                raise NotImplementedError("UpdateExpression DELETE is not implemented in memaws")
            while True:
                name = self.path()
                if clause == "SET":
                    self.take("=")
                    value = self.operand()
                    if self.peek()[1] in ("+", "-"):
                        sign = self.take()[1]
                        other = self.operand()
                        value = (lambda a, b, s: lambda item: _arith(s, a(item), b(item)))(value, other, sign)
                    actions.append(("SET", name, value))
                elif clause == "ADD":
                    actions.append(("ADD", name, self.operand()))
                else:
                    actions.append(("REMOVE", name, None))
                if self.peek()[1] != ",":
                    break
                self.take()
        return actions


def _scalar(av: Any) -> tuple[str, Any] | None:
    if not isinstance(av, dict) or len(av) != 1:
        return None
    ((kind, value),) = av.items()
    if kind == "N":
        return kind, Decimal(value)
    if kind in ("S", "B", "BOOL", "NULL"):
        return kind, value
    return kind, value


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if op in ("=", "<>"):
        sa, sb = _scalar(a), _scalar(b)
        equal = sa == sb if sa and sb and sa[0] == "N" and sb[0] == "N" else a == b
        return equal if op == "=" else not equal
    sa, sb = _scalar(a), _scalar(b)
    if not sa or not sb or sa[0] != sb[0] or sa[0] not in ("N", "S", "B"):
        return False  # DynamoDB: ordering comparisons across types are false
    x, y = sa[1], sb[1]
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _begins_with(a: Any, b: Any) -> bool:
    sa, sb = _scalar(a), _scalar(b)
    return bool(sa and sb and sa[0] == sb[0] in ("S", "B") and sa[1].startswith(sb[1]))


def _contains(a: Any, b: Any) -> bool:
    sa, sb = _scalar(a), _scalar(b)
    if sa and sb and sa[0] == sb[0] == "S":
        return bool(sb[1] in sa[1])
    if isinstance(a, dict) and "L" in a:
        return b in a["L"]
    if isinstance(a, dict) and "SS" in a and isinstance(b, dict) and "S" in b:
        return b["S"] in a["SS"]
    return False


def _size(av: Any) -> Any:
    if not isinstance(av, dict):
        return None
    ((kind, value),) = av.items()
    n = (
        len(value.encode())
        if kind == "S"
        else len(value)
        if kind in ("B", "L", "M", "SS", "NS", "BS")
        else None
    )
    return None if n is None else {"N": str(n)}


def _arith(sign: str, a: Any, b: Any) -> Any:
    sa, sb = _scalar(a), _scalar(b)
    if not sa or not sb or sa[0] != "N" or sb[0] != "N":
        raise _error(
            "ValidationException", "An operand in the update expression has an incorrect data type", "Update"
        )
    return {"N": str(sa[1] + sb[1] if sign == "+" else sa[1] - sb[1])}


def _av_size(av: Any) -> int:
    ((kind, value),) = av.items()
    if kind == "S":
        return len(value.encode())
    if kind == "N":
        return len(value) // 2 + 2
    if kind == "B":
        return len(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _av_size(v) for v in value)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + _av_size(v) for k, v in value.items())
    if kind in ("SS", "NS", "BS"):
        return sum(len(str(v)) for v in value)
    return 0


def item_size(item: dict[str, Any]) -> int:
    """DynamoDB's item size: attribute names plus values (UTF-8, numbers ~1 byte/2 digits)."""
    return sum(len(name.encode()) + _av_size(av) for name, av in item.items())


# ---------------------------------------------------------------------------------- DynamoDB


class MemoryDynamoDB:
    """Tables as dicts of items in DynamoDB's wire format, keyed by their key attributes."""

    def __init__(self, tables: dict[str, tuple[str, ...]]) -> None:
        self.schemas = tables
        self.tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {t: {} for t in tables}
        self.calls: dict[str, int] = {}

    def _count(self, op: str) -> None:
        self.calls[op] = self.calls.get(op, 0) + 1

    def _table(self, name: str, op: str) -> dict[tuple[Any, ...], dict[str, Any]]:
        if name not in self.tables:
            raise _error("ResourceNotFoundException", f"Requested resource not found: {name}", op)
        return self.tables[name]

    def _key(self, table: str, item: dict[str, Any], op: str) -> tuple[Any, ...]:
        key = []
        for attr in self.schemas[table]:
            if attr not in item:
                raise _error("ValidationException", f"Missing the key {attr} in the item", op)
            key.append(next(iter(item[attr].items())))
        return tuple(key)

    def _check(self, table: str, current: dict[str, Any] | None, op: dict[str, Any], name: str) -> bool:
        expr = op.get("ConditionExpression")
        if not expr:
            return True
        parser = _Parser(
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
                raise _error(
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
        parser = _Parser(
            op["UpdateExpression"],
            op.get("ExpressionAttributeNames") or {},
            op.get("ExpressionAttributeValues") or {},
        )
        actions = parser.update()
        parser.done()
        before = dict(current)
        for action, name, value in actions:
            if name in self.schemas[table]:
                raise _error(
                    "ValidationException", f"Cannot update attribute {name}: part of the key", operation
                )
            if action == "SET":
                current[name] = value(before) if value else None
            elif action == "REMOVE":
                current.pop(name, None)
            elif action == "ADD":
                added = value(before) if value else None
                current[name] = _arith("+", current.get(name, {"N": "0"}), added)
        if item_size(current) > MAX_ITEM_BYTES:
            raise _error(
                "ValidationException", "Item size to update has exceeded the maximum allowed size", operation
            )
        return key, current

    # -- the API
    def batch_get_item(self, RequestItems: dict[str, Any], **_: Any) -> dict[str, Any]:
        self._count("BatchGetItem")
        responses: dict[str, list[dict[str, Any]]] = {}
        total = sum(len(r.get("Keys", [])) for r in RequestItems.values())
        if total > MAX_BATCH_GET_KEYS:
            raise _error(
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
                raise _error(
                    "ValidationException", "Provided list of item keys contains duplicates", "BatchGetItem"
                )
            responses[table] = [dict(rows[k]) for k in keys if k in rows]
        return {"Responses": responses, "UnprocessedKeys": {}}

    def transact_write_items(self, TransactItems: list[dict[str, Any]], **_: Any) -> dict[str, Any]:
        self._count("TransactWriteItems")
        op_name = "TransactWriteItems"
        if not TransactItems or len(TransactItems) > MAX_TX_ITEMS:
            raise _error("ValidationException", "Member must have length between 1 and 100", op_name)
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
                raise _error(
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
            raise _error(
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
            raise _error(
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
            raise _error("ValidationException", "Member must have length between 1 and 25", "BatchWriteItem")
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
            raise _error(
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
        unknown = set(op) - _QUERY_OPTIONS
        if unknown:
            raise NotImplementedError(f"Query options {sorted(unknown)} are not implemented in memaws")
        rows = self._table(TableName, "Query")
        names = op.get("ExpressionAttributeNames") or {}
        values = op.get("ExpressionAttributeValues") or {}
        key_parser = _Parser(KeyConditionExpression, names, values)
        key_condition = key_parser.condition()
        key_parser.done()
        keep = None
        if op.get("FilterExpression"):
            f = _Parser(op["FilterExpression"], names, values)
            keep = f.condition()
            f.done()
        schema = self.schemas[TableName]
        m = re.match(r"\s*(#?\w+)\s*=\s*(:\w+)", KeyConditionExpression)
        if not m or names.get(m[1], m[1]) != schema[0] or m[2] not in values:
            raise _error(
                "ValidationException", "Query key condition must be an equality on the hash key", "Query"
            )
        part = next(iter(values[m[2]].items()))
        matched = [i for k, i in rows.items() if k[0] == part and key_condition(i)]
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


# ---------------------------------------------------------------------------------- S3 and SQS


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
            raise _error("NoSuchKey", "The specified key does not exist.", "GetObject")
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
            raise _error("NoSuchKey", "The specified key does not exist.", "CopyObject")
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
            raise _error(
                "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Too many entries", "SendMessageBatch"
            )
        if len({e["Id"] for e in Entries}) != len(Entries):
            raise _error(
                "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Ids not distinct", "SendMessageBatch"
            )
        if sum(len(e["MessageBody"].encode()) for e in Entries) > SQS_MAX_BYTES:
            raise _error(
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
