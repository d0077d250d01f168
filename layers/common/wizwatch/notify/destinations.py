"""The notifier's configured destinations: the document read once, each type's settings checked.

A mistake in the document (an unknown type, a Jira destination without a project, a setting
with the wrong type) fails the notifier's cold start with every problem listed, like any other
misconfiguration; credentials are only read when a delivery needs them.
"""

from __future__ import annotations

from wizwatch.alerts.routing import TYPES as ROUTABLE_TYPES
from wizwatch.alerts.routing import DestinationSpec, Router, load_document
from wizwatch.errors import ConfigError
from wizwatch.notify.base import DeliveryEnv, Destination
from wizwatch.notify.jira import Jira
from wizwatch.notify.pagerduty import PagerDuty
from wizwatch.notify.slack import Slack
from wizwatch.notify.sns import Sns
from wizwatch.notify.teams import Teams
from wizwatch.notify.webhook import Webhook

TYPES: dict[str, type[Destination]] = {
    cls.type_name: cls for cls in (Sns, Slack, Teams, PagerDuty, Jira, Webhook)
}
assert set(TYPES) == set(ROUTABLE_TYPES), "routing.TYPES and the destination modules disagree"


def check_specs(specs: list[DestinationSpec], source: str) -> None:
    problems = [p for spec in specs for p in TYPES[spec.type].check_settings(spec)]
    if problems:
        raise ConfigError(f"{source} is invalid:\n  - " + "\n  - ".join(problems))


class Destinations:
    """Name -> :class:`Destination`, plus the router for alerts that carry no destinations."""

    def __init__(self, specs: list[DestinationSpec], env: DeliveryEnv) -> None:
        self.env = env
        self.router = Router(specs)
        self.by_name = {spec.name: TYPES[spec.type](spec, env) for spec in specs}

    @classmethod
    def load(cls, path: str | None, env: DeliveryEnv) -> Destinations:
        specs = load_document(path)
        check_specs(specs, f"DESTINATIONS_FILE={path}" if path else "built-in default destinations")
        return cls(specs, env)

    def get(self, name: str) -> Destination | None:
        canonical = self.router.canonical(name)
        return self.by_name.get(canonical) if canonical else None

    def names(self) -> list[str]:
        return sorted(self.by_name)
