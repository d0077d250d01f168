"""The webhook function's settings, read from its environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from wizwatch.config import setting
from wizwatch.errors import ConfigError

#: Panther's HTTP source caps a payload at 1 MB; Wiz's issue and detection bodies are a few KB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class WebhookConfig:
    auth_secret: str = setting(
        "WEBHOOK_AUTH_SECRET",
        'Secrets Manager id or ARN of {"bearer_tokens": [...]} and/or {"basic": [{"username", '
        '"password"}]} (several at once, for rotation)',
    )
    raw_bucket: str = setting("RAW_BUCKET", "S3 bucket of the raw archive (pushed bodies go under raw/)")
    max_body_bytes: int = setting(
        "WEBHOOK_MAX_BODY_BYTES", "largest body accepted; larger ones get 413", default=DEFAULT_MAX_BODY_BYTES
    )
    auth_cache_seconds: int = setting(
        "WEBHOOK_AUTH_CACHE_SECONDS",
        "how long a warm container keeps the credentials before reading the secret again",
        default=300,
    )
    auth_refresh_seconds: int = setting(
        "WEBHOOK_AUTH_REFRESH_SECONDS",
        "after a refused credential, re-read the secret at most this often (so a token just added"
        " works at once, and a flood of bad credentials cannot hammer Secrets Manager)",
        default=30,
    )

    def __post_init__(self) -> None:
        if not 1 <= self.max_body_bytes <= 6 * 1024 * 1024:
            raise ConfigError("WEBHOOK_MAX_BODY_BYTES must be between 1 and 6291456 (Lambda's payload limit)")
        if self.auth_cache_seconds < 0 or self.auth_refresh_seconds < 0:
            raise ConfigError("WEBHOOK_AUTH_CACHE_SECONDS and WEBHOOK_AUTH_REFRESH_SECONDS must be >= 0")
