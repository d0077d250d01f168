"""Destination credentials from one Secrets Manager secret, and keeping them out of logs.

``DESTINATIONS_SECRET`` holds a JSON object keyed by destination name (or a destination's
``credentials`` key): ``{"slack-secops": {"url": "https://hooks.slack.com/services/..."},
"pagerduty": {"routing_key": "..."}, "jira": {"email": "...", "api_token": "..."}}``. It is read
with Powertools Parameters (a ``SecretsProvider`` on the container's Secrets Manager client, so
the cache belongs to this object, not to the process; values are kept ``MAX_AGE_SECONDS``, so a
rotated value is seen within minutes, and a refusal by a destination forces a fresh read, see
aws-fidelity.md on stale secrets).
Every string in it is a secret: :meth:`DestinationSecrets.redactions` masks them wherever a
message could carry one (error texts, delivery records, logs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from aws_lambda_powertools.utilities import parameters

from wizwatch import aws
from wizwatch.errors import DeliveryRejected, DeliveryUnavailable

MAX_AGE_SECONDS = 300
MASK = "***"


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


class DestinationSecrets:
    """The secret's destination entries; ``secret_id`` empty means no secret is configured."""

    def __init__(self, secret_id: str) -> None:
        self.secret_id = secret_id
        self._doc: dict[str, Any] | None = None
        self._provider: parameters.SecretsProvider | None = None

    def _load(self, force: bool = False) -> dict[str, Any]:
        if not self.secret_id:
            raise DeliveryRejected("DESTINATIONS_SECRET is not set: this destination needs credentials")
        try:
            if self._provider is None:
                self._provider = parameters.SecretsProvider(boto3_client=aws.client("secretsmanager"))
            doc = self._provider.get(
                self.secret_id, transform="json", max_age=MAX_AGE_SECONDS, force_fetch=force
            )
        except parameters.exceptions.TransformParameterError:
            raise DeliveryRejected("DESTINATIONS_SECRET is not a JSON object keyed by destination") from None
        except parameters.exceptions.GetParameterError as exc:
            # Access denied and a missing secret look alike here; both may be transient
            # while a deployment settles, so they are retried (and end in the DLQ if not).
            raise DeliveryUnavailable(f"cannot read DESTINATIONS_SECRET: {str(exc)[:200]}") from None
        if not isinstance(doc, dict):
            raise DeliveryRejected("DESTINATIONS_SECRET is not a JSON object keyed by destination")
        self._doc = doc
        return doc

    def entry(self, key: str, required: tuple[str, ...], *, optional: bool = False) -> dict[str, Any]:
        """The credentials stored under ``key``, checked to hold ``required`` string fields;
        ``optional``: {} when there is no secret or no entry (e.g. a webhook without auth)."""
        if optional and not self.secret_id:
            return {}
        doc = self._load()
        entry = doc.get(key)
        if entry is None and optional:
            return {}
        if not isinstance(entry, dict):
            raise DeliveryRejected(f"DESTINATIONS_SECRET has no object under {key!r}")
        missing = [k for k in required if not isinstance(entry.get(k), str) or not entry[k]]
        if missing:
            raise DeliveryRejected(f"DESTINATIONS_SECRET[{key!r}] lacks {', '.join(missing)}")
        return entry

    def refresh(self) -> None:
        """Read the secret again at the next use (a destination refused the credentials)."""
        if self.secret_id and self._doc is not None:
            try:
                self._load(force=True)
            except DeliveryUnavailable:
                pass

    def redactions(self) -> dict[str, str]:
        """Every secret string seen so far -> its mask (longest first, so no partial leak)."""
        values = sorted({s for s in _strings(self._doc or {}) if len(s) >= 4}, key=len, reverse=True)
        return dict.fromkeys(values, MASK)


def redact(text: str, redactions: dict[str, str]) -> str:
    for secret, mask in redactions.items():
        text = text.replace(secret, mask)
    return text
