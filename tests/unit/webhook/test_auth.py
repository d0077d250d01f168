"""Webhook credentials: Bearer and Basic, several at once, constant-time, cached with a TTL and
re-read (at most once per interval) when a credential is refused."""

from __future__ import annotations

import base64
import json

import pytest

from wizwatch.webhook.auth import AuthSecretError, CredentialCache, Credentials, parse_secret

TOKEN_A = "tok-aaaaaaaaaaaaaaaaaaaaaaaa"
TOKEN_B = "tok-bbbbbbbbbbbbbbbbbbbbbbbb"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


SECRET = json.dumps(
    {
        "bearer_tokens": [TOKEN_A, TOKEN_B],
        "basic": [
            {"username": "wiz", "password": "pw-1:with-colon"},
            {"username": "old", "password": "pw-0"},
        ],
    }
)


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {TOKEN_A}", True),
        (f"bearer {TOKEN_B}", True),  # scheme is case-insensitive (RFC 9110)
        (f"Bearer  {TOKEN_A} ", True),
        (basic("wiz", "pw-1:with-colon"), True),  # a password may hold ':' (split on the first)
        (basic("old", "pw-0"), True),
        (f"Bearer {TOKEN_A}x", False),
        (f"Bearer {TOKEN_A[:-1]}", False),
        ("Bearer ", False),
        (f"Token {TOKEN_A}", False),
        (TOKEN_A, False),
        (basic("wiz", "pw-0"), False),  # a user with another user's password
        (basic("WIZ", "pw-1:with-colon"), False),
        ("Basic !!!notbase64", False),
        ("Basic " + base64.b64encode(b"no-colon").decode(), False),
        ("Basic " + base64.b64encode(b"\xff\xfe:x").decode(), False),
        (None, False),
        ("", False),
        ("Bearer " + "x" * 5000, False),
    ],
)
def test_accepts_exactly_the_configured_credentials(header: str | None, ok: bool) -> None:
    assert parse_secret(SECRET).accepts(header) is ok


def test_generated_single_token_is_accepted_and_short_tokens_counted() -> None:
    creds = parse_secret(json.dumps({"bearer_token": "short", "bearer_tokens": [TOKEN_A]}))
    assert creds.accepts("Bearer short") and creds.accepts(f"Bearer {TOKEN_A}")
    assert creds.weak_tokens == 1


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"bearer_tokens": "one"}', "list of strings"),
        ('{"bearer_tokens": [""]}', "#1"),
        ('{"bearer_tokens": ["a b"]}', "spaces"),
        ('{"basic": [{"username": "u"}]}', "username and password"),
        ('{"basic": [{"username": "a:b", "password": "p"}]}', "':'"),
        ('{"basic": {"username": "u", "password": "p"}}', "list"),
    ],
)
def test_malformed_secrets_are_refused_without_echoing_values(secret: str, message: str) -> None:
    with pytest.raises(AuthSecretError) as err:
        parse_secret(secret)
    assert message in str(err.value)
    assert "a b" not in str(err.value) and '"p"' not in str(err.value)


def test_an_empty_secret_accepts_nothing() -> None:
    creds = parse_secret("{}")
    assert creds.empty and not creds.accepts(f"Bearer {TOKEN_A}")
    assert Credentials().empty


class FakeSecret:
    """What Secrets Manager holds, and how often it was read (cached reads vs forced)."""

    def __init__(self, value: str) -> None:
        self.value = value
        self.cached = value
        self.forced = 0

    def fetch(self, force: bool) -> str:
        if force:
            self.forced += 1
            self.cached = self.value
        return self.cached


def test_a_token_added_to_the_secret_works_at_once_but_floods_cost_one_read_per_interval() -> None:
    secret = FakeSecret(json.dumps({"bearer_tokens": [TOKEN_A]}))
    now = [100.0]
    cache = CredentialCache(secret.fetch, refresh_seconds=30, clock=lambda: now[0])
    assert cache.check(f"Bearer {TOKEN_A}")[0]
    secret.value = json.dumps({"bearer_tokens": [TOKEN_A, TOKEN_B]})  # rotation: new token added
    assert cache.check(f"Bearer {TOKEN_B}")[0]  # refused from the cache -> re-read -> accepted
    assert secret.forced == 1
    for _ in range(50):  # a flood of bad credentials within the interval: no further reads
        assert not cache.check("Bearer wrong")[0]
    assert secret.forced == 1  # the interval started with the re-read that found TOKEN_B
    now[0] += 31
    assert not cache.check("Bearer wrong")[0]
    assert secret.forced == 2


def test_a_removed_token_stops_working_once_the_cache_is_refreshed() -> None:
    secret = FakeSecret(json.dumps({"bearer_tokens": [TOKEN_A, TOKEN_B]}))
    cache = CredentialCache(secret.fetch, refresh_seconds=0)
    assert cache.check(f"Bearer {TOKEN_A}")[0]
    secret.value = json.dumps({"bearer_tokens": [TOKEN_B]})
    secret.cached = secret.value  # the TTL expired: the next read sees the new value
    assert not cache.check(f"Bearer {TOKEN_A}")[0]
    assert cache.check(f"Bearer {TOKEN_B}")[0]


def test_an_unreadable_secret_raises_a_clear_error() -> None:
    def broken(force: bool) -> str:
        raise RuntimeError("AccessDeniedException: not allowed")

    with pytest.raises(AuthSecretError, match="cannot read the webhook auth secret: RuntimeError"):
        CredentialCache(broken, refresh_seconds=30).check(f"Bearer {TOKEN_A}")
