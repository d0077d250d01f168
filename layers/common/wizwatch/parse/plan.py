"""The schemas (``parse.schemas``) compiled once into plain checks: validation without pydantic.

Why this exists (measured, issue 14): the pydantic path re-derived every field's type with
``typing.get_args`` for every field of every record (``_canonical``/``_submodel``), 60-65% of the
detector's time on Wiz.Issues and Wiz.VulnerabilityFinding (140-200 µs per event, 14-21x the
gunzip + JSON floor; 290k ``_submodel`` calls for 5,000 findings). Pydantic itself was ~3%.

A :class:`Plan` is built once per model from its pydantic fields: per field a kind (any, string,
timestamp, sub-model, list of sub-models, or a small check for the rest) and whether null is
allowed. :meth:`Plan.accepts` decides what a record's keys and value types decide once per
*signature* (records of a type share a handful), then checks only the values that need a look
(timestamps, sub-objects, lists). It answers only "certainly valid": every check accepts a
subset of what pydantic accepts (exact JSON types, no lax coercions such as ``"1"`` for a
number, no key differing from a field name only by case, an annotation it does not know never
accepted), so a record it accepts is one pydantic accepts, and anything else goes to pydantic
(:func:`canonical` + ``model_validate``), which decides and gives the reason. The event is the
record itself either way, so the output cannot depend on which path validated it.
``tests/unit/parse`` compares this module's path with a copy of the previous implementation over
the corpus and mutated records.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Union

from pydantic import BaseModel, ValidationError

from wizwatch.parse import timestamps
from wizwatch.parse.schemas import _timestamp

# Field kinds.
ANY, STR, TS, SUB, LIST_SUB, CHECK = range(6)

Check = Callable[[Any], bool]


def _never(value: Any) -> bool:
    return False  # an annotation this module does not know: pydantic decides


# --- timestamps -------------------------------------------------------------------------------

#: ``YYYY-MM-DDTHH:MM`` prefixes (ASCII) of timestamps to_panther accepted in the API form, mapped
#: to ``YYYY-MM-DD HH:MM``. With the minute known good, ``:SS`` + optional fraction + ``Z`` takes a
#: few string checks that accept a subset of what to_panther does and give its text. Being ASCII
#: and calendar-checked, every minute here is one the API form's regex accepts, so the audit page
#: loop (``parse.audit``) trusts it too.
_MINUTES: dict[str, str] = {}
_MINUTES_MAX = 4096
_SECONDS = frozenset(f":{s:02d}" for s in range(61))
_TIME_TAIL = {20: ".000000000", **{21 + k: "0" * (9 - k) for k in range(1, 10)}}


def panther_time(ts: str) -> str:
    """``timestamps.to_panther(ts)``, remembering good minutes; raises TimestampError."""
    base = _MINUTES.get(ts[:16])
    if base is not None and ts[16:19] in _SECONDS and ts[-1:] == "Z":
        n = len(ts)
        if n == 20:
            return base + ts[16:19] + ".000000000"
        if 22 <= n <= 30 and ts[19] == "." and ts[20:-1].isdecimal():
            return base + ts[16:-1] + _TIME_TAIL[n]
    out = timestamps.to_panther(ts)
    if (
        len(ts) >= 20
        and ts[10] == "T"
        and ts[-1] == "Z"
        and ts[13] == ":"
        and out[:16] == ts[:10] + " " + ts[11:16]
        and ts[:16].isascii()
    ):
        if len(_MINUTES) >= _MINUTES_MAX:
            _MINUTES.clear()
        _MINUTES[ts[:16]] = out[:16]
    return out


def _is_timestamp(value: str) -> bool:
    """``panther_time(value)`` succeeds (:meth:`Plan.accepts` checks the known-minute case
    without building strings before it calls this)."""
    try:
        panther_time(value)
    except timestamps.TimestampError:
        return False
    return True


# --- annotations -> checks --------------------------------------------------------------------


def _union_args(annotation: Any) -> tuple[Any, ...] | None:
    if typing.get_origin(annotation) in (Union, types.UnionType):
        return typing.get_args(annotation)
    return None


def sole_submodel(annotation: Any) -> type[BaseModel] | None:
    """M for ``M``, ``M | None``, ``list[M]`` or ``list[M] | None``; else None (see indicators)."""
    args = _union_args(annotation)
    if args is not None:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            return None
        annotation = rest[0]
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation) or (Any,)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


_ONLY_STR = frozenset({str})


def _str_dict(value: Any) -> bool:
    """``dict[str, Any]``: a dict whose keys are all exactly str."""
    return value.__class__ is dict and _ONLY_STR.issuperset(map(type, value))


def _str_list(value: Any) -> bool:
    """``list[str]``."""
    return value.__class__ is list and _ONLY_STR.issuperset(map(type, value))


def _any_list(value: Any) -> bool:
    """``list[Any]``."""
    return value.__class__ is list


def _str_dict_list(value: Any) -> bool:
    """``list[dict[str, Any]]``."""
    if value.__class__ is not list:
        return False
    for item in value:
        if item.__class__ is not dict or not _ONLY_STR.issuperset(map(type, item)):
            return False
    return True


def _number(value: Any) -> bool:
    cls = value.__class__
    return cls is float or (cls is int and -(2**63) <= value < 2**64)


#: Types whose instances an annotation certainly accepts whatever the value (no value check).
_BY_TYPE: dict[Any, frozenset[type]] = {
    str: frozenset({str}),
    bool: frozenset({bool}),
    int: frozenset({int}),
    float: frozenset({float}),
    type(None): frozenset({type(None)}),
}


def _check_for(annotation: Any) -> tuple[Check, frozenset[type]]:
    """(a check accepting a subset of what pydantic accepts for ``annotation``, the types for
    which the check is True whatever the value)."""
    if annotation is Any:
        return (lambda v: True), frozenset()
    args = _union_args(annotation)
    if args is not None:
        both = [_check_for(a) for a in args]
        checks = [c for c, _ in both]
        return (lambda v: any(c(v) for c in checks)), frozenset().union(*(t for _, t in both))
    by_type = _BY_TYPE.get(annotation, frozenset())
    if annotation is type(None):
        return (lambda v: v is None), by_type
    if annotation in (str, bool, int):
        return (lambda v: v.__class__ is annotation), by_type
    if annotation is float:
        return _number, by_type
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        sub = plan_for(annotation)
        return (lambda v: v.__class__ is dict and sub.accepts(v) is not None), by_type
    origin, params = typing.get_origin(annotation), typing.get_args(annotation)
    str_dict = origin is dict and (not params or params == (str, Any))
    if origin is list and params == (str,):
        return _str_list, by_type
    item_dict = bool(params) and typing.get_origin(params[0]) is dict
    if origin is list and item_dict and typing.get_args(params[0]) in ((), (str, Any)):
        return _str_dict_list, by_type
    if str_dict:
        return _str_dict, by_type
    if origin is list and params in ((), (Any,)):
        return _any_list, by_type
    if origin is list:
        item = _check_for(params[0])[0] if params else (lambda v: True)
        return (lambda v: v.__class__ is list and all(item(e) for e in v)), by_type
    return _never, by_type


_NONE = type(None)
_REJECT: tuple[tuple[Any, ...], tuple[str, ...]] | None = None
#: Signatures remembered per plan before the memory is cleared (hostile input cannot grow it).
_MAX_SIGNATURES = 2048


class Plan:
    """One model's fields as (kind, nullable, argument); see the module docstring.

    Records of one log type nearly all share a few *signatures* (their keys in order and the
    type of each value). What the keys and types alone decide (missing required fields, case
    variants, a string where a string is expected, ...) is decided once per signature; only the
    values that need a look (timestamps, sub-objects, lists, numbers) are checked per record.
    """

    def __init__(self, model: type[BaseModel]) -> None:
        self.model = model
        self.fields: dict[str, tuple[int, bool, Any, frozenset[type]]] = {}
        self.required = frozenset(n for n, f in model.model_fields.items() if f.is_required())
        self.lower = frozenset(n.lower() for n in model.model_fields)
        #: Two fields equal but for case: canonical() picks one; leave such a model to pydantic.
        self.usable = len(self.lower) == len(model.model_fields)
        self._signatures: dict[tuple[Any, ...], tuple[tuple[Any, ...], tuple[str, ...]] | None] = {}

    def _compile(self) -> None:
        for name, info in self.model.model_fields.items():
            ann = info.annotation
            args = _union_args(ann)
            nullable = args is not None and _NONE in args
            core: Any = ann
            if nullable and args is not None:
                rest = tuple(a for a in args if a is not _NONE)
                core = rest[0] if len(rest) == 1 else Union[rest]  # noqa: UP007 (a runtime union)
            validators = [getattr(m, "func", m) for m in info.metadata]
            sub = sole_submodel(ann)
            if ann is Any and not validators:
                self.fields[name] = (ANY, True, None, frozenset())
            elif validators == [_timestamp] and core is str:
                self.fields[name] = (TS, nullable, None, frozenset())
            elif validators:
                self.fields[name] = (CHECK, nullable, _never, frozenset())
            elif core is str:
                self.fields[name] = (STR, nullable, None, frozenset({str}))
            elif sub is not None and core is sub:
                self.fields[name] = (SUB, nullable, plan_for(sub), frozenset())
            elif sub is not None and typing.get_origin(core) is list:
                self.fields[name] = (LIST_SUB, nullable, plan_for(sub), frozenset())
            else:
                check, by_type = _check_for(core)
                self.fields[name] = (CHECK, nullable, check, by_type)

    def _signature(
        self, keys: tuple[Any, ...], kinds: tuple[type, ...]
    ) -> tuple[tuple[Any, ...], tuple[str, ...]] | None:
        """(the (key, kind, argument) checks left for the values, the keys that are not fields),
        or None when the keys and types already rule the record out (pydantic decides)."""
        if not self.usable or not self.required.issubset(keys):
            return _REJECT
        left: list[tuple[Any, int, Any]] = []
        extra: list[str] = []
        for key, cls in zip(keys, kinds, strict=True):
            spec = self.fields.get(key)
            if spec is None:
                if key.__class__ is not str or key.lower() in self.lower:
                    return _REJECT  # a case variant of a field: canonical() + pydantic decide
                extra.append(key)
                continue
            kind, nullable, arg, by_type = spec
            if kind == ANY or (cls is _NONE and nullable) or cls in by_type:
                continue
            if cls is _NONE:
                return _REJECT
            if kind == STR:
                return _REJECT
            if kind == TS:
                if cls is not str:
                    return _REJECT
            elif kind == SUB:
                if cls is not dict:
                    return _REJECT
            elif kind == LIST_SUB and cls is not list:
                return _REJECT
            left.append((key, kind, arg))
        return tuple(left), tuple(extra)

    def accepts(self, record: dict[Any, Any]) -> tuple[str, ...] | None:
        """The record's keys that are not fields (usually none) if it is certainly valid, else None."""
        signature = (*record, *map(type, record.values()))  # keys, then their values' types
        try:
            known = self._signatures[signature]
        except KeyError:
            if len(self._signatures) >= _MAX_SIGNATURES:
                self._signatures.clear()
            n = len(record)
            known = self._signatures[signature] = self._signature(signature[:n], signature[n:])
        if known is None:
            return None
        left, extra = known
        minutes, seconds = _MINUTES, _SECONDS
        for key, kind, arg in left:
            value = record[key]
            if kind == TS:
                n = len(value)  # panther_time's fast case, no strings built: a few per record
                if not (
                    value[:16] in minutes
                    and value[16:19] in seconds
                    and value[-1:] == "Z"
                    and (n == 20 or (22 <= n <= 30 and value[19] == "." and value[20:-1].isdecimal()))
                ) and not _is_timestamp(value):
                    return None
            elif kind == SUB:
                if arg.accepts(value) is None:
                    return None
            elif kind == LIST_SUB:
                for item in value:
                    if item.__class__ is not dict or arg.accepts(item) is None:
                        return None
            elif not arg(value):
                return None
        return extra


