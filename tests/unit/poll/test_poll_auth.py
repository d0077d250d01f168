"""Token: fetched once and shared through the state table, refreshed ahead of expiry, secret-safe."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
import requests
from poll_fakewiz import TOKEN_URL, FakeWiz, Scripted
from poll_unit_support import SECRET, TABLE

from wizwatch.errors import ConfigError, WizCredentialsError, WizTokenError
from wizwatch.poll import auth
from wizwatch.poll.auth import TokenProvider, TokenStore
from wizwatch.poll.credentials import CredentialsSource
from wizwatch.poll.retry import Backoff, TimeBudget


def provider(fake: FakeWiz, credentials: CredentialsSource | None = None, **kw: Any) -> TokenProvider:
    """A container's token provider (a new one per simulated cold start)."""
    session = requests.Session()
    session.mount("https://", fake)
    return TokenProvider(
        token_url=TOKEN_URL,
        audience="wiz-api",
        credentials=credentials or CredentialsSource(SECRET),
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
    assert "s3cret-value" not in msg and "s3cret-value" not in repr(CredentialsSource(SECRET).get())


def test_bad_secret_shapes_fail_with_a_clear_message(aws_env: Any) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="bad", SecretString='{"client_id": "x"}')
    with pytest.raises(ConfigError, match="client_id and client_secret"):
        CredentialsSource("bad").get()
    with pytest.raises(ConfigError, match="cannot read WIZ_CREDENTIALS_SECRET 'missing'"):
        CredentialsSource("missing").get()


def test_token_never_in_repr(aws_env: Any) -> None:
    tok = provider(FakeWiz()).get(budget())
    assert tok.value not in repr(tok)


def fetched_lifetime(p: TokenProvider) -> tuple[float, float]:
    """Bounds of the lifetime a freshly fetched token was given: its expiry minus the clock read
    after and before the fetch (exact bounds, however long the fetch takes on a loaded machine)."""
    before = time.time()
    tok = p.get(budget())
    after = time.time()
    TokenStore(TABLE).discard(tok)  # the next provider fetches again
    return tok.expires_at - after, tok.expires_at - before


@pytest.mark.parametrize(
    ("expires_in", "problem"),
    [
        (-100, "not a positive lifetime"),
        (0, "not a positive lifetime"),  # used to become 3600 silently
        (0.2, "not a positive lifetime"),
        ("soon", "not a number of seconds"),  # used to say "without an access_token"
        ([3600], "not a number of seconds"),
        (True, "not a number of seconds"),
    ],
)
def test_an_unusable_expires_in_is_a_clear_error(aws_env: Any, expires_in: Any, problem: str) -> None:
    fake = FakeWiz()
    fake.expires_in = expires_in
    with pytest.raises(WizTokenError, match=problem) as err:
        provider(fake).get(budget())
    assert "WIZ_TOKEN_URL" in str(err.value) and "tok-" not in str(err.value)
    assert fake.token_requests == 1
    assert TokenStore(TABLE).load(auth._fingerprint(TOKEN_URL, "wiz-api", "cid")) is None  # nothing kept


def test_a_missing_expires_in_means_the_documented_lifetime(
    aws_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeWiz()
    fake.token_script = [Scripted(200, {"access_token": "tok-x", "token_type": "Bearer"})]
    low, high = fetched_lifetime(provider(fake))
    assert low <= 86400 <= high
    assert any("no expires_in" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    fake.expires_in = None  # JSON null: the same as absent
    low, high = fetched_lifetime(provider(fake))
    assert low <= 86400 <= high


def test_a_numeric_string_expires_in_is_accepted(aws_env: Any) -> None:
    fake = FakeWiz()
    fake.expires_in = "3600"
    low, high = fetched_lifetime(provider(fake))
    assert low <= 3600 <= high


def test_a_broken_expires_in_costs_one_token_request_per_run_not_one_per_query(aws_env: Any) -> None:
    from poll_unit_support import invoke

    from wizwatch.poll import runner

    fake = FakeWiz()
    fake.expires_in = -100
    runner.get_poller(runner.load_settings())
    for run in (1, 2):
        res = invoke(fake, {})
        assert not res["ok"]
        for outcome in res["log_types"].values():
            assert outcome["status"] == "error" and "expires_in=-100" in outcome["error"]
        assert fake.token_requests == run  # one per invocation, however many log types
    assert fake.requests == []  # no query was sent with a token of unknown lifetime
