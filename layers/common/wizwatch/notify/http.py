"""Outbound HTTP for destinations: only to the configured URL, over HTTPS, answers classified.

- A URL must be ``https://`` to a host the destination type allows (Slack's, PagerDuty's...,
  or the document's ``allowed_hosts``). ``http://`` is refused, except to a loopback host when
  ``DESTINATIONS_ALLOW_LOOPBACK_HTTP`` is on (the local receivers; the template never sets it).
- Redirects are never followed: a 3xx would send the alert (and its auth header) elsewhere.
- 2xx is success. 408, 425, 429 and 5xx, time-outs and connection failures are *unavailable*
  (retried, honouring ``Retry-After``: Slack's rate limits page and PagerDuty's Events API
  overview both ask for it on 429). Any other answer is *rejected* (bad credentials, a deleted
  webhook, a payload the service refuses): retrying the same request cannot help until someone
  fixes the configuration, so it raises the rejection alarm.
- Error messages never carry the URL's path or query (a Slack or Teams webhook URL *is* the
  credential) nor the response body beyond 200 redacted characters.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from wizwatch.errors import DeliveryError, DeliveryRejected, DeliveryUnavailable
from wizwatch.notify.secrets import redact as _redact
from wizwatch.poll.retry import TRANSIENT_HTTP_ERRORS, parse_retry_after

LOOPBACK_NAMES = {"localhost"}
RETRYABLE_STATUS = {408, 425, 429}
BODY_SNIPPET = 200


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_allowed(host: str, allowed: Iterable[str]) -> bool:
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


def safe_url(url: str) -> str:
    """``https://host`` only: what may appear in a log line or a delivery record."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def check_url(url: str, *, allowed_hosts: Iterable[str] | None, allow_loopback_http: bool) -> str:
    """Return ``url`` if policy allows it, else raise :class:`DeliveryRejected` saying what is wrong."""
    parts = urlsplit(url) if isinstance(url, str) else None
    host = (parts.hostname or "").lower() if parts else ""
    if not parts or not host:
        raise DeliveryRejected("the destination URL is not an absolute URL")
    if allow_loopback_http and _is_loopback(host) and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise DeliveryRejected(
            f"refusing {parts.scheme}:// to {host}: destinations are reached over HTTPS only"
        )
    if allowed_hosts is not None and not _host_allowed(host, allowed_hosts):
        raise DeliveryRejected(
            f"refusing host {host}: not one this destination type posts to "
            f"({', '.join(allowed_hosts)}); list it under the destination's allowed_hosts if intended"
        )
    return url


@dataclass
class HttpPoster:
    """POSTs JSON bodies; one ``requests.Session`` per container (keeps TLS connections warm)."""

    allow_loopback_http: bool = False
    session: requests.Session | None = None

    def post(
        self,
        url: str,
        body: bytes,
        *,
        headers: Mapping[str, str],
        timeout: float,
        allowed_hosts: Iterable[str] | None,
        redact: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """One POST: a 2xx response, or :class:`DeliveryUnavailable` / :class:`DeliveryRejected`."""
        check_url(url, allowed_hosts=allowed_hosts, allow_loopback_http=self.allow_loopback_http)
        where = safe_url(url)
        if self.session is None:
            self.session = requests.Session()
        try:
            resp = self.session.post(
                url,
                data=body,
                headers={"Content-Type": "application/json; charset=utf-8", **headers},
                timeout=(min(5.0, timeout), timeout),
                allow_redirects=False,
            )
        except TRANSIENT_HTTP_ERRORS as exc:
            raise DeliveryUnavailable(f"{where} did not answer: {type(exc).__name__}") from None
        except requests.RequestException as exc:
            raise DeliveryUnavailable(f"{where}: request failed: {type(exc).__name__}") from None
        if 200 <= resp.status_code < 300:
            return resp
        raise classify(resp, where, redact or {})


def classify(resp: requests.Response, where: str, redact: Mapping[str, str]) -> DeliveryError:
    """The exception for a non-2xx answer, with a short redacted excerpt of its body."""
    status = resp.status_code
    snippet = _redact(" ".join((resp.text or "")[:BODY_SNIPPET].split()), dict(redact))
    message = f"{where} answered {status}" + (f": {snippet}" if snippet else "")
    if status in RETRYABLE_STATUS or status >= 500:
        return DeliveryUnavailable(
            message, status=status, retry_after=parse_retry_after(resp.headers.get("Retry-After"))
        )
    if 300 <= status < 400:
        return DeliveryRejected(
            f"{message} (redirects are not followed: configure the final URL)", status=status
        )
    return DeliveryRejected(message, status=status)
