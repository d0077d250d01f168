"""The Wiz service account's client id and secret, read from Secrets Manager with a TTL cache.

Powertools Parameters (``SecretsProvider.get(..., max_age=...)``) keeps the value for
:data:`MAX_AGE_SECONDS`, so a warm container does not call Secrets Manager on every run, yet a
``put-secret-value`` is seen within minutes without waiting for containers to recycle; and
sooner than that: :meth:`CredentialsSource.drop` forgets the value the moment Wiz refuses it,
and the token request is retried once with whatever the secret now holds.

The template creates the secret with ``client_id`` :data:`PLACEHOLDER_CLIENT_ID` (so the stack
deploys before anyone has a service account). That value is never sent to Wiz (a refused login
would only add audit noise on the tenant); :class:`SecretNotSetError` names the secret and the
command that fills it, and the placeholder is not cached, so the very next run sees the real
value. The secret never appears in a log line, an exception message or a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError
from botocore.exceptions import ClientError

from wizwatch import aws
from wizwatch.errors import ConfigError, SecretNotSetError

#: How long a read secret is trusted before Secrets Manager is asked again.
MAX_AGE_SECONDS = 300
#: ``client_id`` written by template.yaml's ``GenerateSecretString`` until the operator sets it.
PLACEHOLDER_CLIENT_ID = "REPLACE_ME"


@dataclass(frozen=True)
class Credentials:
    """A service account's client id and secret (the secret is hidden from ``repr``)."""

    client_id: str
    client_secret: str = field(repr=False)


def put_secret_command(secret_id: str) -> str:
    """The command that fills the secret (quoted in errors, alarms and the README)."""
    return (
        f"aws secretsmanager put-secret-value --secret-id {secret_id} "
        """--secret-string '{"client_id": "<client id>", "client_secret": "<client secret>"}'"""
    )


def _error_code(exc: BaseException) -> str:
    """The AWS error code behind Powertools' GetParameterError (it wraps the ClientError)."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ClientError):
        return str(cause.response.get("Error", {}).get("Code", ""))
    return type(cause).__name__ if cause else ""


class CredentialsSource:
    """Reads and caches one secret; ``drop`` forgets it (e.g. after Wiz refused it)."""

    def __init__(
        self, secret_id: str, *, max_age: int = MAX_AGE_SECONDS, provider: SecretsProvider | None = None
    ) -> None:
        self.secret_id = secret_id
        self.max_age = max_age
        self._provider = provider

    def _secrets(self) -> SecretsProvider:
        if self._provider is None:
            self._provider = SecretsProvider(boto3_client=aws.client("secretsmanager"))
        return self._provider

    def drop(self) -> None:
        """Forget the cached value: the next :meth:`get` reads the secret again."""
        if self._provider is not None:
            self._provider.clear_cache()

    def get(self) -> Credentials:
        """The credentials; ConfigError (SecretNotSetError for the placeholder) naming the fix."""
        sid = self.secret_id
        try:
            doc: Any = self._secrets().get(sid, max_age=self.max_age, transform="json")
        except TransformParameterError:
            raise ConfigError(
                f"secret {sid!r} (WIZ_CREDENTIALS_SECRET) is not JSON; it must be an object with string "
                f"keys client_id and client_secret: {put_secret_command(sid)}"
            ) from None
        except GetParameterError as exc:
            raise ConfigError(
                f"cannot read WIZ_CREDENTIALS_SECRET {sid!r} ({_error_code(exc)}): check the secret exists "
                "and the poller's role may call secretsmanager:GetSecretValue on it"
            ) from None
        try:
            creds = self._parse(doc)
        except ConfigError:
            self.drop()  # a value being fixed must not be served from the cache for minutes
            raise
        return creds

    def _parse(self, doc: Any) -> Credentials:
        sid = self.secret_id
        if not isinstance(doc, dict):
            raise ConfigError(
                f"secret {sid!r} must be a JSON object with string keys client_id and client_secret"
            )
        client_id, client_secret = doc.get("client_id"), doc.get("client_secret")
        if client_id == PLACEHOLDER_CLIENT_ID:
            raise SecretNotSetError(
                f"the Wiz credentials secret {sid!r} still holds the placeholder written at deploy "
                f"(client_id {PLACEHOLDER_CLIENT_ID}); nothing is polled until it holds a Wiz service "
                f"account's credentials: {put_secret_command(sid)}",
                secret_id=sid,
            )
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise ConfigError(
                f"secret {sid!r} must be a JSON object with string keys client_id and client_secret"
            )
        if not client_id.strip() or not client_secret.strip():
            raise ConfigError(f"secret {sid!r} has an empty client_id or client_secret")
        return Credentials(client_id, client_secret)
