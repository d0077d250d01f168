"""A generic webhook: the contract's alert JSON, POSTed with the headers you configure.

What a receiver gets: ``Content-Type: application/json; charset=utf-8``, the alert object of the
contract (README, "Alert message") as the body, trimmed to ``max_bytes`` by the alert's own
fitting steps, and these headers: ``X-Wizwatch-Alert-Id`` (the same for every re-send: use it to
drop duplicates), ``X-Wizwatch-Destination``, any ``headers`` from the secret entry (e.g.
``Authorization``), and when the entry holds an ``hmac_secret``,
``X-Wizwatch-Signature: sha256=<hex HMAC-SHA256 of the body>`` so the receiver can check origin.
Any 2xx is success; 408/425/429/5xx are retried (``Retry-After`` honoured); other answers are
rejections.

Secret entry: ``{"url": "https://soar.example.com/hooks/wiz", "headers": {"Authorization":
"Bearer ..."}, "hmac_secret": "..."}`` (``url`` may instead be a setting when it is not secret).
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from wizwatch.alerts.routing import DestinationSpec
from wizwatch.errors import DeliveryRejected
from wizwatch.notify.base import Destination, Receipt

#: Header names a configuration may not override (they carry the delivery's own metadata).
RESERVED = {"content-type", "content-length", "host", "x-wizwatch-alert-id", "x-wizwatch-signature"}


class Webhook(Destination):
    type_name = "webhook"
    credential_fields = ()
    default_hosts = None
    max_bytes = 256 * 1024
    settings_types = {"url": str, "max_bytes": int}

    @classmethod
    def check_settings(cls, spec: DestinationSpec) -> list[str]:
        problems = super().check_settings(spec)
        limit = spec.settings.get("max_bytes", cls.max_bytes)
        if not isinstance(limit, int) or not 4096 <= limit <= 1024 * 1024:
            problems.append(f"destinations.{spec.name}.max_bytes: between 4096 and 1048576")
        return problems

    def byte_limit(self) -> int:
        return int(self.setting("max_bytes", self.max_bytes))

    def render(self, alert: dict[str, Any]) -> dict[str, Any]:
        return dict(alert)

    def send(self, alert: dict[str, Any], timeout: float) -> Receipt:
        creds = self.credentials()
        url = creds.get("url") or self.setting("url")
        if not isinstance(url, str) or not url:
            raise DeliveryRejected(f"{self.name}: no url (secret entry or setting)")
        extra = creds.get("headers") or {}
        if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
            raise DeliveryRejected(f"{self.name}: secret 'headers' must map names to strings")
        clash = sorted(k for k in extra if k.lower() in RESERVED)
        if clash:
            raise DeliveryRejected(f"{self.name}: secret 'headers' may not set {clash}")
        body = self.encode(self.payload(alert))
        headers = {
            **extra,
            "X-Wizwatch-Alert-Id": str(alert["alert_id"]),
            "X-Wizwatch-Destination": self.name,
        }
        key = creds.get("hmac_secret")
        if isinstance(key, str) and key:
            headers["X-Wizwatch-Signature"] = (
                "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
            )
        self.post(url, body, timeout, headers)
        return Receipt()
