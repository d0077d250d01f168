"""The bearer token: fetched with the service account's credentials, cached, refreshed ahead of expiry.

Every token request is a ``Login`` in the tenant's own audit log, so the token is cached three
ways: in memory for a warm container, in the state table (``pk="token"``, table encrypted at rest)
for cold starts, and refreshed only shortly before ``expires_in`` runs out. An answer whose
``expires_in`` is zero, negative or not a number is refused (using it would mean a new token for
every request); a missing one means Wiz's documented 86400 s. When the token endpoint refuses
the credentials, they are dropped from the cache and, if the secret now holds others (a
``put-secret-value`` since), the request is retried once with those. Neither the client secret
nor a token is ever put in a log line, an exception message or a ``repr``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests
from botocore.exceptions import ClientError

from wizwatch import aws
from wizwatch.errors import WizCredentialsError, WizRetryableError, WizTokenError
from wizwatch.logs import logger
from wizwatch.poll.credentials import Credentials, CredentialsSource
from wizwatch.poll.retry import TRANSIENT_HTTP_ERRORS, Backoff, TimeBudget, parse_retry_after

TOKEN_PK = "token"
#: Wiz's documented token lifetime (wiz-api.md): used when an answer omits ``expires_in``, which
#: RFC 6749 section 5.1 makes optional ("If omitted, the authorization server SHOULD ... document
#: the default value"). Should a token die sooner, the API's UNAUTHENTICATED answer makes the
#: client fetch a new one and retry, so the guess costs one extra request, never a token per request.
DOCUMENTED_LIFETIME_SECONDS = 86400.0
#: A token living less than this could not outlast one request: refused like a non-positive one.
MIN_LIFETIME_SECONDS = 1.0


def token_lifetime(raw: Any, token_url: str) -> float:
    """Seconds a fetched token lives, from the answer's ``expires_in``; WizTokenError if unusable."""
    if raw is None:
        logger.warning(
            "the token answer has no expires_in; assuming Wiz's documented lifetime",
            extra={"token_url": token_url, "assumed_seconds": DOCUMENTED_LIFETIME_SECONDS},
        )
        return DOCUMENTED_LIFETIME_SECONDS
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip())  # some OAuth servers send the number as a string
        except ValueError:
            value = None
    shown = repr(raw)[:40]
    if value is None or not math.isfinite(value):
        problem = f"expires_in={shown} is not a number of seconds"
    elif value < MIN_LIFETIME_SECONDS:
        problem = f"expires_in={shown} is not a positive lifetime (at least {MIN_LIFETIME_SECONDS:g} s)"
    else:
        return value
    raise WizTokenError(
        f"the token endpoint {token_url} answered with a token whose {problem}; it is not used, since "
        "a token of unknown lifetime would be fetched again for every request (each one a Login in "
        "the tenant's audit log). Check WIZ_TOKEN_URL is Wiz's OAuth endpoint (Wiz documents "
        "expires_in: 86400)"
    )


@dataclass(frozen=True)
class Token:
    """A bearer token and when to stop using it (the value is hidden from ``repr``)."""

    value: str = field(repr=False)
    expires_at: float  # epoch seconds
    refresh_at: float  # epoch seconds: fetch a new one from here on

    def usable(self, now: float) -> bool:
        return now < self.refresh_at


def _fingerprint(token_url: str, audience: str, client_id: str) -> str:
    """Ties a stored token to the tenant and service account that fetched it."""
    return hashlib.sha256(f"{token_url}\n{audience}\n{client_id}".encode()).hexdigest()[:32]


