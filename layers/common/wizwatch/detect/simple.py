"""Panther simple detections (``Detection:`` / ``InlineFilters:``) compiled to Python closures.

A list of match expressions is ANDed. Each expression is compiled once at load time into a
closure over the raw event dict (case-insensitive keys, exact key first), so evaluating a rule
costs a few dict lookups. The compiler also reports *index terms* (top-level ``Equals``/``IsIn``
on one key) so the engine can skip rules whose key value cannot match.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Predicate = Callable[[Any], bool]

_MISSING = object()


class DetectionSyntaxError(ValueError):
    """A match expression that cannot be compiled; the message says which part and why."""


def ci_get(d: Any, key: str) -> Any:
    """``d[key]`` with Panther's case-insensitive fallback; _MISSING when absent or not a dict."""
    if not isinstance(d, dict):
        return _MISSING
    if key in d:
        return d[key]
    low = key.lower()
    for k, v in d.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return _MISSING


def _path_getter(keys: list[str]) -> Callable[[Any], Any]:
    if len(keys) == 1:
        k = keys[0]

        def one(d: Any) -> Any:
            if type(d) is dict and k in d:
                return d[k]
            return ci_get(d, k)

        return one

    def many(d: Any) -> Any:
        for k in keys:
            d = ci_get(d, k)
            if d is _MISSING:
                return _MISSING
        return d

    return many


_KP_PART = re.compile(r"([^.\[\]]+)|\[(\*|\d+)\]")


def _keypath_getter(path: str) -> Callable[[Any], list[Any]]:
    """JSONPath-like ``a.b[*].c`` / ``a[0].b``: every value found (a list, maybe empty)."""
    steps: list[tuple[str, str]] = []
    for m in _KP_PART.finditer(path.lstrip("$.")):
        if m.group(1) is not None:
            steps.append(("key", m.group(1)))
        else:
            steps.append(("idx", m.group(2)))
    if not steps:
        raise DetectionSyntaxError(f"empty KeyPath {path!r}")

    def get(d: Any) -> list[Any]:
        current = [d]
        for kind, arg in steps:
            nxt: list[Any] = []
            for node in current:
                if kind == "key":
                    v = ci_get(node, arg)
                    if v is not _MISSING:
                        nxt.append(v)
                elif isinstance(node, list):
                    if arg == "*":
                        nxt.extend(node)
                    elif int(arg) < len(node):
                        nxt.append(node[int(arg)])
            current = nxt
        return current

    return get


