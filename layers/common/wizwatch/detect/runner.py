"""Running one rule on one event with Panther's defaults, fallbacks and caps.

Python rules and simple detections end up as the same set of callables (rule, title, dedup, …),
so the fallback logic below exists once. Optional functions run only when the rule fires; their
errors fall back to defaults and are listed in ``function_errors`` (test mode fails on them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from wizwatch.detect import selection, selection_ast, simple
from wizwatch.detect.event import ImmutableCaseInsensitiveDict, ImmutableList, PantherEvent, unwrap
from wizwatch.detect.result import RuleFunctionError, RuleResult
from wizwatch.detect.spec import SEVERITIES, Rule

MAX_FIELD = 1000
TRUNCATED = "... (truncated)"
MAX_CONTEXT = 204_800
MAX_DESTINATIONS = 10

OPTIONAL_FUNCTIONS = (
    "title",
    "dedup",
    "severity",
    "alert_context",
    "description",
    "reference",
    "runbook",
    "destinations",
    "unique",
)


class FunctionReturnTypeError(TypeError):
    """A rule function returned a value of the wrong type."""


def truncate(value: str) -> str:
    if len(value) > MAX_FIELD:
        return value[: MAX_FIELD - len(TRUNCATED)] + TRUNCATED
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, ImmutableCaseInsensitiveDict | ImmutableList):
        return value._data  # plain JSON underneath: serialised as is, no copy
    plain = unwrap(value)
    if plain is value:
        if isinstance(value, set | frozenset):
            return sorted(value, key=repr)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")
    return plain


_dumps = orjson.dumps
_loads = orjson.loads
_NON_STR_KEYS = orjson.OPT_NON_STR_KEYS


def to_json(value: Any) -> bytes:
    return _dumps(value, default=_json_default, option=_NON_STR_KEYS)


class RuleRunner:
    """The callables of one rule (Python or simple) and the logic to produce its RuleResult."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        spec = rule.spec
        self.functions: dict[str, Callable[[Any], Any]] = {}
        self.filter: simple.Compiled | None = None
        filters = [*(spec.get("InlineFilters") or []), *rule.extra_filters]
        if filters:
            self.filter = simple.compile_expressions(filters, "InlineFilters")
        #: The overrides' allow-list: an event matching any entry is never evaluated (no index
        #: terms: it only ever removes events).
        self.allow: simple.Compiled | None = None
        if rule.allow_list:
            entries = [simple.compile_expressions(exprs, "AllowList") for _, exprs in rule.allow_list]
            self.allow = _negated_any(entries)
        self.detection: simple.Compiled | None = None
        if rule.module is not None:
            for name in ("rule", *OPTIONAL_FUNCTIONS):
                fn = getattr(rule.module, name, None)
                if callable(fn):
                    self.functions[name] = fn
            self._python = True
        else:
            self.detection = simple.compile_expressions(spec["Detection"], "Detection")
            self._python = False
            self._compile_simple_outputs(spec)
        terms = []
        if self.filter is not None:
            terms.extend(self.filter.index_terms)
        if self.detection is not None:
            terms.extend(self.detection.index_terms)
        #: (key, values) terms that must hold for the rule to match (top-level simple ones).
        self.index_terms = terms
        self._filters = filters
        self._selectors: list[selection.Term] | None = None
        self._bind()
        compiled = [c for c in (self.filter, self.allow, self.detection) if c is not None]
        preds = [c.predicate for c in compiled]
        #: Top-level keys that alone decide :attr:`prefilter` (see ``simple.Compiled.keys``).
        self.prefilter_keys: frozenset[str] | None = frozenset()
        for c in compiled:
            self.prefilter_keys = (
                None if c.keys is None or self.prefilter_keys is None else self.prefilter_keys | c.keys
            )
        self.prefilter: Callable[[Any], bool] | None = simple.all_of(preds) if preds else None

    @property
    def selectors(self) -> list[selection.Term]:
        """Necessary conditions derived from the filters, the detection and the rule's own code:
        the engine runs the rule only on events they accept (``wizwatch.detect.selection``).

        Derived when the engine first indexes one of the rule's log types (or a tool asks), so a
        cold start reads only the code of the rules its first page needs.
        """
        found = self._selectors
        if found is None:
            found = self._selectors = [
                *selection.expression_terms(self._filters, "InlineFilters"),
                *(
                    selection.expression_terms(self.rule.spec["Detection"], "Detection")
                    if self.detection
                    else []
                ),
                *(selection_ast.python_terms(self.functions["rule"]) if self._python else []),
            ]
        return found

    # --- simple detections -------------------------------------------------------------------

    def _compile_simple_outputs(self, spec: dict[str, Any]) -> None:
        title = spec.get("AlertTitle")
        if isinstance(title, str):
            render = simple.compile_title(title)
            self.functions["title"] = lambda ev: render(ev._data)
        group_by = spec.get("GroupBy")
        if group_by:
            getters = [simple.compile_lookup(g["Key"] if isinstance(g, dict) else str(g)) for g in group_by]

            def dedup(ev: PantherEvent) -> str:
                return ":".join("" if (v := get(ev._data)) is None else str(v) for get in getters)

            self.functions["dedup"] = dedup
        context = spec.get("AlertContext")
        if context:
            items = []
            for c in context:
                kv = c.get("KeyValue", {})
                path = kv.get("Key") if isinstance(kv, dict) else kv
                items.append((str(c["KeyName"]), simple.compile_lookup(str(path))))

            def alert_context(ev: PantherEvent) -> dict[str, Any]:
                data = ev._data
                return {name: get(data) for name, get in items}

            self.functions["alert_context"] = alert_context
        dyn = spec.get("DynamicSeverities")
        if dyn:
            options = [
                (
                    str(d["ChangeTo"]),
                    simple.compile_expressions(d["Conditions"], "DynamicSeverities").predicate,
                )
                for d in dyn
            ]

            def severity(ev: PantherEvent) -> str:
                for change_to, pred in options:
                    if pred(ev._data):
                        return change_to
                return "DEFAULT"

            self.functions["severity"] = severity

    # --- running -----------------------------------------------------------------------------

    def passes_prefilter(self, event: dict[str, Any]) -> bool:
        return self.prefilter is None or self.prefilter(event)

    def run(
        self, event: dict[str, Any], wrapped: PantherEvent | None = None, *, prefiltered: bool = False
    ) -> RuleResult | None:
        """The result for an event (None when the rule does not match and did not fail).

        ``prefiltered``: the caller already checked :attr:`prefilter` (filters and detection).
        """
        if not prefiltered:
            if self.prefilter is not None and not self.prefilter(event):
                return None
            prefiltered = True
        ev = wrapped if wrapped is not None else PantherEvent(event)
        if self._python:
            try:
                matched = self.functions["rule"](ev)
            except Exception as exc:
                return self._error(RuleFunctionError.from_exception(exc))
            if type(matched) is not bool:
                return self._error(
                    RuleFunctionError(
                        "FunctionReturnTypeError",
                        f"rule returned {type(matched).__name__} ({matched!r:.100}), expected bool",
                    )
                )
        else:
            matched = True  # the prefilter included the detection
        if not matched:
            return None
        return self.alert(ev)

    def _error(self, error: RuleFunctionError) -> RuleResult:
        rule = self.rule
        return RuleResult(
            rule=rule,
            matched=False,
            error=error,
            title=truncate(f"Error in rule {rule.rule_id}: {error.type}: {error.message}"),
            dedup=f"{rule.rule_id}:{error.type}",
            severity=rule.severity,
            description=rule.description,
            reference=rule.reference,
            runbook=rule.runbook,
        )

    def _call(self, name: str, ev: PantherEvent, errors: dict[str, RuleFunctionError]) -> Any:
        try:
            return self.functions[name](ev)
        except Exception as exc:
            errors[name] = RuleFunctionError.from_exception(exc)
            return _FAILED

    def _bind(self) -> None:
        """Resolve the function table and the defaults once; alert() runs on every match."""
        rule = self.rule
        fns = self.functions
        self._title_fn = fns.get("title")
        self._dedup_fn = fns.get("dedup")
        self._severity_fn = fns.get("severity")
        self._context_fn = fns.get("alert_context")
        self._destinations_fn = fns.get("destinations")
        self._unique_fn = fns.get("unique")
        self._default_title = truncate(rule.display_name or rule.rule_id)
        self._default_dedup = f"defaultDedupString:{rule.rule_id}"
        self._defaults = (truncate(rule.description), truncate(rule.reference), truncate(rule.runbook))
        self._text_fns = tuple(
            (i, name, fns[name])
            for i, name in enumerate(("description", "reference", "runbook"))
            if name in fns
        )

    def alert(self, ev: PantherEvent) -> RuleResult:
        """Every alert field for a matched event, with Panther's fallbacks."""
        rule = self.rule
        errors: dict[str, RuleFunctionError] = {}

        title = self._default_title
        fn = self._title_fn
        if fn is not None:
            try:
                value = fn(ev)
            except Exception as exc:
                errors["title"] = RuleFunctionError.from_exception(exc)
                title = rule.rule_id
            else:
                if type(value) is not str:
                    errors["title"] = _type_error("title", value, "str")
                    title = rule.rule_id
                elif value:
                    title = truncate(value)

        dedup = title
        fn = self._dedup_fn
        if fn is not None:
            try:
                value = fn(ev)
            except Exception as exc:
                errors["dedup"] = RuleFunctionError.from_exception(exc)
                dedup = self._default_dedup
            else:
                if type(value) is not str:
                    errors["dedup"] = _type_error("dedup", value, "str")
                    dedup = self._default_dedup
                else:
                    dedup = truncate(value) if value else self._default_dedup

        severity = rule.severity
        fn = self._severity_fn
        if fn is not None:
            value = self._call("severity", ev, errors)
            if isinstance(value, str):
                upper = value.upper()
                if upper in SEVERITIES:
                    severity = upper
                elif upper != "DEFAULT":
                    errors["severity"] = RuleFunctionError(
                        "FunctionReturnTypeError",
                        f"severity returned {value!r:.100}, expected one of "
                        f"{', '.join(SEVERITIES)} or DEFAULT",
                    )
            elif value is not _FAILED:
                errors["severity"] = _type_error("severity", value, "str")

        context: dict[str, Any] = {} if self._context_fn is None else self._context(ev, errors)

        texts = self._defaults
        if self._text_fns:
            out = list(texts)
            for i, name, fn in self._text_fns:
                try:
                    value = fn(ev)
                except Exception as exc:
                    errors[name] = RuleFunctionError.from_exception(exc)
                    value = ""
                if not isinstance(value, str):
                    errors[name] = _type_error(name, value, "str")
                    value = ""
                out[i] = truncate(value)
            texts = (out[0], out[1], out[2])

        destinations: list[str] | None = None
        if self._destinations_fn is not None:
            value = self._call("destinations", ev, errors)
            if isinstance(value, list | tuple) and all(isinstance(d, str) for d in value):
                destinations = list(value)[:MAX_DESTINATIONS]
            elif value is not None and value is not _FAILED:
                errors["destinations"] = _type_error("destinations", value, "list[str]")

        unique: str | None = None
        fn = self._unique_fn
        if fn is not None:
            try:
                value = fn(ev)
            except Exception as exc:
                errors["unique"] = RuleFunctionError.from_exception(exc)
            else:
                if type(value) is str:
                    unique = value
                else:
                    errors["unique"] = _type_error("unique", value, "str")

        return RuleResult(
            rule,
            True,
            None,
            title,
            dedup,
            severity,
            context,
            texts[0],
            texts[1],
            texts[2],
            destinations,
            unique,
            errors,
        )

    def _context(self, ev: PantherEvent, errors: dict[str, RuleFunctionError]) -> dict[str, Any]:
        value = self._call("alert_context", ev, errors)
        if value is _FAILED:
            err = errors["alert_context"]
            return {"_error": f"{err.type}({err.message!r})"}
        if not isinstance(value, dict | ImmutableCaseInsensitiveDict):
            errors["alert_context"] = _type_error("alert_context", value, "a mapping")
            return {"_error": f"alert_context returned {type(value).__name__}, expected a mapping"}
        try:
            raw = _dumps(value, default=_json_default, option=_NON_STR_KEYS)
        except TypeError as exc:
            errors["alert_context"] = RuleFunctionError.from_exception(exc)
            return {"_error": f"alert_context is not JSON serializable: {exc}"}
        if len(raw) > MAX_CONTEXT:
            return {
                "_error": f"alert_context size is {len(raw)} characters, bigger than maximum of "
                f"{MAX_CONTEXT // 1024} KB"
            }
        plain: dict[str, Any] = _loads(raw)
        return plain


def _negated_any(entries: list[simple.Compiled]) -> simple.Compiled:
    """True when no entry matches (the allow-list as a filter); reads the entries' keys."""
    preds = tuple(e.predicate for e in entries)
    keys: frozenset[str] | None = frozenset()
    for e in entries:
        keys = None if e.keys is None or keys is None else keys | e.keys
    return simple.Compiled(lambda d: not any(p(d) for p in preds), [], keys)


class _Failed:
    def __repr__(self) -> str:
        return "<failed>"


_FAILED: Any = _Failed()


def _type_error(name: str, value: Any, expected: str) -> RuleFunctionError:
    return RuleFunctionError(
        "FunctionReturnTypeError",
        f"{name} returned {type(value).__name__} ({value!r:.100}), expected {expected}",
    )
