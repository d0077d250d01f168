"""DynamoDB's condition and update expressions, item sizes and the limits memaws enforces.

Parsed and evaluated by DynamoDB's grammar on top-level attributes (see the package docstring).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

MAX_ITEM_BYTES = 400 * 1024
MAX_TX_ITEMS = 100
MAX_BATCH_GET_KEYS = 100
MAX_BATCH_WRITE = 25
QUERY_OPTIONS = {
    "FilterExpression",
    "ExpressionAttributeValues",
    "ExpressionAttributeNames",
    "ConsistentRead",
    "ScanIndexForward",
    "ExclusiveStartKey",
}
SQS_MAX_BATCH = 10
SQS_MAX_BYTES = 262_144


def error(code: str, message: str, operation: str, **extra: Any) -> ClientError:
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
            raise error(
                "ValidationException", f"Invalid expression: syntax error near {expr[pos:]!r}", "Expr"
            )
        kind = m.lastgroup or ""
        text = m.group(kind)
        if kind == "word" and text.upper() in _KEYWORDS:
            kind, text = "kw", text.upper()
        out.append((kind, text))
        pos = m.end()
    return tuple(out)


class Parser:
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
            raise error(
                "ValidationException", f"Invalid expression: expected {text!r}, got {tok[1]!r}", "Expr"
            )
        self.i += 1
        return tok

    def done(self) -> None:
        if self.peek()[0] != "end":
            raise error("ValidationException", f"Invalid expression: unexpected {self.peek()[1]!r}", "Expr")

    # -- operands: a closure item -> AttributeValue | None
    def path(self) -> str:
        kind, text = self.take()
        if kind == "name":
            if text not in self.names:
                raise error(
                    "ValidationException", f"An expression attribute name is undefined: {text}", "Expr"
                )
            name = self.names[text]
        elif kind == "word":
            name = text
        else:
            raise error("ValidationException", f"Invalid expression: expected a path, got {text!r}", "Expr")
        if self.peek()[1] in (".", "["):
            raise NotImplementedError("nested attribute paths are not implemented in memaws")
        return name

    def operand(self) -> Callable[[dict[str, Any]], Any]:
        kind, text = self.peek()
        if kind == "value":
            self.take()
            if text not in self.values:
                raise error(
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
        raise error("ValidationException", f"Invalid expression: expected a comparison, got {text!r}", "Expr")

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
                raise error("ValidationException", f"Invalid UpdateExpression near {clause!r}", "Expr")
            if clause in seen_clauses:
                raise error("ValidationException", f"The {clause} section can only be used once", "Expr")
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
                        value = (lambda a, b, s: lambda item: arith(s, a(item), b(item)))(value, other, sign)
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


def arith(sign: str, a: Any, b: Any) -> Any:
    sa, sb = _scalar(a), _scalar(b)
    if not sa or not sb or sa[0] != "N" or sb[0] != "N":
        raise error(
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
