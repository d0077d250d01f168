"""The event object a rule receives: read-only, case-insensitive at every level (like Panther's).

Wrapping is lazy: the event is a thin view over the normalised dict; nested mappings and lists
are wrapped only when a rule reaches into them, and the lower-cased key map is built only on the
first lookup that misses an exact key. Panther's Wiz rules rely on the case-insensitivity
(``event.get("sourceip")`` for ``sourceIP``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_MISSING = object()
#: lower-cased key -> the stored key it resolved to last time (a hint, always re-checked).
_ALIASES: dict[str, str] = {}
#: a mapping's keys, in order -> lower-cased key -> stored key (never mutated once built).
_SHAPES: dict[tuple[Any, ...], dict[str, str]] = {}
_MAX_SHAPES = 1024


def wrap(value: Any) -> Any:
    """Wrap mappings and lists read from an event so they stay read-only and case-insensitive."""
    if isinstance(value, dict):
        return ImmutableCaseInsensitiveDict(value)
    if isinstance(value, list):
        return ImmutableList(value)
    return value


def unwrap(value: Any) -> Any:
    """Plain dicts/lists again (for JSON), recursively."""
    if isinstance(value, ImmutableCaseInsensitiveDict):
        return {k: unwrap(v) for k, v in value._data.items()}
    if isinstance(value, ImmutableList):
        return [unwrap(v) for v in value._data]
    if isinstance(value, Mapping):
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [unwrap(v) for v in value]
    return value


class ImmutableList(Sequence[Any]):
    """A read-only list whose elements are wrapped on access."""

    __slots__ = ("_data",)

    def __init__(self, data: list[Any]) -> None:
        self._data = data

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ImmutableList(self._data[index])
        return wrap(self._data[index])

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Any]:
        # Sequence's default iterates by index until IndexError: a call and a check per element.
        return map(wrap, self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImmutableList):
            return self._data == other._data
        if isinstance(other, list | tuple):
            return self._data == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(repr(v) for v in self._data))

    def __repr__(self) -> str:
        return repr(self._data)

    def copy(self) -> list[Any]:
        return unwrap(self)


class ImmutableCaseInsensitiveDict(Mapping[str, Any]):
    """Read-only mapping; an exact key wins, otherwise keys match case-insensitively.

    (Which of several case-variants of one key a miss returns is unspecified; Wiz records have none.)
    """

    __slots__ = ("_data", "_lower")

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._lower: dict[str, str] | None = None

    def _resolve(self, key: Any) -> Any:
        """The stored key for ``key``, or _MISSING."""
        if key in self._data:
            return key
        if not isinstance(key, str):
            return _MISSING
        low = key.lower()
        # Most misses are the same few lower-cased names (rules written for Panther's lower-cased
        # test logs) over records with the same keys: try the key that matched last time first.
        alias = _ALIASES.get(low)
        if alias is not None and alias in self._data and self._lower is None:
            return alias
        lower = self._lower
        if lower is None:
            # Records of one shape (the same keys in the same order) share one map: the key
            # tuple is hashed and compared in C, where lower-casing every key is a call each.
            shape = tuple(self._data)
            lower = _SHAPES.get(shape)
            if lower is None:
                # Reversed, so the first of several case-variants of one key wins.
                lower = {k.lower(): k for k in reversed(shape) if type(k) is str}
                if len(_SHAPES) >= _MAX_SHAPES:
                    _SHAPES.clear()
                _SHAPES[shape] = lower
            self._lower = lower
        real = lower.get(low)
        if real is None:
            return _MISSING
        if len(_ALIASES) < 4096:
            _ALIASES[low] = real
        return real

    def __getitem__(self, key: str) -> Any:
        real = self._resolve(key)
        if real is _MISSING:
            raise KeyError(key)
        return wrap(self._data[real])

    def get(self, key: str, default: Any = None) -> Any:
        """Default only when the key is absent; a JSON null gives None."""
        data = self._data
        value = data.get(key, _MISSING)
        if value is _MISSING:
            real = self._resolve(key)
            if real is _MISSING:
                return default
            value = data[real]
        t = type(value)
        if t is str or value is None:  # most reads: returned as is, nothing to wrap
            return value
        if t is dict:
            return ImmutableCaseInsensitiveDict(value)
        if t is list:
            return ImmutableList(value)
        if isinstance(value, dict | list):
            return wrap(value)
        return value

    def __contains__(self, key: object) -> bool:
        return self._resolve(key) is not _MISSING

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ImmutableCaseInsensitiveDict):
            return self._data == other._data
        if isinstance(other, dict):
            return self._data == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._data)

    def to_dict(self) -> dict[str, Any]:
        """A plain (deep) copy, for JSON or for mutation."""
        out: dict[str, Any] = unwrap(self)
        return out

    def copy(self) -> dict[str, Any]:
        return self.to_dict()


class PantherEvent(ImmutableCaseInsensitiveDict):
    """The top-level event: Panther's ``deep_get`` / ``deep_walk`` / ``udm`` as methods."""

    __slots__ = ()

    def deep_get(self, *keys: str, default: Any = None) -> Any:
        # ``panther_base_helpers.deep_get`` step for step (a step on a non-mapping gives the
        # default, a final None gives the default), without its per-call import, reduce and
        # lambda: rules call it several times per event. It walks the plain dicts under the
        # view (no wrapper per step; a key that misses is resolved case-insensitively as get()
        # does) and wraps only the value it returns; anything else (a non-dict on the way, or
        # the default standing in for a missing step) continues as Panther's loop would.
        if not keys:
            return self
        value: Any = self._data
        for n, key in enumerate(keys):
            if type(value) is not dict:
                return _deep_get(wrap(value), keys[n:], default)
            found = value.get(key, _MISSING)
            if found is _MISSING:
                real = (self if n == 0 else ImmutableCaseInsensitiveDict(value))._resolve(key)
                if real is _MISSING:
                    return _deep_get(default, keys[n + 1 :], default)
                found = value[real]
            value = found
        return default if value is None else wrap(value)

    def deep_walk(self, *keys: str, default: Any = None, return_val: str = "all") -> Any:
        from wizwatch.detect.helpers import deep_walk

        return deep_walk(self, *keys, default=default, return_val=return_val)

    def udm(self, *keys: str, default: Any = None) -> Any:
        """No data models for Wiz types: a plain deep_get (dotted paths accepted)."""
        if len(keys) == 1 and "." in keys[0]:
            keys = tuple(keys[0].split("."))
        return self.deep_get(*keys, default=default)


def _deep_get(value: Any, keys: tuple[str, ...], default: Any) -> Any:
    """Panther's deep_get loop from ``value`` on (the event's own mappings told by exact type:
    isinstance on a Mapping subclass goes through the ABC machinery)."""
    for key in keys:
        t = type(value)
        if t is ImmutableCaseInsensitiveDict or t is PantherEvent or t is dict or isinstance(value, Mapping):
            value = value.get(key, default)
        else:
            value = default
    return default if value is None else value
