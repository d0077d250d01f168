"""Applying the user's overrides (``rules-overrides.yml``) to loaded rules.

Each overridden rule is copied (the managed rule as written stays available as
``rule.unmodified``: its own tests run against it), the override's values are set, and its
runner is rebuilt so added InlineFilters and allow-list entries take effect. Two overrides setting
the same key of one rule, an override naming no rule, and a key a correlation rule does not have
are errors with the override's file and line.
"""

from __future__ import annotations

import copy

from wizwatch.detect import overrides as ov
from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.ruleset import RuleSet
from wizwatch.detect.runner import RuleRunner
from wizwatch.detect.simple import DetectionSyntaxError
from wizwatch.detect.spec import Problems, Rule
from wizwatch.errors import RuleLoadError


def build_runner(rule: Rule, problems: Problems) -> bool:
    """Compile the rule's callables (after overrides); False with the problem recorded."""
    try:
        rule.runner = RuleRunner(rule)
    except (DetectionSyntaxError, KeyError, TypeError) as exc:
        key = "Detection" if rule.is_simple else "InlineFilters"
        problems.add(key, str(exc))
        return False
    return True


def copy_rule(rule: Rule) -> Rule:
    """A shallow copy for overriding (module shared; runner rebuilt by the caller)."""
    twin = copy.copy(rule)
    twin.output_ids = list(rule.output_ids)
    twin.overrides = []
    twin.extra_filters = []
    twin.allow_list = []
    twin.override_tests = []
    return twin


def apply_overrides(out: RuleSet) -> None:
    """Apply every override to the rules it names; conflicts and unknown rules are errors."""
    targets: list[Rule | CorrelationRule] = [*out.rules, *out.correlations]
    known_broken = {b.rule_id for b in out.broken if b.rule_id}
    setters: dict[tuple[str, str], ov.Override] = {}
    changed: dict[str, Rule | CorrelationRule] = {}
    twin: Rule | CorrelationRule | None
    for o in out.overrides:
        hits = [t for t in targets if o.matches(t.rule_id)]
        for b in out.broken:
            if b.rule_id and o.matches(b.rule_id) and "Enabled" in o.values:
                b.enabled = bool(o.values["Enabled"])  # the user's way to silence a broken rule
                o.used = True
        if not hits:
            if not o.used and not any(o.matches(r) for r in known_broken):
                out.errors.append(
                    RuleLoadError(o.path, "RuleID", f"{o.pattern!r} matches no rule", line=o.line)
                )
            continue
        o.used = True
        for target in hits:
            problems = Problems(o.path)
            for key in o.values:
                other = setters.get((target.rule_id, key))
                if other is not None:
                    problems.errors.append(
                        RuleLoadError(
                            o.path, key, f"{target.rule_id}: also set by {other.where}", line=o.line
                        )
                    )
                setters[(target.rule_id, key)] = o
            if isinstance(target, CorrelationRule):
                for key in ("Threshold", "AllowList", "InlineFilters", "Tests"):
                    if (
                        key in o.values
                        or (key == "AllowList" and o.allow_list)
                        or (key == "InlineFilters" and o.inline_filters)
                        or (key == "Tests" and o.tests)
                    ):
                        problems.errors.append(
                            RuleLoadError(o.path, key, f"{target.rule_id} is a correlation rule", line=o.line)
                        )
            if problems.errors:
                out.errors.extend(problems.errors)
                continue
            if isinstance(target, Rule) and target.rule_id not in changed:
                twin = copy_rule(target)
                twin.unmodified = target
                changed[target.rule_id] = twin
            elif target.rule_id not in changed:
                changed[target.rule_id] = target
            _apply(changed[target.rule_id], o)
    for i, rule in enumerate(out.rules):
        twin = changed.get(rule.rule_id)
        if isinstance(twin, Rule):
            problems = Problems(rule.path)
            if build_runner(twin, problems):
                out.rules[i] = twin
            else:
                out.errors.extend(problems.errors)


_FIELDS = {
    "Enabled": "enabled",
    "Severity": "severity",
    "DedupPeriodMinutes": "dedup_period_minutes",
    "Threshold": "threshold",
    "OutputIds": "output_ids",
}


def _apply(target: Rule | CorrelationRule, o: ov.Override) -> None:
    note = f" ({o.where}{': ' + o.reason if o.reason else ''})"
    for key, value in o.values.items():
        attr = _FIELDS[key]
        before = getattr(target, attr)
        setattr(target, attr, value)
        target.overrides.append(f"{key}: {before!r} -> {value!r}{note}")
    if isinstance(target, Rule):
        if o.inline_filters:
            target.extra_filters.extend(o.inline_filters)
            target.overrides.append(f"InlineFilters: +{len(o.inline_filters)}{note}")
        for name, exprs in o.allow_list:
            target.allow_list.append((name, exprs))
            target.overrides.append(f"AllowList: {name}{note}")
        if o.tests:
            target.override_tests.extend(o.tests)
            target.overrides.append(f"Tests: +{len(o.tests)}{note}")
