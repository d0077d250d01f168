"""Destinations by name, and which of them an alert goes to (Panther's routing order).

The destinations document (``config/destinations.yml``, shipped in the config layer and read
from ``DESTINATIONS_FILE``; JSON is valid YAML) names each destination, its ``type`` and its
non-secret settings; credentials live in the ``DESTINATIONS_SECRET`` Secrets Manager secret.
The detector reads it to route alerts and to refuse rules naming unknown destinations at
start-up; the notifier reads the same file to deliver (``wizwatch.notify.destinations``).

Routing, from highest precedence to lowest, as Panther documents it ("Routing Order
Precedence", docs.panther.com/alerts/destinations): the list the rule's ``destinations()``
returns; the rule's ``OutputIds`` (Destination Override); the destinations configured for the
alert's severity (which already reflects ``severity()``), alert type and log type. A
``destinations()`` result of ``[]`` or one containing ``"SKIP"`` suppresses the alert (handled
before routing, by the engine). A rule error goes "to the same destination it would normally
get sent to" (help.panther.com, rule exceptions): the rule's ``OutputIds``, else the defaults
that take ``RULE_ERROR``. Names a rule returns at run time that are not configured are
dropped with a warning; when none is left, the next level applies, so an alert is never lost
to a typo (``wizwatch test`` reports such names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from wizwatch.errors import ConfigError
from wizwatch.logs import logger

SEVERITIES = ("INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")
ALERT_TYPES = ("RULE", "RULE_ERROR")
#: Destination types the notifier can deliver to (one module each in wizwatch.notify).
TYPES = ("sns", "slack", "teams", "pagerduty", "jira", "webhook")
#: Keys every destination may carry; any other key is a type-specific setting.
COMMON_KEYS = {"type", "severities", "alert_types", "log_types", "aliases", "credentials", "description"}
#: Names end up in S3 keys and metric dimensions: keep them plain.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
SKIP = "SKIP"
#: What applies when no document is configured: every alert to the stack's SNS topic.
DEFAULT_DOCUMENT: dict[str, Any] = {"destinations": {"sns": {"type": "sns"}}}


@dataclass(frozen=True)
class DestinationSpec:
    """One configured destination: routing fields plus its type-specific ``settings``."""

    name: str
    type: str
    severities: frozenset[str] = frozenset(SEVERITIES)
    alert_types: frozenset[str] = frozenset(ALERT_TYPES)
    log_types: frozenset[str] | None = None  # None: every log type
    aliases: tuple[str, ...] = ()
    credentials: str = ""  # key in DESTINATIONS_SECRET ("" = the destination's name)
    settings: Mapping[str, Any] = field(default_factory=dict)

    @property
    def secret_key(self) -> str:
        return self.credentials or self.name

    def takes_by_default(self, alert_type: str, severity: str, log_types: Iterable[str]) -> bool:
        if severity not in self.severities or alert_type not in self.alert_types:
            return False
        return self.log_types is None or bool(self.log_types & set(log_types))


def _names(value: Any, where: str, allowed: Iterable[str] | None, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of strings, got {value!r:.80}")
        return []
    if allowed is not None:
        wrong = [v for v in value if v.upper() not in set(allowed)]
        if wrong:
            problems.append(f"{where}: {wrong} not among {', '.join(allowed)}")
    return [v.upper() if allowed is not None else v for v in value]


def parse_document(doc: Any, source: str = "destinations document") -> list[DestinationSpec]:
    """Validate the document's common part; one ConfigError lists every problem."""
    problems: list[str] = []
    specs: list[DestinationSpec] = []
    entries = doc.get("destinations") if isinstance(doc, dict) else None
    if not isinstance(entries, dict) or not entries:
        raise ConfigError(f"{source}: expected a mapping 'destinations: {{<name>: {{type: ...}}}}'")
    unknown_top = sorted(set(doc) - {"destinations", "version"})
    if unknown_top:
        problems.append(f"unknown top-level keys {unknown_top} (expected 'destinations')")
    for name, entry in entries.items():
        where = f"destinations.{name}"
        if not isinstance(name, str) or not NAME.match(name):
            problems.append(f"{where}: a name is 1-64 letters, digits, '_', '.', '-' (starting alphanumeric)")
            continue
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected a mapping with at least 'type'")
            continue
        kind = entry.get("type")
        if kind not in TYPES:
            problems.append(f"{where}.type: {kind!r} is not one of {', '.join(TYPES)}")
            continue
        severities = _names(
            entry.get("severities", list(SEVERITIES)), f"{where}.severities", SEVERITIES, problems
        )
        types = _names(
            entry.get("alert_types", list(ALERT_TYPES)), f"{where}.alert_types", ALERT_TYPES, problems
        )
        log_types = entry.get("log_types")
        aliases = _names(entry.get("aliases", []), f"{where}.aliases", None, problems)
        credentials = entry.get("credentials", "")
        if not isinstance(credentials, str):
            problems.append(f"{where}.credentials: the key of this destination in DESTINATIONS_SECRET")
            credentials = ""
        specs.append(
            DestinationSpec(
                name=name,
                type=kind,
                severities=frozenset(severities),
                alert_types=frozenset(types),
                log_types=None
                if log_types is None
                else frozenset(_names(log_types, f"{where}.log_types", None, problems)),
                aliases=tuple(aliases),
                credentials=credentials,
                settings={k: v for k, v in entry.items() if k not in COMMON_KEYS},
            )
        )
    seen: dict[str, str] = {}
    for spec in specs:
        for key in (spec.name, *spec.aliases):
            if key in seen and seen[key] != spec.name:
                problems.append(f"'{key}' names both {seen[key]} and {spec.name}")
            seen[key] = spec.name
    if problems:
        raise ConfigError(f"{source} is invalid:\n  - " + "\n  - ".join(problems))
    return specs


