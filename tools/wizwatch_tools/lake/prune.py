"""Which ``dt`` partitions a query can need: its filters on ``p_event_time`` and ``dt``, read from
DuckDB's own parse tree (``json_serialize_sql``), never from the SQL text.

Every lake row sits in the partition of its event date (``dt = date(p_event_time)``, UTC), so a
filter on either column bounds the partitions. For each reference to a lake table, the
``WHERE`` of the ``SELECT`` whose ``FROM`` holds it is split into ``AND`` terms; a term prunes
only when it compares that reference's ``p_event_time`` or ``dt`` with an expression that reads
no column (``'2026-11-22'``, ``TIMESTAMP '...'``, ``now() - INTERVAL 7 DAY``, ``BETWEEN``,
``IN``, or an ``OR`` of such terms); DuckDB itself evaluates that expression. Anything else
(``NOT``, a filter in ``HAVING`` or in an outer query, a column of another table, a statement
DuckDB cannot serialise) prunes nothing: the answer is then read from every partition, and the
query's own ``WHERE`` still decides the rows. A table referenced twice gets the union.

Bounds are whole days and inclusive (``p_event_time < '2026-11-22 00:00'`` keeps 2026-11-22):
pruning may read a partition too many, never one too few. The comparisons are null-rejecting, so
applying them to one side of an outer join removes only rows the ``WHERE`` removes anyway.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb

_TIME_COLUMNS = ("p_event_time", "dt")
_FLIP = {
    "COMPARE_GREATERTHAN": "COMPARE_LESSTHAN",
    "COMPARE_GREATERTHANOREQUALTO": "COMPARE_LESSTHANOREQUALTO",
    "COMPARE_LESSTHAN": "COMPARE_GREATERTHAN",
    "COMPARE_LESSTHANOREQUALTO": "COMPARE_GREATERTHANOREQUALTO",
    "COMPARE_EQUAL": "COMPARE_EQUAL",
}
_MIN, _MAX = date.min, date.max


@dataclass(frozen=True)
class Days:
    """A set of days as sorted, disjoint, inclusive ranges; ``ALL`` is every day."""

    ranges: tuple[tuple[date, date], ...]

    @staticmethod
    def between(lo: date, hi: date) -> Days:
        return Days(((lo, hi),)) if lo <= hi else Days(())

    def __and__(self, other: Days) -> Days:
        out = []
        for a_lo, a_hi in self.ranges:
            for b_lo, b_hi in other.ranges:
                lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)
                if lo <= hi:
                    out.append((lo, hi))
        return Days(tuple(sorted(out)))

    def __or__(self, other: Days) -> Days:
        merged: list[tuple[date, date]] = []
        for lo, hi in sorted(self.ranges + other.ranges):
            if merged and lo <= merged[-1][1] + timedelta(days=1 if merged[-1][1] < _MAX else 0):
                merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
            else:
                merged.append((lo, hi))
        return Days(tuple(merged))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and any(lo <= day <= hi for lo, hi in self.ranges)

    @property
    def everything(self) -> bool:
        return self.ranges == ((_MIN, _MAX),)


ALL = Days(((_MIN, _MAX),))


def partitions_needed(sql: str, tables: set[str], con: duckdb.DuckDBPyConnection) -> dict[str, Days]:
    """For every lake table ``sql`` names: the days whose ``dt`` partition it may need."""
    named = {t.lower() for t in duckdb.get_table_names(sql)} & tables
    try:
        doc = json.loads(con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])  # type: ignore[index]
    except duckdb.Error:
        return dict.fromkeys(named, ALL)
    if doc.get("error"):
        return dict.fromkeys(named, ALL)
    found: dict[str, Days] = {}
    _Walker(con, tables, found).walk(doc.get("statements", []))
    return {t: found.get(t, ALL) for t in named}


class _Walker:
    def __init__(self, con: duckdb.DuckDBPyConnection, tables: set[str], found: dict[str, Days]) -> None:
        self.con = con
        self.tables = tables
        self.found = found
        self._const: dict[str, date | None] = {}

    def walk(self, node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "SELECT_NODE":
                self._select(node)
            elif node.get("type") == "BASE_TABLE" and "_seen" not in node:
                self._add(str(node.get("table_name", "")).lower(), ALL)  # outside any FROM we know
            for value in node.values():
                self.walk(value)
        elif isinstance(node, list):
            for value in node:
                self.walk(value)

    def _add(self, table: str, days: Days) -> None:
        if table in self.tables:
            self.found[table] = self.found[table] | days if table in self.found else days

    def _select(self, node: dict[str, Any]) -> None:
        relations: list[dict[str, Any] | None] = []
        self._relations(node.get("from_table"), relations)
        refs = [r for r in relations if r is not None]
        where = node.get("where_clause")
        for ref in refs:
            ref["_seen"] = True
            table = str(ref.get("table_name", "")).lower()
            if table not in self.tables:
                continue
            name = (ref.get("alias") or table).lower()
            days = self._days(where, name, sole=len(relations) == 1) if where else None
            self._add(table, days or ALL)

    def _relations(self, item: Any, out: list[dict[str, Any] | None]) -> None:
        """The relations of a FROM: base tables as their nodes, anything else as None."""
        if not isinstance(item, dict) or item.get("type") == "EMPTY":
            return
        if item.get("type") == "JOIN":
            self._relations(item.get("left"), out)
            self._relations(item.get("right"), out)
        elif (
            item.get("type") == "BASE_TABLE" and not item.get("schema_name") and not item.get("catalog_name")
        ):
            out.append(item)
        else:
            out.append(None)

    # ------------------------------------------------------------------ terms

    def _days(self, expr: Any, name: str, *, sole: bool) -> Days | None:
        """The days ``expr`` allows for the relation called ``name``; None: no bound known."""
        if not isinstance(expr, dict):
            return None
        kind = expr.get("type")
        if kind == "CONJUNCTION_AND":
            known = [d for d in (self._days(c, name, sole=sole) for c in expr.get("children", [])) if d]
            if not known:
                return None
            out = known[0]
            for d in known[1:]:
                out = out & d
            return out
        if kind == "CONJUNCTION_OR":
            parts = [self._days(c, name, sole=sole) for c in expr.get("children", [])]
            if not parts or any(p is None for p in parts):
                return None
            out = parts[0]  # type: ignore[assignment]
            for p in parts[1:]:
                out = out | p  # type: ignore[operator]
            return out
        if kind in _FLIP:
            left, right = expr.get("left"), expr.get("right")
            column = self._time_column(left, name, sole)
            if column:
                return self._compare(kind, self._day(right, column))
            column = self._time_column(right, name, sole)
            if column:
                return self._compare(_FLIP[kind], self._day(left, column))
            return None
        column = self._time_column(expr.get("input"), name, sole)
        if kind == "COMPARE_BETWEEN" and column:
            lo, hi = self._day(expr.get("lower"), column), self._day(expr.get("upper"), column)
            return Days.between(lo, hi) if lo and hi else None
        if kind == "COMPARE_IN":
            children = expr.get("children", [])
            column = self._time_column(children[0], name, sole) if children else None
            if column:
                out = Days(())
                for child in children[1:]:
                    day = self._day(child, column)
                    if day is None:
                        return None
                    out = out | Days.between(day, day)
                return out
        return None

    @staticmethod
    def _compare(kind: str, day: date | None) -> Days | None:
        if day is None:
            return None
        if kind == "COMPARE_EQUAL":
            return Days.between(day, day)
        if kind in ("COMPARE_GREATERTHAN", "COMPARE_GREATERTHANOREQUALTO"):
            return Days.between(day, _MAX)
        return Days.between(_MIN, day)

    @staticmethod
    def _time_column(expr: Any, name: str, sole: bool) -> str | None:
        """``p_event_time`` or ``dt`` if ``expr`` is that column of relation ``name``."""
        if not isinstance(expr, dict) or expr.get("class") != "COLUMN_REF":
            return None
        parts = [str(p).lower() for p in expr.get("column_names", [])]
        if len(parts) == 1 and sole and parts[0] in _TIME_COLUMNS:
            return parts[0]
        if len(parts) == 2 and parts[0] == name and parts[1] in _TIME_COLUMNS:
            return parts[1]
        return None

    def _day(self, expr: Any, column: str) -> date | None:
        """The UTC day of a column-free expression compared with ``column``, evaluated by DuckDB
        as that comparison would convert it (to TIMESTAMP for ``p_event_time``, so a string with
        an offset lands on its UTC day); None if it is not one."""
        if not isinstance(expr, dict) or _reads_data(expr):
            return None
        key = column + json.dumps(expr, sort_keys=True)
        if key not in self._const:
            self._const[key] = self._evaluate(expr, column)
        return self._const[key]

    def _evaluate(self, expr: dict[str, Any], column: str) -> date | None:
        try:
            shell = json.loads(self.con.execute("SELECT json_serialize_sql('SELECT 1')").fetchone()[0])  # type: ignore[index]
            shell["statements"][0]["node"]["select_list"] = [expr]
            select = self.con.execute("SELECT json_deserialize_sql(?)", [json.dumps(shell)]).fetchone()[0]  # type: ignore[index]
            inner = select[len("SELECT ") :]
            if column == "p_event_time":
                inner = f"CAST(({inner}) AS TIMESTAMP)"
            value = self.con.execute(f"SELECT CAST(({inner}) AS VARCHAR)").fetchone()[0]  # type: ignore[index]
        except (duckdb.Error, KeyError, IndexError, TypeError):
            return None
        if not isinstance(value, str) or len(value) < 10:
            return None
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None


def _reads_data(node: Any) -> bool:
    """True if an expression refers to a column, a subquery, a parameter or '*'."""
    if isinstance(node, dict):
        if node.get("class") in ("COLUMN_REF", "SUBQUERY", "STAR", "PARAMETER", "LAMBDA", "WINDOW"):
            return True
        return any(_reads_data(v) for v in node.values())
    if isinstance(node, list):
        return any(_reads_data(v) for v in node)
    return False
