"""Necessary conditions read from a Python rule's own ``rule(event)`` with :mod:`ast`.

What is read, and why skipping an event on it is sound, is explained in
:mod:`wizwatch.detect.selection`. Every shortcut this module cannot prove safe raises
:class:`_Unsure`, which derives nothing: the rule then runs on every event.
"""

from __future__ import annotations

import ast
import inspect
import os
import types
from dataclasses import dataclass
from typing import Any

from wizwatch.detect.selection import MISSING, SCALARS, Term, union

_FORBIDDEN = {"globals", "exec", "eval", "setattr", "delattr", "vars", "__dict__", "__builtins__", "locals"}
_MAX_DEPTH = 3
_GEN_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class _Unsure(Exception):
    """Anything the analysis cannot see through: derive nothing from it."""


_TREES: dict[tuple[str, int, int], tuple[ast.Module, dict[str, list[ast.AST]], set[str]] | None] = {}


def _tree(path: str | None) -> tuple[ast.Module, dict[str, list[ast.AST]], set[str]]:
    """(module AST, name -> binding nodes, names loaded other than as an ``in`` right operand)."""
    if not path:
        raise _Unsure("no source file")
    try:
        st = os.stat(path)
    except OSError:
        raise _Unsure("source unreadable") from None
    key = (path, st.st_mtime_ns, st.st_size)
    if key not in _TREES:
        try:
            with open(path, encoding="utf-8") as f:
                tree = ast.parse(f.read(), path)
        except (OSError, SyntaxError, ValueError):
            _TREES[key] = None
        else:
            _TREES[key] = _index_tree(tree)
    found = _TREES[key]
    if found is None:
        raise _Unsure("source unreadable")
    return found


def _index_tree(tree: ast.Module) -> tuple[ast.Module, dict[str, list[ast.AST]], set[str]] | None:
    bindings: dict[str, list[ast.AST]] = {}
    loads: list[ast.Name] = []
    in_operands: set[int] = set()
    for node in ast.walk(tree):
        t = type(node)
        if t is ast.Name:
            name = node.id  # type: ignore[attr-defined]
            if name in _FORBIDDEN:
                return None
            if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                loads.append(node)  # type: ignore[arg-type]
            else:
                bindings.setdefault(name, []).append(node)
        elif t is ast.Attribute:
            if node.attr in _FORBIDDEN:  # type: ignore[attr-defined]
                return None
        elif t is ast.Compare:
            if all(type(o) in (ast.In, ast.NotIn) for o in node.ops):  # type: ignore[attr-defined]
                in_operands.update(id(c) for c in node.comparators)  # type: ignore[attr-defined]
        elif t in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            bindings.setdefault(node.name, []).append(node)  # type: ignore[attr-defined]
        elif t in (ast.Import, ast.ImportFrom):
            for a in node.names:  # type: ignore[attr-defined]
                if a.name == "*":
                    return None  # binds names nobody can list
                bindings.setdefault((a.asname or a.name).split(".")[0], []).append(node)
        elif t in (ast.Global, ast.Nonlocal):
            for n in node.names:  # type: ignore[attr-defined]
                bindings.setdefault(n, []).extend([node, node])  # never a single binding
        elif t in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar):
            if node.name:  # type: ignore[attr-defined]
                bindings.setdefault(node.name, []).extend([node, node])  # type: ignore[attr-defined]
        elif t is ast.MatchMapping and node.rest:  # type: ignore[attr-defined]
            bindings.setdefault(node.rest, []).extend([node, node])  # type: ignore[attr-defined]
    loose = {n.id for n in loads if id(n) not in in_operands}
    return tree, bindings, loose


@dataclass
class _Scope:
    """One function being read: its module (static and live) and its event parameter."""

    path: str
    live: dict[str, Any]
    param: str
    depth: int


def _function(fn: Any, depth: int) -> tuple[ast.FunctionDef, _Scope]:
    if type(fn) is not types.FunctionType or fn.__closure__ or fn.__defaults__ or fn.__kwdefaults__:
        raise _Unsure("not a plain function")
    code = fn.__code__
    if code.co_flags & _GEN_FLAGS or code.co_argcount != 1 or code.co_kwonlyargcount:
        raise _Unsure("not a one-argument function")
    path = inspect.getsourcefile(fn)
    tree, _, _ = _tree(path)
    for node in tree.body:
        if (
            isinstance(node, ast.FunctionDef)
            and node.name == code.co_name
            and node.lineno == code.co_firstlineno
        ):
            if node.decorator_list or node.args.posonlyargs:
                raise _Unsure("decorated")
            assert path is not None
            return node, _Scope(path, fn.__globals__, node.args.args[0].arg, depth)
    raise _Unsure("definition not found")


def _single_binding(scope: _Scope, name: str) -> ast.AST:
    _, bindings, _ = _tree(scope.path)
    nodes = bindings.get(name, [])
    if len(nodes) != 1:
        raise _Unsure(f"{name} bound {len(nodes)} times")
    return nodes[0]