def load_document(path: str | Path | None) -> list[DestinationSpec]:
    """The destinations of the file at ``path``; the built-in SNS-only document without one."""
    if not path:
        return parse_document(DEFAULT_DOCUMENT, "built-in default destinations")
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(f"DESTINATIONS_FILE={path!s}: cannot read it ({exc.strerror})") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"DESTINATIONS_FILE={path!s} is not valid YAML/JSON: {exc}") from None
    return parse_document(doc, f"DESTINATIONS_FILE={path!s}")


class Router:
    """Resolves an alert's destination names; knows every configured name and alias."""

    def __init__(self, specs: list[DestinationSpec]) -> None:
        self.specs = {s.name: s for s in specs}
        self._by_key = {key: s.name for s in specs for key in (s.name, *s.aliases)}

    @classmethod
    def from_file(cls, path: str | Path | None) -> Router:
        return cls(load_document(path))

    def canonical(self, name: str) -> str | None:
        """The configured name for a name or alias (e.g. a Panther destination UUID)."""
        return self._by_key.get(name)

    def unknown(self, names: Iterable[str]) -> list[str]:
        return [n for n in names if n != SKIP and n not in self._by_key]

    def _known(self, names: Iterable[str], what: str) -> list[str]:
        out: list[str] = []
        for n in names:
            name = self.canonical(n)
            if name is None:
                logger.warning("%s names unknown destination %r; configured: %s", what, n, sorted(self.specs))
            elif name not in out:
                out.append(name)
        return out

    def resolve(
        self,
        *,
        alert_type: str,
        severity: str,
        log_types: Iterable[str],
        dynamic: list[str] | None = None,
        output_ids: Iterable[str] = (),
        rule_id: str = "",
    ) -> list[str]:
        """Destination names for one alert, in Panther's order of precedence."""
        if dynamic:
            chosen = self._known(dynamic, f"{rule_id} destinations()")
            if chosen:
                return chosen
        overrides = self._known(output_ids, f"{rule_id} OutputIds")
        if overrides:
            return overrides
        lts = list(log_types)
        return [s.name for s in self.specs.values() if s.takes_by_default(alert_type, severity, lts)]

    def check_rules(self, rules: Iterable[Any]) -> list[str]:
        """One line per rule whose ``OutputIds`` names a destination that is not configured."""
        problems = []
        for rule in rules:
            missing = self.unknown(getattr(rule, "output_ids", ()) or ())
            if missing:
                problems.append(
                    f"{rule.rule_id} ({rule.path}): OutputIds {missing} not configured; "
                    f"known destinations: {', '.join(sorted(self._by_key)) or '(none)'}"
                )
        return problems
