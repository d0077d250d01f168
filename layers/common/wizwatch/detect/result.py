"""What one rule made of one event: the seam between the engine and the dedup/alert layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizwatch.detect.spec import Rule


@dataclass(slots=True, frozen=True)
class RuleFunctionError:
    """An exception from a rule function (or a wrong return type), reported by name, not lost."""

    type: str
    message: str

    @classmethod
    def from_exception(cls, exc: BaseException) -> RuleFunctionError:
        return cls(type=type(exc).__name__, message=str(exc))

    def __str__(self) -> str:
        return f"{self.type}: {self.message}"


@dataclass(slots=True)
class RuleResult:
    """One rule's outcome for one event.

    ``matched`` with ``error is None``: an alert candidate with every alert field resolved
    (defaults and fallbacks applied). ``error`` set: ``rule()`` raised or returned a non-bool;
    the detector turns it into a RULE_ERROR alert deduplicated on ``dedup`` (rule id + error
    type). ``function_errors`` names the optional functions that failed and fell back.
    ``destinations == []`` (or a list holding ``"SKIP"``) means the rule suppressed this alert.
    """

    rule: Rule
    matched: bool
    error: RuleFunctionError | None = None
    title: str = ""
    dedup: str = ""
    severity: str = ""
    alert_context: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    reference: str = ""
    runbook: str = ""
    destinations: list[str] | None = None
    unique: str | None = None
    function_errors: dict[str, RuleFunctionError] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        return self.error is not None

    @property
    def suppressed(self) -> bool:
        # Panther: "If the destinations() function returns an empty list ([]) or includes
        # "SKIP", the alert will not be routed to any destination."
        return self.destinations is not None and (not self.destinations or "SKIP" in self.destinations)

    def alert_fields(self) -> dict[str, Any]:
        """The fields ``wizwatch eval`` prints for an alert."""
        return {
            "rule_id": self.rule.rule_id,
            "title": self.title,
            "dedup": self.dedup,
            "severity": self.severity,
            "alert_context": self.alert_context,
            "description": self.description,
            "reference": self.reference,
            "runbook": self.runbook,
        }
