"""The credentials secret: a deploy-time placeholder is reported (and never sent to Wiz), the value
is cached with a TTL, and dropped when Wiz refuses it so a put-secret-value is picked up at once."""

from __future__ import annotations

import logging
from typing import Any

import boto3
import orjson
import pytest
from poll_fakewiz import FakeWiz
from poll_unit_support import SECRET, emf, invoke

from wizwatch import aws
from wizwatch.errors import ConfigError, SecretNotSetError
from wizwatch.poll import runner
from wizwatch.poll.credentials import PLACEHOLDER_CLIENT_ID, CredentialsSource


def put_secret(client_id: str, client_secret: str) -> None:
    boto3.client("secretsmanager").put_secret_value(
        SecretId=SECRET,
        SecretString=orjson.dumps({"client_id": client_id, "client_secret": client_secret}).decode(),
    )


@pytest.fixture
def secret_reads(aws_env: Any) -> list[str]:
    """Every GetSecretValue call the poller's own client makes."""
    calls: list[str] = []
    aws.client("secretsmanager").meta.events.register(
        "provide-client-params.secrets-manager.GetSecretValue",
        lambda params, **_: calls.append(params["SecretId"]),
    )
    return calls


def test_the_placeholder_secret_is_reported_once_and_never_sent_to_wiz(
    wiz: FakeWiz, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # What template.yaml's GenerateSecretString leaves behind until the operator sets the secret.
    put_secret(PLACEHOLDER_CLIENT_ID, "generated-by-cloudformation")
    res = invoke(wiz, {})
    assert not res["ok"]
    for outcome in res["log_types"].values():
        assert outcome["status"] == "error" and "SecretNotSetError" in outcome["error"]
        assert "put-secret-value --secret-id wiz-creds" in outcome["error"]
    assert wiz.token_requests == 0 and wiz.requests == []  # Wiz was never called
    errors = [vars(r) for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # one line per run, not one per log type
    (line,) = errors
    assert "secret not set" in line["msg"] and line["secret"] == SECRET
    assert line["action"].startswith("aws secretsmanager put-secret-value --secret-id wiz-creds")
    assert "generated-by-cloudformation" not in caplog.text + capsys.readouterr().out + str(res)
    blobs = emf(capsys)
    assert blobs == [] or all("PollHeartbeat" not in b for b in blobs)

    # The operator runs the command: the same warm container polls on its next run.
    put_secret("cid", "s3cret-value")
    assert invoke(wiz, {})["ok"]
    assert wiz.tokens_issued == 1


def test_the_secret_is_cached_between_runs(wiz: FakeWiz, secret_reads: list[str]) -> None:
    for _ in range(3):
        assert invoke(wiz, {"log_type": "Wiz.Issues"})["ok"]
    assert secret_reads == [SECRET]  # one read per max_age, not one per run


def test_refused_credentials_are_dropped_and_a_rotated_secret_is_used_at_once(
    wiz: FakeWiz, secret_reads: list[str]
) -> None:
    assert invoke(wiz, {"log_type": "Wiz.Issues"})["ok"]
    # The service account's secret is rotated in Wiz and in Secrets Manager; the old token expires.
    put_secret("cid", "n3w-secret")
    wiz.client_secret = "n3w-secret"
    tokens = runner.get_poller(runner.load_settings()).tokens
    assert tokens._token is not None
    tokens.invalidate(tokens._token)
    res = invoke(wiz, {"log_type": "Wiz.Issues"})  # the same warm container, cached old secret
    assert res["ok"], res
    assert wiz.tokens_issued == 2 and wiz.token_requests == 3  # refused once, then the new secret
    assert secret_reads == [SECRET, SECRET]


def test_still_refused_credentials_fail_the_run_and_are_read_again_next_time(
    wiz: FakeWiz, secret_reads: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    wiz.client_secret = "rotated-in-wiz-only"
    res = invoke(wiz, {})
    assert not res["ok"] and wiz.token_requests == 1
    (line,) = [vars(r) for r in caplog.records if r.levelno >= logging.ERROR]
    assert "WIZ_CREDENTIALS_SECRET" in line["action"] and "s3cret-value" not in caplog.text
    invoke(wiz, {})
    assert len(secret_reads) == 3  # read, re-read after the refusal, read again by the next run


def test_source_errors_name_the_secret_and_hide_its_value(aws_env: Any) -> None:
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="not-json", SecretString="client_id=x")
    sm.create_secret(Name="placeholder", SecretString='{"client_id": "REPLACE_ME", "client_secret": "zzz"}')
    sm.create_secret(Name="blank", SecretString='{"client_id": " ", "client_secret": "zzz"}')
    with pytest.raises(ConfigError, match=r"'not-json'.*is not JSON") as err:
        CredentialsSource("not-json").get()
    assert "client_id=x" not in str(err.value)
    with pytest.raises(SecretNotSetError) as not_set:
        CredentialsSource("placeholder").get()
    assert not_set.value.secret_id == "placeholder" and "zzz" not in str(not_set.value)
    with pytest.raises(ConfigError, match="empty client_id"):
        CredentialsSource("blank").get()
