"""Alert groups: the hits of one (rule, dedup string) in a page, made into what the dedup store
counts and the alert it renders when a window opens or crosses its threshold.

One :class:`AlertGroups` per Detector: the routing (Panther's order, ``wizwatch.alerts.routing``)
and where the alert says its matches are kept (``source``: the object ``Detector.process``
writes under ``matches/``). :meth:`AlertGroups.build` turns a page's :class:`Collect` into a
``wizwatch.dedup.model.Group`` whose ``render`` builds the contract's alert from the facts the
store decides (alert id, counts, times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizwatch.alerts import clock
from wizwatch.alerts.message import AlertSpec, build_alert
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.alerts.routing import Router
from wizwatch.archive import kept
from wizwatch.dedup.model import RULE, RULE_ERROR, AlertFacts, Group, GroupKey, Hit
from wizwatch.parse.identity import CONTENT_MAY_CHANGE


@dataclass
class Collect:
    """Hits of one group while a page is evaluated."""

    key: GroupKey
    first: Any  # RuleResult that opened the group in this page
    hits: list[Hit] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (identity, event)


class AlertGroups:
    """Builds a page's groups (see the module docstring)."""

    def __init__(self, *, router: Router | None, kept_bucket: str) -> None:
        self.router = router
        self.kept_bucket = kept_bucket

    def _spec(
        self, c: Collect, ref: ObjectRef, log_type: str, today: str, sources: dict[str, Any]
    ) -> AlertSpec:
        r = c.first
        rule = r.rule
        source = sources.get(rule.rule_id)
        if source is None:  # one per rule and page (build_alert copies it into each alert)
            source = sources[rule.rule_id] = self._source(ref, log_type, rule.rule_id, today)
        common = dict(
            rule_id=rule.rule_id,
            rule_name=rule.display_name or rule.rule_id,
            dedup_string=c.key.dedup,
            dedup_period_minutes=rule.dedup_period_minutes,
            log_types=list(rule.log_types),
            reports=dict(rule.reports or {}),
            tags=list(rule.tags or []),
            events=c.events,
            source=source,
        )
        if c.key.alert_type == RULE_ERROR:
            return AlertSpec(
                alert_type=RULE_ERROR,
                title=f"Rule {rule.rule_id} failed: {r.error.type}",
                severity=rule.severity,
                destinations=self._route(RULE_ERROR, rule.severity, rule, None),
                threshold=1,
                description=rule.description,
                runbook=rule.runbook,
                reference=rule.reference,
                error={"type": r.error.type, "message": r.error.message},
                **common,
            )
        return AlertSpec(
            alert_type=RULE,
            title=r.title,
            severity=r.severity,
            threshold=rule.threshold,
            description=r.description,
            runbook=r.runbook,
            reference=r.reference,
            alert_context=r.alert_context,
            suppressed=r.suppressed,
            destinations=None if r.suppressed else self._route(RULE, r.severity, rule, r.destinations),
            **common,
        )

    def _route(
        self, alert_type: str, severity: str, rule: Any, dynamic: list[str] | None
    ) -> list[str] | None:
        """Panther's routing order (wizwatch.alerts.routing); None without a router."""
        if self.router is None:
            return None
        return self.router.resolve(
            alert_type=alert_type,
            severity=severity,
            log_types=rule.log_types,
            dynamic=dynamic,
            output_ids=getattr(rule, "output_ids", ()),
            rule_id=rule.rule_id,
        )

    def _source(self, ref: ObjectRef, log_type: str, rule_id: str, today: str) -> dict[str, Any]:
        """Where the alert's matches are kept: the object :meth:`process` writes (same ``today``)."""
        bucket = self.kept_bucket or ref.bucket
        return {
            "raw_object": ref.uri,
            "log_type": log_type,
            "matches_prefix": f"s3://{bucket}/{kept.matches_prefix(rule_id)}",
            "matches_object": f"s3://{bucket}/{kept.matches_key(rule_id, ref.key, today)}",
        }

    def build(self, c: Collect, ref: ObjectRef, log_type: str, today: str, sources: dict[str, Any]) -> Group:
        spec = self._spec(c, ref, log_type, today, sources)

        def render(facts: AlertFacts) -> dict[str, Any]:
            return build_alert(
                spec,
                alert_id=facts.alert_id,
                event_count=facts.event_count,
                first_event_time=facts.first_event_time,
                last_event_time=facts.last_event_time,
                created_at=facts.created_at or clock.iso(clock.now()),
            )

        return Group(
            key=c.key,
            period_minutes=max(1, int(c.first.rule.dedup_period_minutes)),
            threshold=1 if c.key.alert_type == RULE_ERROR else max(1, int(c.first.rule.threshold)),
            counts_unique=c.key.alert_type == RULE and bool(c.first.rule.has_unique),
            hits=c.hits,
            render=render,
            suppressed=spec.suppressed,
            markers=log_type in CONTENT_MAY_CHANGE,
        )