_PLANS: dict[type[BaseModel], Plan] = {}


def plan_for(model: type[BaseModel]) -> Plan:
    """The model's plan, compiled on first use and kept for the process."""
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = Plan(model)
        plan._compile()  # after registering: self-referencing models terminate
    return plan


# --- the pydantic path (decides what the plan does not, and words the reason) ------------------


def _submodel(annotation: Any) -> type[BaseModel] | None:
    """The first model found in an annotation (depth first, last argument first)."""
    stack = [annotation]
    while stack:
        a = stack.pop()
        if isinstance(a, type) and issubclass(a, BaseModel):
            return a
        stack.extend(typing.get_args(a))
    return None


_CANONICAL: dict[type[BaseModel], tuple[dict[str, str], dict[str, type[BaseModel] | None]]] = {}


def _canonical_plan(model: type[BaseModel]) -> tuple[dict[str, str], dict[str, type[BaseModel] | None]]:
    got = _CANONICAL.get(model)
    if got is None:
        fields = model.model_fields
        by_lower = {name.lower(): name for name in fields}
        subs = {name: _submodel(info.annotation) for name, info in fields.items()}
        got = _CANONICAL[model] = (by_lower, subs)
    return got


def canonical(model: type[BaseModel], data: Any) -> Any:
    """A copy of ``data`` whose keys match the model's field names case-insensitively."""
    if not isinstance(data, dict):
        return data
    by_lower, subs = _canonical_plan(model)
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key if key in subs else by_lower.get(key.lower(), key) if isinstance(key, str) else key
        if name in out and name != key:
            continue  # the exact-case key wins
        sub = subs.get(name)
        if sub is not None:
            value = [canonical(sub, v) for v in value] if isinstance(value, list) else canonical(sub, value)
        out[name] = value
    return out


def reason(exc: ValidationError) -> str:
    """The quarantine reason for a validation error (its first five errors)."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(record)"
        parts.append(f"{loc}: {err['msg']}")
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")
