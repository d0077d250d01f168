"""Reading configuration from environment variables, Grove style.

Each component declares a frozen dataclass whose fields carry their env var name, default and a
description in ``field(metadata=...)``; :func:`load` fills it and turns every problem into one
:class:`ConfigError` that lists what to fix, so a misconfigured function fails at start-up
instead of half-way through a run.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from wizwatch.errors import ConfigError

T = TypeVar("T")

_MISSING = object()


def setting(
    env: str,
    description: str,
    *,
    default: Any = _MISSING,
    parse: Callable[[str], Any] | None = None,
) -> Any:
    """Declare a field read from ``env``; no default means the variable is required."""
    meta = {"env": env, "description": description, "parse": parse}
    if default is _MISSING:
        return dataclasses.field(metadata=meta)
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def csv_list(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


def _coerce(raw: str, annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if raw == "":
            return None
        return _coerce(raw, args[0])
    if annotation is bool:
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true/false, got {raw!r}")
    if annotation is int:
        return int(raw)
    if annotation is float:
        return float(raw)
    if origin is list or annotation is list:
        return csv_list(raw)
    return raw


def load(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Build ``cls`` from the environment; raise one ConfigError naming every bad variable."""
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = f.metadata.get("env")
        if not name:
            continue
        raw = env.get(name)
        if raw is None or (raw == "" and f.default is not dataclasses.MISSING):
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(f"{name} is required: {f.metadata['description']}")
            continue
        try:
            parser = f.metadata.get("parse")
            values[f.name] = parser(raw) if parser else _coerce(raw, hints[f.name])
        except (ValueError, TypeError) as exc:
            problems.append(f"{name}={raw!r} is invalid ({exc}): {f.metadata['description']}")
    if not problems:
        try:
            return cls(**values)
        except ConfigError as exc:  # __post_init__ cross-field checks
            problems.append(str(exc))
    raise ConfigError("configuration error:\n  - " + "\n  - ".join(problems))


def describe(cls: type[Any]) -> list[tuple[str, str, str]]:
    """(env var, default, description) rows, for the README and `--help` output."""
    rows = []
    for f in dataclasses.fields(cls):
        if "env" not in f.metadata:
            continue
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = repr(f.default_factory())
        else:
            default = "(required)"
        rows.append((f.metadata["env"], default, f.metadata["description"]))
    return rows
