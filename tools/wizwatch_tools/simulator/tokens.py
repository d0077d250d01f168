"""The OAuth2 client-credentials token endpoint and the tokens it hands out.

Tokens are opaque random strings valid for ``expires_in`` seconds of the simulator's clock.
Every token request by a known client is written to the tenant's own audit log as a ``Login`` of
its service account (SUCCESS, or FAILED for a wrong secret), exactly the noise a poller that
fetches a token per run would cause at Wiz.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wizwatch_tools.simulator.datagen.actors import USERPOOL_ID
from wizwatch_tools.simulator.errors import ApiError
from wizwatch_tools.simulator.store import RecordStore

DEFAULT_SCOPES = (
    "admin:audit",
    "read:issues",
    "read:vulnerabilities",
    "read:cloud_configuration",
    "read:resources",
    "read:detections",
)
DEFAULT_AUDIENCES = ("wiz-api", "beyond-api")


@dataclass
class Client:
    """A service account's credentials, its scopes and its identity in the audit log."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    name: str = "wizwatch"
    account_id: str = ""

    def __post_init__(self) -> None:
        if not self.account_id:  # stable per client id, 52 characters like Wiz's
            self.account_id = hashlib.sha256(self.client_id.encode()).hexdigest()[:52]


@dataclass
class Token:
    value: str
    client: Client
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


class TokenIssuer:
    """Issues, checks and (for fault injection) expires access tokens."""

    def __init__(
        self,
        store: RecordStore,
        lifetime_seconds: float = 86400,
        audiences: tuple[str, ...] = DEFAULT_AUDIENCES,
    ) -> None:
        self.store = store
        self.lifetime_seconds = lifetime_seconds
        self.audiences = audiences
        self.clients: dict[str, Client] = {}
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()
        self.issued = 0

    def add_client(self, client: Client) -> Client:
        self.clients[client.client_id] = client
        return client

    def issue(
        self, form: dict[str, str], source_ip: str | None, user_agent: str | None, now: datetime
    ) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for one token request, in Cognito/Auth0's error vocabulary."""
        if form.get("grant_type") != "client_credentials":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "grant_type must be client_credentials",
            }
        if not form.get("client_id") or not form.get("client_secret"):
            return 400, {
                "error": "invalid_request",
                "error_description": "client_id and client_secret are required",
            }
        audience = form.get("audience")
        if audience not in self.audiences:
            return 400, {"error": "invalid_request", "error_description": f"Service not found: {audience}"}
        client = self.clients.get(form["client_id"])
        if client is None:
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}
        if not secrets.compare_digest(client.client_secret, form["client_secret"]):
            self._login_entry(client, now, "FAILED", source_ip, user_agent)
            return 401, {"error": "access_denied", "error_description": "Unauthorized"}
        value = secrets.token_urlsafe(48)
        token = Token(value, client, now, now + timedelta(seconds=self.lifetime_seconds))
        with self._lock:
            self._tokens[value] = token
            self.issued += 1
        self._login_entry(client, now, "SUCCESS", source_ip, user_agent)
        return 200, {
            "access_token": value,
            "refresh_token": secrets.token_urlsafe(32),
            "expires_in": int(self.lifetime_seconds),
            "token_type": "Bearer",
        }

    def check(self, authorization: str | None, now: datetime) -> Token:
        """The token behind an ``Authorization: Bearer`` header, or ApiError(UNAUTHENTICATED)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise ApiError("UNAUTHENTICATED")
        with self._lock:
            token = self._tokens.get(authorization[7:].strip())
        if token is None or token.revoked or now >= token.expires_at:
            raise ApiError("UNAUTHENTICATED")
        return token

    def expire(self, value: str) -> None:
        """Make a token fail from now on, as if its lifetime had run out."""
        with self._lock:
            token = self._tokens.get(value)
            if token is not None:
                token.revoked = True

    def _login_entry(
        self, client: Client, now: datetime, status: str, ip: str | None, agent: str | None
    ) -> None:
        params: dict[str, Any] = {
            "clientID": client.client_id,
            "groups": None,
            "name": client.name,
            "products": ["*"] if status == "SUCCESS" else None,
            "role": "",
            "scopes": list(client.scopes) if status == "SUCCESS" else None,
            "sourceIP": ip,
            "userEmail": "",
            "userID": client.account_id,
            "userPoolType": "sa",
            "userpoolID": USERPOOL_ID,
        }
        if status != "SUCCESS":
            params["error"] = "failed authenticating service account"
        entry_id = self.store.new_id()
        self.store.add_audit(
            id=entry_id,
            requestId=entry_id,
            action="Login",
            status=status,
            timestamp=now,
            actionParameters=params,
            userAgent=agent,
            sourceIP=ip,
            serviceAccount={"id": client.account_id, "name": client.name},
            user=None,
            delay=0,
        )
