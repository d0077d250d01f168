"""Rule selection derived at load time: which events a rule can possibly produce a result for.

A *term* says "the rule can only produce a result (an alert or a rule error) when the value at
``path`` is one of ``values``" (or is absent, when ``missing``). The engine files each rule under
one term and, per event, runs only the rules whose term accepts the event's value, plus the rules
without any term. Terms come from three places:

* ``Detection:`` and ``InlineFilters:`` (the rule runs only when they hold): ``Equals`` / ``IsIn``
  on a ``Key`` / ``KeyPath`` / ``DeepKey`` without wildcards, inside the top-level list or ``All``;
  an ``Any`` whose branches all constrain one path gives the union of their values.
* The rule's own Python, read with :mod:`ast`: leading guards ``if C: return False`` and the
  conjuncts of a final ``return A and B ...`` whose operands compare an event field with constants
  (``==``, ``!=``, ``in``, ``not in``, ``is``), through ``not``/``and``/``or`` and through module
  functions whose whole body is one such ``return`` (e.g. ``wiz_success(event)``).

Soundness argument. A term derived from the rule's code may skip an event only when running the
rule on it would have returned exactly ``False`` (no result): not raised, not returned a non-bool.
Each derived fact has the form "if expression E evaluates truthy *or raises*, the term accepts the
event". Statements are read from the top of ``rule`` only while each one is a guard whose test
cannot raise for any event (so the next statement really is reached when the guard does not
return); a test that may raise ends the reading, and the terms of an expression that may raise
accept every event it raises on (``event["k"]`` raises when ``k`` is absent: that term accepts a
missing key; ``x in {set}`` raises on an unhashable ``x``: non-scalar values are always accepted).
A conjunct of the final ``return`` counts only when its falsy value is exactly ``False``
(comparisons, ``not``). Reads are ``event.get(k[, d])``, ``event.deep_get(...[, default=d])``,
``deep_get(event, ...)`` of ``panther_base_helpers`` and ``event[k]``; constants are literals or
module names bound once to immutable collections of scalars (tuples, frozensets), or literal
lists/sets of the rule's own module never used other than by ``in``. Anything
else (assignments before a guard, helpers with more than one statement, generators, modules that
use ``globals``/``exec``/``setattr``/...) derives nothing, so the rule always runs.

The engine's lookup mirrors the event's case-insensitive reads conservatively: an exact key gives
its value; no key in any case gives "missing"; a key present only in another case, or a value that
is not a scalar (dict, list), gives "unknown", which every term accepts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SCALARS = (str, int, bool, type(None))


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Lookup results that are not a value: nothing at the path in any case / cannot tell.
MISSING: Any = _Sentinel("<missing>")
UNKNOWN: Any = _Sentinel("<unknown>")


@dataclass(frozen=True)
class Term:
    """The rule can only produce a result when the value at ``path`` is in ``values`` (or absent,
    when ``missing``), or when the lookup cannot tell."""

    path: tuple[str, ...]
    values: frozenset[Any]
    missing: bool
    source: str

    def describe(self) -> str:
        vals = sorted(self.values, key=repr)
        shown = ", ".join(repr(v) for v in vals[:6]) + (f", ... ({len(vals)})" if len(vals) > 6 else "")
        miss = " or missing" if self.missing else ""
        return f"{'.'.join(self.path)} in {{{shown}}}{miss} [{self.source}]"


def field_key(event: Any, path: tuple[str, ...]) -> Any:
    """The event's value at path as an index key: a scalar, MISSING or UNKNOWN."""
    d = event
    for k in path:
        if type(d) is not dict:
            return MISSING if d is None or isinstance(d, (*SCALARS, float, list)) else UNKNOWN
        v = d.get(k, MISSING)
        if v is MISSING:
            low = k.lower()
            for other in d:
                if type(other) is str and other.lower() == low:
                    return UNKNOWN
            return MISSING
        d = v
    if d is None or type(d) in (str, int, bool, float):
        return d
    return UNKNOWN


def accepts(term: Term, key: Any) -> bool:
    if key is UNKNOWN:
        return True
    if key is MISSING:
        return term.missing
    return key in term.values


# --- simple detections ------------------------------------------------------------------------


def expression_terms(exprs: Any, source: str) -> list[Term]:
    """Terms implied by a list of match expressions (ANDed); [] when none can be derived."""
    if isinstance(exprs, dict):
        exprs = [exprs]
    if not isinstance(exprs, list):
        return []
    out: list[Term] = []
    for e in exprs:
        out.extend(_expr_terms(e, source))
    return out


def _expr_terms(e: Any, source: str) -> list[Term]:
    if not isinstance(e, dict):
        return []
    if "All" in e and isinstance(e["All"], list):
        return expression_terms(e["All"], source)
    if "Any" in e and isinstance(e["Any"], list) and e["Any"]:
        branches = [_expr_terms(b, source) for b in e["Any"]]
        return union([b[0] for b in branches if len(b) == 1]) if all(len(b) == 1 for b in branches) else []
    if any(c in e for c in ("OnlyOne", "None", "AlwaysTrue", "AlwaysFalse")):
        return []
    path = _expr_path(e)
    cond = e.get("Condition")
    if path is None:
        return []
    if cond == "Equals" and _scalar(e.get("Value")):
        return [Term(path, frozenset([e["Value"]]), False, source)]
    values = e.get("Values")
    if cond == "IsIn" and isinstance(values, list) and all(_scalar(v) for v in values):
        return [Term(path, frozenset(values), False, source)]
    return []


def _expr_path(e: dict[str, Any]) -> tuple[str, ...] | None:
    if sum(1 for k in ("Key", "KeyPath", "DeepKey") if k in e) != 1:
        return None
    if "DeepKey" in e:
        keys = e["DeepKey"]
        ok = isinstance(keys, list) and keys and all(isinstance(k, str) and k for k in keys)
        return tuple(keys) if ok else None
    raw = e.get("Key", e.get("KeyPath"))
    if not isinstance(raw, str) or not raw or any(c in raw for c in "[]*$"):
        return None
    parts = tuple(raw.split("."))
    return parts if all(parts) else None


def union(terms: list[Term]) -> list[Term]:
    if not terms or any(t.path != terms[0].path for t in terms):
        return []
    values = frozenset().union(*(t.values for t in terms))
    return [Term(terms[0].path, values, any(t.missing for t in terms), terms[0].source)]


def _scalar(v: Any) -> bool:
    return isinstance(v, SCALARS)


__all__ = ["MISSING", "SCALARS", "UNKNOWN", "Term", "accepts", "expression_terms", "field_key", "union"]
