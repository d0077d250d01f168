"""The common part of every destination type: settings checks, credentials, sizing, posting.

A destination type subclasses :class:`Destination` with ``render(alert) -> payload`` (the
service's message, built only from the alert) and ``send(alert, timeout) -> Receipt``. The base
shrinks the alert until the rendered payload fits the service's limit (``max_bytes``) by the
same steps as the alert queue (``wizwatch.alerts.message.fit``: events, then context, then
long texts), so the JSON stays whole and valid; it never cuts serialised text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import requests

from wizwatch.alerts.message import dumps, fit
from wizwatch.alerts.routing import DestinationSpec
from wizwatch.errors import DeliveryRejected
from wizwatch.notify.http import HttpPoster
from wizwatch.notify.secrets import DestinationSecrets


@dataclass
class Receipt:
    """What the destination answered: an id to find the alert there (issue key, dedup key...)."""

    external_id: str = ""


@dataclass
class DeliveryEnv:
    """What every destination shares within one container."""

    secrets: DestinationSecrets
    http: HttpPoster = field(default_factory=HttpPoster)
    region: str = ""
    alert_topic_arn: str = ""
    sns_client: Callable[[], Any] | None = None


#: Bytes kept free for credentials that travel inside the payload.
SECRET_RESERVE = 1024


class Destination(ABC):
    """One configured destination of one type."""

    type_name: ClassVar[str]
    #: Fields this type needs from its DESTINATIONS_SECRET entry.
    credential_fields: ClassVar[tuple[str, ...]] = ()
    #: Hosts it may post to (``*.suffix`` allowed); None: any host (the generic webhook).
    default_hosts: ClassVar[tuple[str, ...] | None] = None
    #: The service's limit on one request body.
    max_bytes: ClassVar[int] = 256 * 1024
    #: Type-specific settings the document may give: name -> expected Python type.
    settings_types: ClassVar[dict[str, Any]] = {}

    def __init__(self, spec: DestinationSpec, env: DeliveryEnv) -> None:
        self.spec = spec
        self.env = env

    @property
    def name(self) -> str:
        return self.spec.name

    @classmethod
    def check_settings(cls, spec: DestinationSpec) -> list[str]:
        """Problems with the document's settings for this destination (empty when fine)."""
        known: dict[str, Any] = {**cls.settings_types, "allowed_hosts": list, "timeout_seconds": (int, float)}
        problems = []
        for key, value in spec.settings.items():
            if key not in known:
                problems.append(f"destinations.{spec.name}.{key}: unknown setting for type {cls.type_name}")
            elif not isinstance(value, known[key]):
                problems.append(f"destinations.{spec.name}.{key}: expected {known[key]}, got {value!r:.60}")
        return problems

    def setting(self, key: str, default: Any = None) -> Any:
        return self.spec.settings.get(key, default)

    def credentials(self) -> dict[str, Any]:
        return self.env.secrets.entry(
            self.spec.secret_key, self.credential_fields, optional=not self.credential_fields
        )

    def allowed_hosts(self) -> tuple[str, ...] | None:
        given = self.setting("allowed_hosts")
        return tuple(given) if given else self.default_hosts

    @abstractmethod
    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        """The service's message for ``alert`` (no secrets in it)."""

    def payload(self, alert: dict[str, Any]) -> dict[str, Any]:
        """``render`` of the alert shrunk until it fits ``max_bytes`` (less room for credentials
        a type adds to the payload itself, such as PagerDuty's routing key)."""
        budget = self.byte_limit() - SECRET_RESERVE
        return self.render(fit(alert, budget, size_of=lambda a: len(dumps(self.render(a)))))

    def encode(self, payload: dict[str, Any]) -> bytes:
        data = dumps(payload)
        if len(data) > self.byte_limit():
            raise DeliveryRejected(f"{self.name}: message of {len(data)} bytes exceeds {self.byte_limit()}")
        return data

    def byte_limit(self) -> int:
        return self.max_bytes

    @abstractmethod
    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        """Deliver once; raise DeliveryUnavailable / DeliveryRejected on failure."""

    def post(
        self, url: str, body: bytes, timeout: float, headers: dict[str, str] | None = None
    ) -> requests.Response:
        timeout = min(timeout, float(self.setting("timeout_seconds", timeout)))
        return self.env.http.post(
            url,
            body,
            headers=headers or {},
            timeout=timeout,
            allowed_hosts=self.allowed_hosts(),
            redact=self.env.secrets.redactions(),
        )
