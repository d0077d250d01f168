"""What a warm container keeps between invocations: HTTP session, limiter, token, clients.

:func:`wizwatch.poll.runner.get_poller` caches one :class:`Poller` per container (rebuilt when the
configuration changes); everything here is built from :class:`PollerSettings` and a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

from wizwatch.poll.auth import TokenProvider, TokenStore
from wizwatch.poll.client import USER_AGENT, GraphQLClient
from wizwatch.poll.credentials import CredentialsSource
from wizwatch.poll.limiter import RateLimiter
from wizwatch.poll.retry import Backoff, Clock
from wizwatch.poll.settings import PollerSettings
from wizwatch.poll.state import CursorStore
from wizwatch.poll.telemetry import PollMetrics


@dataclass
class Poller:
    """What a warm container keeps between invocations: session, limiter, token, clients."""

    settings: PollerSettings
    limiter: RateLimiter
    client: GraphQLClient
    tokens: TokenProvider
    store: CursorStore
    credentials: CredentialsSource
    metrics: PollMetrics = field(default_factory=PollMetrics)
    clock: Clock = field(default_factory=Clock)

    @classmethod
    def build(cls, settings: PollerSettings, clock: Clock | None = None) -> Poller:
        clock = clock or Clock()
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        metrics = PollMetrics()
        backoff = Backoff(settings.retry_base_seconds, settings.retry_max_seconds)
        credentials = CredentialsSource(settings.credentials_secret)
        tokens = TokenProvider(
            token_url=settings.token_url,
            audience=settings.oauth_audience,
            credentials=credentials,
            store=TokenStore(settings.state_table),
            session=session,
            refresh_seconds=settings.token_refresh_seconds,
            http_timeout=min(30.0, settings.http_timeout_seconds),
            max_attempts=settings.max_attempts,
            backoff=backoff,
            on_fetch=metrics.token_fetched,
            user_agent=USER_AGENT,
            sleep=clock.sleep,
        )
        limiter = RateLimiter(settings.requests_per_second, clock=clock.now, sleep=clock.sleep)
        client = GraphQLClient(
            api_url=settings.api_url,
            tokens=tokens,
            limiter=limiter,
            session=session,
            backoff=backoff,
            max_attempts=settings.max_attempts,
            http_timeout=settings.http_timeout_seconds,
            sleep=clock.sleep,
        )
        store = CursorStore(settings.state_table)
        return cls(settings, limiter, client, tokens, store, credentials, metrics, clock)
