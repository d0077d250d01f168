"""Rules that failed to load, reported through the normal alert path.

A broken rule never stops the detector: the loader leaves it out and lists it
(``Engine.broken_rules``), every other rule keeps running, and each page of the rule's log types
adds a hit to a RULE_ERROR group for it (dedup string ``<RuleID>:RuleLoadError``). The dedup
store then sends one alert per dedup window, not one per page; its event count says how many pages
ran without the rule. The ``RulesFailedToLoad`` metric (emitted every invocation) drives
``RuleLoadErrorAlarm``. A user silences it by fixing the rule or disabling it in
``rules-overrides.yml``.
"""

from __future__ import annotations

from typing import Any

from wizwatch.dedup.model import RULE_ERROR, GroupKey, Hit
from wizwatch.detect.loader import BrokenRule
from wizwatch.detect.result import RuleFunctionError, RuleResult
from wizwatch.detect.spec import Rule

ERROR_TYPE = "RuleLoadError"


def broken_rules(engine: Any) -> list[BrokenRule]:
    return list(getattr(engine, "broken_rules", []))


def _stand_in(b: BrokenRule) -> Rule:
    """A Rule carrying what the alert needs (the real one never loaded)."""
    rule_id = b.rule_id or b.key
    return Rule(
        rule_id=rule_id,
        display_name=rule_id,
        enabled=True,
        log_types=list(b.log_types),
        severity=b.severity,
        description=f"The rule failed to load and is not running: {len(b.errors)} problem(s).",
        runbook=(
            "Fix the rule (run `wizwatch test` on the rule tree: it lists every problem with file "
            "and line) and redeploy, or disable it in custom/rules-overrides.yml. Pages processed "
            "meanwhile can be replayed over the archive (`wizwatch replay`)."
        ),
        reference="",
        reports={},
        tags=[],
        dedup_period_minutes=max(1, b.dedup_period_minutes),
        threshold=1,
        has_unique=False,
        path=b.errors[0].path if b.errors else b.key,
        source=b.source,
    )


def load_error_hits(engine: Any, log_type: str, source_key: str) -> list[tuple[GroupKey, RuleResult, Hit]]:
    """One RULE_ERROR hit per broken rule that would have run on this log type's page."""
    out = []
    for b in broken_rules(engine):
        if b.log_types and log_type not in b.log_types:
            continue
        rule = _stand_in(b)
        message = "\n".join(str(e) for e in b.errors)
        error = RuleFunctionError(ERROR_TYPE, message)
        dedup = f"{rule.rule_id}:{ERROR_TYPE}"
        result = RuleResult(
            rule=rule,
            matched=False,
            error=error,
            title=f"Rule {rule.rule_id} failed to load",
            dedup=dedup,
            severity=rule.severity,
            description=rule.description,
            runbook=rule.runbook,
        )
        hit = Hit(identity=f"rule-load-error#{b.digest}#{source_key}")
        out.append((GroupKey(RULE_ERROR, rule.rule_id, dedup), result, hit))
    return out