def python_terms(rule_fn: Any) -> list[Term]:
    """Terms implied by a ``rule(event)`` function; [] when nothing can be derived safely."""
    try:
        node, scope = _function(rule_fn, 0)
        if len(_tree(scope.path)[1].get(node.name, [])) != 1:
            raise _Unsure("rule bound more than once")
        return _body_terms(node.body, scope)
    except _Unsure:
        return []
    except RecursionError:
        return []


def _body_terms(body: list[ast.stmt], scope: _Scope) -> list[Term]:
    out: list[Term] = []
    for stmt in body:
        if isinstance(stmt, ast.Pass) or (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        ):
            continue
        if (
            isinstance(stmt, ast.If)
            and not stmt.orelse
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], ast.Return)
            and isinstance(stmt.body[0].value, ast.Constant)
            and stmt.body[0].value.value is False
        ):
            terms, safe = _need(stmt.test, False, scope)
            out.extend(terms)
            if not safe:
                break
            continue
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            ops = stmt.value.values if _is_and(stmt.value) else [stmt.value]  # type: ignore[attr-defined]
            for op in ops:
                if not _bool_valued(op, scope):
                    break
                terms, safe = _need(op, True, scope)
                out.extend(terms)
                if not safe:
                    break
        break
    return out


def _is_and(e: ast.expr) -> bool:
    return isinstance(e, ast.BoolOp) and isinstance(e.op, ast.And)


def _bool_valued(e: ast.expr, scope: _Scope) -> bool:
    """The expression's value is always a bool (so falsy means exactly False)."""
    if isinstance(e, ast.Compare) or (isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not)):
        return True
    if isinstance(e, ast.Constant):
        return isinstance(e.value, bool)
    if isinstance(e, ast.BoolOp):
        return all(_bool_valued(v, scope) for v in e.values)
    if isinstance(e, ast.Call):
        try:
            inner, sub = _helper(e, scope)
        except _Unsure:
            return False
        return _bool_valued(inner, sub)
    return False


def _need(e: ast.expr, truthy: bool, scope: _Scope) -> tuple[list[Term], bool]:
    """(terms that accept every event on which e is truthy (falsy when not ``truthy``) or raises,
    whether e never raises)."""
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.Not):
        return _need(e.operand, not truthy, scope)
    if isinstance(e, ast.Constant):
        return [], True
    if isinstance(e, ast.BoolOp):
        if isinstance(e.op, ast.And) == truthy:  # all operands must hold: a conjunction
            out: list[Term] = []
            for v in e.values:
                terms, safe = _need(v, truthy, scope)
                out.extend(terms)
                if not safe:
                    return out, False
            return out, True
        parts = [_need(v, truthy, scope) for v in e.values]  # any operand may hold: a union
        merged = (
            union([p[0][0] for p in parts if len(p[0]) == 1]) if all(len(p[0]) == 1 for p in parts) else []
        )
        return merged, all(p[1] for p in parts)
    if isinstance(e, ast.Compare):
        return _compare(e, truthy, scope)
    if isinstance(e, ast.Call):
        try:
            inner, sub = _helper(e, scope)
        except _Unsure:
            return [], False
        return _need(inner, truthy, sub)
    return [], False


def _helper(call: ast.Call, scope: _Scope) -> tuple[ast.expr, _Scope]:
    """``h(event)`` for a module function whose body is one ``return``: (its expression, scope)."""
    if (
        not isinstance(call.func, ast.Name)
        or call.keywords
        or len(call.args) != 1
        or not _is_event(call.args[0], scope)
        or scope.depth >= _MAX_DEPTH
    ):
        raise _Unsure("not a helper call")
    binding = _single_binding(scope, call.func.id)
    if not isinstance(binding, ast.FunctionDef | ast.ImportFrom):
        raise _Unsure("helper not bound by def or import")
    node, sub = _function(scope.live.get(call.func.id), scope.depth + 1)
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise _Unsure("helper is more than one return")
    return body[0].value, sub


def _is_event(e: ast.expr, scope: _Scope) -> bool:
    return isinstance(e, ast.Name) and e.id == scope.param


