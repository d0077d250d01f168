"""Token: fetched once and shared through the state table, refreshed ahead of expiry, secret-safe."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from poll_fakewiz import TOKEN_URL, FakeWiz, Scripted
from poll_unit_support import SECRET, TABLE

from wizwatch.errors import ConfigError, WizCredentialsError
from wizwatch.poll import auth
from wizwatch.poll.auth import TokenProvider, TokenStore, load_credentials
from wizwatch.poll.retry import Backoff, TimeBudget


def provider(fake: FakeWiz, **kw: Any) -> TokenProvider:
    session = requests.Session()
    session.mount("https://", fake)
    return TokenProvider(
        token_url=TOKEN_URL,
        audience="wiz-api",
        credentials=lambda: load_credentials(SECRET),
        store=TokenStore(TABLE),
        session=session,
        backoff=Backoff(0.001, 0.01),
        **kw,
    )


def budget() -> TimeBudget:
    return TimeBudget(time.monotonic() + 30)


def test_token_is_fetched_once_across_cold_starts(aws_env: Any) -> None:
    fake = FakeWiz()
    first = provider(fake).get(budget())
    for _ in range(5):  # each a new container: nothing in memory, the table has it
        auth.reset_caches()
        assert provider(fake).get(budget()).value == first.value
    assert fake.tokens_issued == 1
    assert first.value.endswith("-wiz-api")  # the audience was sent


def test_refreshed_ahead_of_expiry(aws_env: Any) -> None:
    fake = FakeWiz()
    fake.expires_in = 10  # short-lived: refresh margin is 20% of the lifetime (2 s)
    p = provider(fake)
    tok = p.get(budget())
    assert tok.expires_at - tok.refresh_at == pytest.approx(2.0, abs=0.01)
    fake.expires_in = 86400
    forced = auth.Token(tok.value, time.time() + 1, time.time() - 1)  # inside the margin
    p._token = forced
    TokenStore(TABLE).discard(tok)  # and not in the table either
    assert p.get(budget()).value != tok.value
    assert fake.tokens_issued == 2


def test_invalidate_drops_only_the_rejected_token(aws_env: Any) -> None:
    fake = FakeWiz()
    p = provider(fake)
    bad = p.get(budget())
    p.invalidate(bad)
    fresh = p.get(budget())
    assert fresh.value != bad.value and fake.tokens_issued == 2
    p.invalidate(bad)  # a late second invalidation of the old token must not drop the new one
    auth.reset_caches()
    assert provider(fake).get(budget()).value == fresh.value


def test_token_endpoint_5xx_is_retried(aws_env: Any) -> None:
    fake = FakeWiz()
    fake.token_script = [Scripted(503, b"busy"), Scripted(429, b"slow down", {"Retry-After": "0"})]
    assert provider(fake).get(budget()).value.startswith("tok-1")


def test_refused_credentials_name_the_fix_not_the_secret(aws_env: Any) -> None:
    fake = FakeWiz(client_secret="the-right-one")
    with pytest.raises(WizCredentialsError) as err:
        provider(fake).get(budget())
    msg = str(err.value)
    assert "WIZ_CREDENTIALS_SECRET" in msg and "HTTP 401" in msg
    assert "s3cret-value" not in msg and "s3cret-value" not in repr(load_credentials(SECRET))


def test_bad_secret_shapes_fail_with_a_clear_message(aws_env: Any) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="bad", SecretString='{"client_id": "x"}')
    with pytest.raises(ConfigError, match="client_id and client_secret"):
        load_credentials("bad")
    with pytest.raises(ConfigError, match="cannot read WIZ_CREDENTIALS_SECRET 'missing'"):
        load_credentials("missing")


def test_token_never_in_repr(aws_env: Any) -> None:
    tok = provider(FakeWiz()).get(budget())
    assert tok.value not in repr(tok)
