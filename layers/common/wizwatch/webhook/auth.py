"""Who may push: Bearer tokens and Basic credentials from a Secrets Manager secret.

The secret (``WEBHOOK_AUTH_SECRET``) holds ``{"bearer_tokens": ["..."], "basic": [{"username":
"...", "password": "..."}]}``: either part, several entries at once so a credential can be rotated
without a gap (add the new one, switch Wiz over, remove the old one). ``"bearer_token": "..."``
(one string) is accepted too: it is what the template generates on first deploy.

Comparison is constant-time: the presented value and every stored one are reduced to SHA-256
digests (equal length, so ``hmac.compare_digest`` does not leak the length) and every stored
credential is compared, whichever matches. A refusal says nothing about why.

Caching: Powertools' SecretsProvider keeps the secret for ``WEBHOOK_AUTH_CACHE_SECONDS``. Our own
addition is the refusal path: a credential just added to the secret must not be refused for the
rest of the TTL, so a refused request re-reads the secret, but at most once per
``WEBHOOK_AUTH_REFRESH_SECONDS`` per container, so a flood of bad credentials costs at most one
Secrets Manager call per interval.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wizwatch.errors import WizwatchError

#: Longest Authorization header looked at (longer ones are refused unread).
MAX_HEADER_CHARS = 4096
#: Shorter bearer tokens are accepted but logged as weak.
MIN_TOKEN_CHARS = 16


class AuthSecretError(WizwatchError):
    """The auth secret cannot be read or is malformed: the endpoint answers 5xx (Wiz retries)."""


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class Credentials:
    """Digests of the accepted credentials (the secret's values are not kept)."""

    bearer: tuple[bytes, ...] = ()
    basic: tuple[tuple[bytes, bytes], ...] = ()
    weak_tokens: int = 0

    @property
    def empty(self) -> bool:
        return not self.bearer and not self.basic

    def accepts(self, authorization: str | None) -> bool:
        """True when the ``Authorization`` header carries one of the credentials."""
        if not authorization or len(authorization) > MAX_HEADER_CHARS:
            return False
        scheme, _, value = authorization.strip().partition(" ")
        scheme = scheme.lower()
        value = value.strip()
        if scheme == "bearer" and value:
            presented = _digest(value)
            ok = False
            for stored in self.bearer:  # every one, so the time does not say which matched
                ok |= hmac.compare_digest(presented, stored)
            return ok
        if scheme == "basic" and value:
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return False
            user, sep, password = decoded.partition(":")
            if not sep:
                return False
            pu, pp = _digest(user), _digest(password)
            ok = False
            for su, sp in self.basic:
                ok |= hmac.compare_digest(pu, su) & hmac.compare_digest(pp, sp)
            return ok
        return False


def parse_secret(text: str) -> Credentials:
    """The secret string -> Credentials; AuthSecretError naming what is wrong (never a value)."""
    try:
        doc = json.loads(text)
    except ValueError:
        raise AuthSecretError("the webhook auth secret is not JSON") from None
    if not isinstance(doc, dict):
        raise AuthSecretError("the webhook auth secret must be a JSON object")
    tokens: list[Any] = []
    raw_tokens = doc.get("bearer_tokens", [])
    if not isinstance(raw_tokens, list):
        raise AuthSecretError("bearer_tokens must be a list of strings")
    tokens += raw_tokens
    if "bearer_token" in doc:
        tokens.append(doc["bearer_token"])
    bearer: list[bytes] = []
    weak = 0
    for i, token in enumerate(tokens):
        if not isinstance(token, str) or not token.strip():
            raise AuthSecretError(f"bearer token #{i + 1} is not a non-empty string")
        if token != token.strip() or " " in token:
            raise AuthSecretError(f"bearer token #{i + 1} has spaces, which a header cannot carry")
        weak += len(token) < MIN_TOKEN_CHARS
        bearer.append(_digest(token))
    raw_basic = doc.get("basic", [])
    if not isinstance(raw_basic, list):
        raise AuthSecretError('basic must be a list of {"username", "password"} objects')
    basic: list[tuple[bytes, bytes]] = []
    for i, pair in enumerate(raw_basic):
        user = pair.get("username") if isinstance(pair, dict) else None
        password = pair.get("password") if isinstance(pair, dict) else None
        if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
            raise AuthSecretError(f"basic entry #{i + 1} needs a non-empty username and password")
        if ":" in user:
            raise AuthSecretError(f"basic entry #{i + 1}: a username cannot contain ':' (RFC 7617)")
        basic.append((_digest(user), _digest(password)))
    return Credentials(tuple(bearer), tuple(basic), weak)


class CredentialCache:
    """The container's credentials: read through ``fetch`` (returns the secret string)."""

    def __init__(
        self,
        fetch: Callable[[bool], str],
        *,
        refresh_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``fetch(force)`` returns the secret string, from its own TTL cache unless ``force``."""
        self._fetch = fetch
        self._refresh = refresh_seconds
        self._clock = clock
        self._raw: str | None = None
        self._credentials = Credentials()
        self._forced_at: float | None = None

    def _load(self, force: bool) -> Credentials:
        try:
            raw = self._fetch(force)
        except AuthSecretError:
            raise
        except Exception as exc:  # botocore / Powertools errors: name the cause, never a value
            raise AuthSecretError(
                f"cannot read the webhook auth secret: {type(exc).__name__}: {exc}"
            ) from None
        if raw != self._raw:
            self._credentials = parse_secret(raw)
            self._raw = raw
        return self._credentials

    def check(self, authorization: str | None) -> tuple[bool, Credentials]:
        """(accepted?, the credentials it was checked against). Raises AuthSecretError."""
        creds = self._load(False)
        if creds.accepts(authorization):
            return True, creds
        now = self._clock()
        if self._forced_at is None or now - self._forced_at >= self._refresh:
            self._forced_at = now
            creds = self._load(True)
            return creds.accepts(authorization), creds
        return False, creds