def _compare(e: ast.Compare, truthy: bool, scope: _Scope) -> tuple[list[Term], bool]:
    if len(e.ops) != 1:
        return [], False
    op, left, right = e.ops[0], e.left, e.comparators[0]
    if (
        isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot)
        and _read(right, scope)
        and not _read(left, scope)
    ):
        left, right = right, left
    read = _read(left, scope)
    if read is None:
        return [], False
    path, default, raises_missing, kind = read
    positive = isinstance(op, ast.Eq | ast.Is | ast.In) == truthy  # the form "value in allowed"
    if isinstance(op, ast.Eq | ast.NotEq | ast.Is | ast.IsNot):
        value = _constant(right, scope, scalar=True)
        if value is None or (isinstance(op, ast.Is | ast.IsNot) and value[0] not in (None, True, False)):
            return [], not raises_missing and value is not None
        allowed: frozenset[Any] = frozenset(value)
        hashing = False
    elif isinstance(op, ast.In | ast.NotIn):
        found = _constant(right, scope, scalar=False)
        if found is None:
            return [], False
        allowed, hashing = frozenset(found), isinstance(right, ast.Set) or _is_set_name(right, scope)
    else:
        return [], False
    safe = not raises_missing and not hashing
    if not positive:
        return [], safe
    if kind == "deep_get":
        missing = default in allowed
        if missing:
            allowed = allowed | {None}
    else:
        missing = raises_missing or default in allowed
    return [Term(path, allowed, missing, "rule()")], safe


def _is_set_name(e: ast.expr, scope: _Scope) -> bool:
    return isinstance(e, ast.Name) and isinstance(scope.live.get(e.id), set | frozenset)


def _read(e: ast.expr, scope: _Scope) -> tuple[tuple[str, ...], Any, bool, str] | None:
    """(path, default when absent, raises when absent, kind) for a read of the event, else None."""
    if isinstance(e, ast.Subscript) and _is_event(e.value, scope):
        key = _literal_scalar(e.slice)
        return ((key,), None, True, "item") if isinstance(key, str) else None
    if not isinstance(e, ast.Call):
        return None
    f = e.func
    if isinstance(f, ast.Attribute) and _is_event(f.value, scope) and f.attr == "get":
        if e.keywords or not 1 <= len(e.args) <= 2:
            return None
        key = _literal_scalar(e.args[0])
        default = _literal_scalar(e.args[1]) if len(e.args) == 2 else None
        if not isinstance(key, str) or (len(e.args) == 2 and not _is_literal_scalar(e.args[1])):
            return None
        return (key,), default, False, "get"
    args: list[ast.expr]
    if isinstance(f, ast.Attribute) and _is_event(f.value, scope) and f.attr == "deep_get":
        args = list(e.args)
    elif isinstance(f, ast.Name) and e.args and _is_event(e.args[0], scope) and _is_deep_get(f.id, scope):
        args = list(e.args[1:])
    else:
        return None
    keys = [_literal_scalar(a) for a in args]
    if not keys or not all(isinstance(k, str) for k in keys):
        return None
    default = None
    for kw in e.keywords:
        if kw.arg != "default" or not _is_literal_scalar(kw.value):
            return None
        default = _literal_scalar(kw.value)
    return tuple(keys), default, False, "deep_get"


def _is_deep_get(name: str, scope: _Scope) -> bool:
    try:
        binding = _single_binding(scope, name)
    except _Unsure:
        return False
    if not isinstance(binding, ast.ImportFrom):
        return False
    import panther_base_helpers

    return scope.live.get(name) is panther_base_helpers.deep_get


def _is_literal_scalar(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and isinstance(e.value, SCALARS)


def _literal_scalar(e: ast.expr) -> Any:
    return e.value if _is_literal_scalar(e) else None  # type: ignore[attr-defined]


def _constant(e: ast.expr, scope: _Scope, *, scalar: bool) -> list[Any] | None:
    """A constant scalar ([value]) or, when not ``scalar``, a constant collection of scalars."""
    if scalar:
        return [e.value] if _is_literal_scalar(e) else None  # type: ignore[attr-defined]
    if isinstance(e, ast.Tuple | ast.List | ast.Set):
        return [e_.value for e_ in e.elts] if all(_is_literal_scalar(x) for x in e.elts) else None  # type: ignore[attr-defined]
    if not isinstance(e, ast.Name):
        return None
    try:
        binding = _single_binding(scope, e.id)
    except _Unsure:
        return None
    live = scope.live.get(e.id, MISSING)
    if isinstance(live, tuple | frozenset) and isinstance(binding, ast.ImportFrom | ast.Name):
        items = list(live)  # immutable: whatever it holds now, it holds for ever
    elif isinstance(live, list | set) and isinstance(binding, ast.Name) and scope.depth == 0:
        # A mutable constant of the rule's own module (imported under a name unique to its path,
        # so no other module reaches it): only if it is a literal never read other than by ``in``.
        if e.id in _tree(scope.path)[2]:
            return None
        items = list(live)
        assign = _assignment_of(scope, binding)
        if assign is None or _constant(assign, scope, scalar=False) != items:
            return None
    else:
        return None
    return items if all(isinstance(x, SCALARS) for x in items) else None


def _assignment_of(scope: _Scope, target: ast.AST) -> ast.expr | None:
    tree = _tree(scope.path)[0]
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and node.targets[0] is target:
            return node.value
        if isinstance(node, ast.AnnAssign) and node.target is target:
            return node.value
    return None


__all__ = ["python_terms"]
