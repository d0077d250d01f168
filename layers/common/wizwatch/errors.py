"""Every exception Wizwatch raises on purpose, in one small module.

Callers catch these by meaning (retry? stop this log type? quarantine?) rather than by the
library that happened to raise. Messages never contain secrets or tokens.
"""

from __future__ import annotations


class WizwatchError(Exception):
    """Base class: anything Wizwatch raises deliberately."""


class ConfigError(WizwatchError):
    """Misconfiguration detected at start-up; the message says which setting to fix and how."""


class SecretNotSetError(ConfigError):
    """The Wiz credentials secret still holds the placeholder the template generated at deploy."""

    def __init__(self, message: str, *, secret_id: str) -> None:
        super().__init__(message)
        self.secret_id = secret_id


# --- Wiz API -------------------------------------------------------------------------------


class WizApiError(WizwatchError):
    """The Wiz API answered with an error we do not retry (after retries were exhausted)."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class WizRetryableError(WizApiError):
    """Throttling, 5xx, time-outs, INTERNAL: worth another try after a back-off."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class WizAuthenticationError(WizApiError):
    """UNAUTHENTICATED / HTTP 401: the token is missing, invalid or expired (refresh once)."""


class WizAuthorizationError(WizApiError):
    """UNAUTHORIZED / HTTP 403: the service account lacks a scope; stop this log type."""


class WizCredentialsError(WizApiError):
    """The token endpoint refused the client id/secret: rotate or fix the secret."""


class WizTokenError(WizApiError):
    """The token endpoint answered 200 with something unusable (no token, a bad ``expires_in``)."""


class WizBadRequestError(WizApiError):
    """BAD_USER_INPUT and other query errors: our bug or an API change; stop and log the query."""


class CursorInvalidError(WizApiError):
    """The API rejected a saved page cursor (expired or invalid): restart the window."""


class CursorCycleError(WizApiError):
    """The API handed back a page cursor it had already given in this window: paging loops."""

    def __init__(self, message: str, *, cursor: str, first_page: int | None) -> None:
        super().__init__(message, code="CURSOR_CYCLE")
        self.cursor = cursor
        self.first_page = first_page


class TimeBudgetExceeded(WizwatchError):
    """Not enough Lambda time left to do another request safely; stop cleanly."""


# --- State -----------------------------------------------------------------------------------


class LeaseHeldError(WizwatchError):
    """Another invocation holds the cursor lease for this log type; this run skips it."""


class StaleStateError(WizwatchError):
    """A conditional write lost a race (version moved on); re-read before doing anything else."""


# --- Records and rules -----------------------------------------------------------------------


class InvalidRecord(WizwatchError):
    """A record that does not fit its log type's schema; quarantined with this reason."""

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index


class InvalidAlert(WizwatchError):
    """An alert-queue message that is not a valid alert; reported failed, it ends in the alert DLQ."""


class InvalidPage(WizwatchError):
    """An archived object that is not a readable page at all (bad gzip, not JSON, no nodes)."""


class RuleLoadError(WizwatchError):
    """A rule spec or module is invalid; the message names the file (and line), the key and the
    problem. ``rule_id`` is set when the file got far enough to say which rule it defines."""

    def __init__(
        self, path: str, key: str | None, problem: str, *, line: int | None = None, rule_id: str | None = None
    ) -> None:
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem
        self.line = line
        self.rule_id = rule_id


# --- Delivery (notifier) ----------------------------------------------------------------------


class DeliveryError(WizwatchError):
    """A delivery attempt failed; ``failure_class`` says whether retrying can help."""

    failure_class = "unavailable"

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class DeliveryUnavailable(DeliveryError):
    """Throttled, down or unreachable: retried with back-off (``retry_after`` when it said)."""


class DeliveryRejected(DeliveryError):
    """The destination refused the alert, or it is misconfigured: someone has to fix something."""

    failure_class = "rejected"


class DeliveryPending(WizwatchError):
    """A delivery is waiting for its next attempt (already recorded): its message goes back to SQS."""