class TokenStore:
    """The token item of the state table, shared by every invocation of the poller."""

    def __init__(self, table: str) -> None:
        self.table = table

    def load(self, fingerprint: str) -> Token | None:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table, Key={"pk": {"S": TOKEN_PK}}, ConsistentRead=True)
            .get("Item")
        )
        if not item or item.get("fingerprint", {}).get("S") != fingerprint:
            return None
        try:
            return Token(
                item["access_token"]["S"], float(item["expires_at"]["N"]), float(item["refresh_at"]["N"])
            )
        except (KeyError, ValueError):
            return None

    def save(self, token: Token, fingerprint: str) -> None:
        try:
            aws.client("dynamodb").put_item(
                TableName=self.table,
                Item={
                    "pk": {"S": TOKEN_PK},
                    "access_token": {"S": token.value},
                    "expires_at": {"N": repr(token.expires_at)},
                    "refresh_at": {"N": repr(token.refresh_at)},
                    "fingerprint": {"S": fingerprint},
                    "fetched_at": {"N": repr(time.time())},
                },
                # Only replace a token that expires earlier (or belongs to other credentials):
                # two runs refreshing at once must not swap a fresh token for an older one.
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :exp OR fingerprint <> :fp",
                ExpressionAttributeValues={":exp": {"N": repr(token.expires_at)}, ":fp": {"S": fingerprint}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def discard(self, token: Token) -> None:
        try:
            aws.client("dynamodb").delete_item(
                TableName=self.table,
                Key={"pk": {"S": TOKEN_PK}},
                # Delete only the token the API rejected; another run may already have stored a
                # fresh one, which must survive.
                ConditionExpression="access_token = :bad",
                ExpressionAttributeValues={":bad": {"S": token.value}},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise


class TokenProvider:
    """Hands out a valid bearer token, fetching one only when no cached token is usable."""

    def __init__(
        self,
        *,
        token_url: str,
        audience: str,
        credentials: CredentialsSource,
        store: TokenStore,
        session: requests.Session,
        refresh_seconds: float = 300,
        http_timeout: float = 30,
        max_attempts: int = 4,
        backoff: Backoff | None = None,
        on_fetch: Callable[[], None] | None = None,
        user_agent: str = "wizwatch",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token_url = token_url
        self.audience = audience
        self._credentials = credentials
        self._store = store
        self._session = session
        self._refresh_seconds = refresh_seconds
        self._http_timeout = http_timeout
        self._max_attempts = max_attempts
        self._backoff = backoff or Backoff()
        self._on_fetch = on_fetch
        self._user_agent = user_agent
        self._sleep = sleep
        self._lock = threading.Lock()
        self._token: Token | None = None

    def _fp(self, creds: Credentials) -> str:
        return _fingerprint(self.token_url, self.audience, creds.client_id)

    def get(self, budget: TimeBudget) -> Token:
        """A token usable now: memory, then the state table, then the token endpoint."""
        with self._lock:
            now = time.time()
            if self._token and self._token.usable(now):
                return self._token
            stored = self._store.load(self._fp(self._credentials.get()))
            if stored and stored.usable(now):
                self._token = stored
                return stored
            token, creds = self._fetch(budget)
            self._store.save(token, self._fp(creds))
            self._token = token
            return token

    def invalidate(self, token: Token) -> None:
        """Forget ``token`` after the API rejected it, so the next :meth:`get` fetches anew."""
        with self._lock:
            if self._token == token:
                self._token = None
            self._store.discard(token)

    def _fetch(self, budget: TimeBudget) -> tuple[Token, Credentials]:
        """A new token and the credentials that got it."""
        creds = self._credentials.get()
        try:
            return self._request(creds, budget), creds
        except WizCredentialsError:
            # Refused: never keep serving these from the cache. If the secret holds others by
            # now (put-secret-value after the first deploy, a rotation), try those once.
            self._credentials.drop()
            fresh = self._credentials.get()
            if fresh == creds:
                raise
            logger.info("the credentials secret has changed since it was read; retrying the token request")
            return self._request(fresh, budget), fresh

    def _request(self, creds: Credentials, budget: TimeBudget) -> Token:
        form = {
            "grant_type": "client_credentials",
            "audience": self.audience,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        }
        attempt = 0
        while True:
            attempt += 1
            budget.check(1.0, "a token request")
            try:
                resp = self._session.post(
                    self.token_url,
                    data=form,
                    headers={"Accept": "application/json", "User-Agent": self._user_agent},
                    timeout=max(1.0, min(self._http_timeout, budget.remaining())),
                )
                error = self._classify(resp)
            except TRANSIENT_HTTP_ERRORS as exc:
                error = WizRetryableError(f"token endpoint unreachable: {type(exc).__name__}")
            if error is None:
                if self._on_fetch:
                    self._on_fetch()
                return self._parse(resp)
            if attempt >= self._max_attempts:
                raise error
            delay = self._backoff.delay(attempt, error.retry_after)
            budget.check(delay + 1.0, "retrying the token request")
            self._sleep(delay)

    def _classify(self, resp: requests.Response) -> WizRetryableError | None:
        if resp.status_code == 200:
            return None
        if resp.status_code == 429 or resp.status_code >= 500:
            return WizRetryableError(
                f"token endpoint answered HTTP {resp.status_code}",
                status=resp.status_code,
                retry_after=parse_retry_after(resp.headers.get("Retry-After")),
            )
        oauth_error = ""
        try:
            body: Any = resp.json()
            if isinstance(body, dict) and isinstance(body.get("error"), str):
                oauth_error = f", error={body['error'][:60]}"
        except ValueError:
            pass
        raise WizCredentialsError(
            f"the token endpoint {self.token_url} refused the service account credentials "
            f"(HTTP {resp.status_code}{oauth_error}): check client_id/client_secret in "
            f"WIZ_CREDENTIALS_SECRET and that audience {self.audience!r} is right for this token URL "
            "(WIZ_AUDIENCE)",
            status=resp.status_code,
        )

    def _parse(self, resp: requests.Response) -> Token:
        try:
            body = orjson.loads(resp.content)
        except orjson.JSONDecodeError:
            raise WizTokenError(
                f"the token endpoint {self.token_url} answered 200 with a body that is not JSON"
            ) from None
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise WizTokenError(f"the token endpoint {self.token_url} answered 200 without an access_token")
        lifetime = token_lifetime(body.get("expires_in"), self.token_url)
        now = time.time()
        # Refresh ahead of expiry; for short-lived tokens keep at least 80% of the lifetime usable.
        margin = min(self._refresh_seconds, lifetime * 0.2)
        return Token(value, now + lifetime, now + lifetime - margin)
