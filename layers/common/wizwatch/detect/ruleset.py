"""What loading a rule tree gives: the rules, the correlation rules, what failed and why."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from wizwatch.detect.correlation_spec import CorrelationRule
from wizwatch.detect.overrides import Override
from wizwatch.detect.spec import Rule
from wizwatch.errors import RuleLoadError


@dataclass
class BrokenRule:
    """A rule (or a file that looked like one) that failed to load: disabled, and reported."""

    key: str  # the RuleID when known, else the file
    errors: list[RuleLoadError]
    rule_id: str | None = None
    enabled: bool = True
    log_types: list[str] = field(default_factory=list)
    severity: str = "HIGH"
    dedup_period_minutes: int = 60
    source: str = ""

    @property
    def digest(self) -> str:
        """Changes when the problems change (a new RULE_ERROR window per distinct breakage)."""
        text = "\n".join(str(e) for e in self.errors)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    correlations: list[CorrelationRule] = field(default_factory=list)
    errors: list[RuleLoadError] = field(default_factory=list)
    broken: list[BrokenRule] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    #: (file, why) for files found and deliberately not run (packs, helper specs...).
    skipped: list[tuple[str, str]] = field(default_factory=list)