def _num(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def _ip(v: Any) -> Any:
    if not isinstance(v, str):
        return None
    try:
        return ipaddress.ip_address(v)
    except ValueError:
        return None


def _condition(cond: str, value: Any, values: Any) -> Callable[[Any], bool]:
    """A test on the value found at the key (``_MISSING`` when absent)."""
    c = cond.replace("OrEqualTo", "OrEquals").replace("OrEqual", "OrEquals").replace("OrEqualss", "OrEquals")
    if c in ("Equals", "DoesNotEqual"):
        pos: Callable[[Any], bool] = lambda v: v is not _MISSING and v == value  # noqa: E731
    elif c in ("IEquals", "IDoesNotEqual"):
        low = str(value).lower()
        pos = lambda v: isinstance(v, str) and v.lower() == low  # noqa: E731
    elif c in ("StartsWith", "DoesNotStartWith"):
        pos = lambda v: isinstance(v, str) and v.startswith(str(value))  # noqa: E731
    elif c in ("IStartsWith", "IDoesNotStartWith"):
        low = str(value).lower()
        pos = lambda v: isinstance(v, str) and v.lower().startswith(low)  # noqa: E731
    elif c in ("EndsWith", "DoesNotEndWith"):
        pos = lambda v: isinstance(v, str) and v.endswith(str(value))  # noqa: E731
    elif c in ("IEndsWith", "IDoesNotEndWith"):
        low = str(value).lower()
        pos = lambda v: isinstance(v, str) and v.lower().endswith(low)  # noqa: E731
    elif c in ("Contains", "DoesNotContain"):
        pos = lambda v: (isinstance(v, str) and str(value) in v) or (isinstance(v, list) and value in v)  # noqa: E731
    elif c in ("IContains", "IDoesNotContain"):
        low = str(value).lower()
        pos = lambda v: _icontains(v, low)  # noqa: E731
    elif c in ("IsIn", "IsNotIn"):
        if not isinstance(values, list):
            raise DetectionSyntaxError(f"{cond} needs Values: a list")
        try:
            vs: Any = frozenset(values)
        except TypeError:
            vs = list(values)
        pos = lambda v: v is not _MISSING and _safe_in(v, vs)  # noqa: E731
    elif c in ("Exists", "DoesNotExist"):
        pos = lambda v: v is not _MISSING  # noqa: E731
    elif c in ("IsNull", "IsNotNull"):
        pos = lambda v: v is None  # noqa: E731
        if c == "IsNotNull":
            return lambda v: v is not _MISSING and v is not None
        return lambda v: v is _MISSING or v is None
    elif c in ("IsNullOrEmpty", "IsNotNullOrEmpty"):
        pos = lambda v: v is _MISSING or v is None or v == "" or v == [] or v == {}  # noqa: E731
    elif c in ("IsGreaterThan", "IsGreaterThanOrEquals", "IsLessThan", "IsLessThanOrEquals"):
        ref = _num(value)
        if ref is None:
            raise DetectionSyntaxError(f"{cond} needs a numeric Value, got {value!r}")
        op = {
            "IsGreaterThan": lambda a: a > ref,
            "IsGreaterThanOrEquals": lambda a: a >= ref,
            "IsLessThan": lambda a: a < ref,
            "IsLessThanOrEquals": lambda a: a <= ref,
        }[c]
        return lambda v: (n := _num(v)) is not None and op(n)
    elif c == "IsIPAddress":
        return lambda v: _ip(v) is not None
    elif c == "IsIPAddressPublic":
        return lambda v: (a := _ip(v)) is not None and a.is_global
    elif c == "IsIPAddressPrivate":
        return lambda v: (a := _ip(v)) is not None and a.is_private
    elif c in ("IsIPAddressInCIDR", "IsIPAddressNotInCIDR"):
        try:
            nets = [ipaddress.ip_network(n, strict=False) for n in (values or [value])]
        except (ValueError, TypeError) as exc:
            raise DetectionSyntaxError(f"{cond}: bad CIDR ({exc})") from None
        pos = lambda v: (a := _ip(v)) is not None and any(a in n for n in nets)  # noqa: E731
    else:
        raise DetectionSyntaxError(f"unknown Condition {cond!r}")
    if c.startswith(("DoesNot", "IDoesNot", "IsNot", "IsIPAddressNot")) or c == "IsNotNullOrEmpty":
        return lambda v: not pos(v)
    return pos


def _icontains(v: Any, low: str) -> bool:
    if isinstance(v, str):
        return low in v.lower()
    return isinstance(v, list) and any(isinstance(x, str) and x.lower() == low for x in v)


def _safe_in(v: Any, vs: Any) -> bool:
    try:
        return v in vs
    except TypeError:
        return False


@dataclass
class Compiled:
    """A compiled list of expressions, and the index terms the engine may use."""

    predicate: Predicate
    index_terms: list[tuple[str, frozenset[Any]]] = field(default_factory=list)
    #: The top-level keys the predicate reads when it reads nothing else (plain ``Key`` tests on
    #: undotted keys, maybe combined): on an event holding each under its exact name, the answer
    #: depends on those values alone. None when the predicate reaches deeper or walks lists.
    keys: frozenset[str] | None = None


_COMBINATORS = ("All", "Any", "OnlyOne", "None")
_LIST_CONDS = ("AnyElement", "AllElements", "OnlyOneElement", "NoElement")


def compile_expressions(exprs: Any, where: str = "Detection") -> Compiled:
    """Compile a list of match expressions (ANDed)."""
    if isinstance(exprs, dict):
        exprs = [exprs]
    if not isinstance(exprs, list) or not exprs:
        raise DetectionSyntaxError(f"{where} must be a non-empty list of match expressions")
    preds = [compile_expression(e, f"{where}[{i}]") for i, e in enumerate(exprs)]
    terms = [t for e in exprs if (t := _index_term(e)) is not None]
    return Compiled(_and(preds), terms, _top_keys(exprs))


def _top_keys(exprs: list[Any]) -> frozenset[str] | None:
    """The keys of :attr:`Compiled.keys` for a compiled (valid) expression list, or None."""
    keys: set[str] = set()
    stack = list(exprs)
    while stack:
        expr = stack.pop()
        if (
            "AlwaysTrue" in expr
            or expr.get("Condition") in ("AlwaysTrue", "AlwaysFalse")
            or "AlwaysFalse" in expr
        ):
            continue
        combinator = next((c for c in _COMBINATORS if c in expr), None)
        if combinator is not None:
            stack.extend(expr[combinator])
            continue
        key = _top_key(expr)
        if key is None or expr.get("Condition") in _LIST_CONDS:
            return None
        keys.add(key)
    return frozenset(keys)


def all_of(preds: list[Predicate]) -> Predicate:
    """AND of predicates (public name for the runner)."""
    return _and(preds)


def _and(preds: list[Predicate]) -> Predicate:
    """AND of predicates without a generator per call (two or three terms are the common case)."""
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda d: a(d) and b(d)
    if len(preds) == 3:
        a, b, c = preds
        return lambda d: a(d) and b(d) and c(d)
    head, rest = preds[0], _and(preds[1:])
    return lambda d: head(d) and rest(d)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _top_key(expr: Any) -> str | None:
    """The top-level key an expression tests, for ``Key: k`` or a ``KeyPath`` that is just a name
    (Panther's InlineFilters use KeyPath; ``KeyPath: status`` reads exactly what ``Key: status``
    reads). None for dotted, indexed or deep keys."""
    if not isinstance(expr, dict):
        return None
    if "Key" in expr and "KeyPath" not in expr and "DeepKey" not in expr:
        key = expr["Key"]
        return key if isinstance(key, str) and key and "." not in key else None
    if "KeyPath" in expr and "Key" not in expr and "DeepKey" not in expr:
        path = expr["KeyPath"]
        return path if isinstance(path, str) and _PLAIN_KEY.fullmatch(path) else None
    return None


def _index_term(expr: Any) -> tuple[str, frozenset[Any]] | None:
    key = _top_key(expr)
    if key is None:
        return None
    cond = expr.get("Condition")
    try:
        if cond == "Equals" and isinstance(expr.get("Value"), str | int):
            return (key, frozenset([expr["Value"]]))
        values = expr.get("Values")
        if cond == "IsIn" and isinstance(values, list) and all(isinstance(v, str | int) for v in values):
            return (key, frozenset(values))
    except TypeError:
        return None
    return None


def compile_expression(expr: Any, where: str) -> Predicate:
    if not isinstance(expr, dict):
        raise DetectionSyntaxError(f"{where}: a match expression must be a mapping, got {expr!r}")
    if "AlwaysTrue" in expr or expr.get("Condition") == "AlwaysTrue":
        return lambda d: True
    if "AlwaysFalse" in expr or expr.get("Condition") == "AlwaysFalse":
        return lambda d: False
    for comb in _COMBINATORS:
        if comb in expr:
            subs = expr[comb]
            if not isinstance(subs, list) or not subs:
                raise DetectionSyntaxError(f"{where}.{comb}: needs a non-empty list")
            ps = tuple(compile_expression(s, f"{where}.{comb}[{i}]") for i, s in enumerate(subs))
            if comb == "All":
                return _and(list(ps))
            if comb == "Any":
                return lambda d: any(p(d) for p in ps)
            if comb == "OnlyOne":
                return lambda d: sum(1 for p in ps if p(d)) == 1
            return lambda d: not any(p(d) for p in ps)
    cond = expr.get("Condition")
    if not isinstance(cond, str):
        raise DetectionSyntaxError(f"{where}: missing Condition (or All/Any/OnlyOne/None)")
    n_keys = sum(1 for k in ("Key", "KeyPath", "DeepKey") if k in expr)
    if n_keys != 1:
        raise DetectionSyntaxError(f"{where}: needs exactly one of Key, KeyPath, DeepKey")
    if cond in _LIST_CONDS:
        return _list_condition(expr, cond, where)
    test = _condition(cond, expr.get("Value"), expr.get("Values"))
    if "KeyPath" in expr:
        many = _keypath_getter(str(expr["KeyPath"]))
        negative = cond.startswith(("DoesNot", "IDoesNot", "IsNot")) or cond == "DoesNotExist"

        def kp(d: Any) -> bool:
            found = many(d)
            if not found:
                return test(_MISSING)
            if negative:
                return all(test(v) for v in found)
            return any(test(v) for v in found)

        return kp
    keys = _keys(expr, where)
    get = _path_getter(keys)
    return lambda d: test(get(d))


def _keys(expr: dict[str, Any], where: str) -> list[str]:
    if "DeepKey" in expr:
        keys = expr["DeepKey"]
        if not isinstance(keys, list) or not keys:
            raise DetectionSyntaxError(f"{where}.DeepKey: needs a non-empty list of keys")
        return [str(k) for k in keys]
    key = expr["Key"]
    if not isinstance(key, str) or not key:
        raise DetectionSyntaxError(f"{where}.Key: needs a non-empty string")
    return key.split(".")


def _list_condition(expr: dict[str, Any], cond: str, where: str) -> Predicate:
    inner = expr.get("Expressions")
    if not isinstance(inner, list) or not inner:
        raise DetectionSyntaxError(f"{where}.Expressions: {cond} needs a non-empty list")
    sub = compile_expressions(inner, f"{where}.Expressions").predicate
    if "KeyPath" in expr:
        many = _keypath_getter(str(expr["KeyPath"]))

        def elements(d: Any) -> list[Any]:
            out: list[Any] = []
            for v in many(d):
                out.extend(v if isinstance(v, list) else [v])
            return out
    else:
        get = _path_getter(_keys(expr, where))

        def elements(d: Any) -> list[Any]:
            v = get(d)
            return v if isinstance(v, list) else []

    if cond == "AnyElement":
        return lambda d: any(sub(e) for e in elements(d))
    if cond == "AllElements":
        return lambda d: bool(els := elements(d)) and all(sub(e) for e in els)
    if cond == "OnlyOneElement":
        return lambda d: sum(1 for e in elements(d) if sub(e)) == 1
    return lambda d: not any(sub(e) for e in elements(d))


def compile_lookup(path: str) -> Callable[[Any], Any]:
    """A getter for a dotted path's value (None when absent), for templates and GroupBy."""
    get = _path_getter(path.split("."))

    def lookup(d: Any) -> Any:
        v = get(d)
        return None if v is _MISSING else v

    return lookup


def lookup(d: Any, path: str) -> Any:
    """A dotted path's value (None when absent)."""
    return compile_lookup(path)(d)


_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def compile_title(template: str) -> Callable[[Any], str]:
    """``AlertTitle`` with ``{field.path}`` placeholders; absent fields render as ``<unknown>``."""
    parts: list[str | Callable[[Any], Any]] = []
    pos = 0
    for m in _TEMPLATE.finditer(template):
        parts.append(template[pos : m.start()])
        parts.append(compile_lookup(m.group(1).strip()))
        pos = m.end()
    parts.append(template[pos:])

    def render(d: Any) -> str:
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(part)
            else:
                v = part(d)
                out.append("<unknown>" if v is None else str(v))
        return "".join(out)

    return render


def render_title(template: str, d: Any) -> str:
    return compile_title(template)(d)
