"""Outbound only to the configured URL over HTTPS; answers classified; secrets never in errors."""

from __future__ import annotations

import pytest

from wizwatch.errors import DeliveryRejected, DeliveryUnavailable
from wizwatch.notify.destinations import Destinations
from wizwatch.notify.http import HttpPoster, check_url, safe_url
from wizwatch_tools.destinations_cli import sample_alert
from wizwatch_tools.localstack.receivers import LocalDestinations

SLACK = ("hooks.slack.com", "hooks.slack-gov.com")


@pytest.mark.parametrize(
    ("url", "allowed", "loopback", "ok"),
    [
        ("https://hooks.slack.com/services/T/B/x", SLACK, False, True),
        ("http://hooks.slack.com/services/T/B/x", SLACK, False, False),  # never plain http
        ("https://hooks.slack.com.evil.example/x", SLACK, False, False),
        ("https://evil.example/services/T/B/x", SLACK, False, False),
        ("https://prod-12.westus.logic.azure.com/workflows/1", ("*.logic.azure.com",), False, True),
        ("https://logic.azure.com.evil.example/", ("*.logic.azure.com",), False, False),
        ("http://127.0.0.1:8080/slack", SLACK, True, True),  # local receivers, flag on
        ("http://127.0.0.1:8080/slack", SLACK, False, False),  # flag off: refused
        ("http://10.0.0.5/slack", SLACK, True, False),  # the flag covers loopback only
        ("https://any.example/hook", None, False, True),  # generic webhook: any https host
        ("ftp://any.example/hook", None, False, False),
        ("not a url", None, False, False),
    ],
)
def test_url_policy(url: str, allowed: tuple[str, ...] | None, loopback: bool, ok: bool) -> None:
    if ok:
        assert check_url(url, allowed_hosts=allowed, allow_loopback_http=loopback) == url
    else:
        with pytest.raises(DeliveryRejected):
            check_url(url, allowed_hosts=allowed, allow_loopback_http=loopback)


def test_safe_url_drops_the_credential_path() -> None:
    assert safe_url("https://hooks.slack.com/services/T0/B0/SECRET?x=1") == "https://hooks.slack.com"


@pytest.mark.parametrize(
    ("status", "retry_after", "error", "wait"),
    [(429, 30, DeliveryUnavailable, 30.0), (503, None, DeliveryUnavailable, None),
     (500, 7, DeliveryUnavailable, 7.0), (404, None, DeliveryRejected, None),
     (410, None, DeliveryRejected, None), (400, None, DeliveryRejected, None),
     (302, None, DeliveryRejected, None)],
)  # fmt: skip
def test_answers_are_classified(
    destinations: Destinations,
    local: LocalDestinations,
    status: int,
    retry_after: int | None,
    error: type[Exception],
    wait: float | None,
) -> None:
    local.receivers.fail("slack", status, retry_after=retry_after)
    with pytest.raises(error) as info:
        destinations.get("slack").send(sample_alert(), timeout=5)  # type: ignore[union-attr]
    assert getattr(info.value, "retry_after", None) == wait
    assert getattr(info.value, "status", None) == status
    # the error names the host, never the webhook's secret path
    assert local.credentials["slack"] not in str(info.value) and "127.0.0.1" in str(info.value)


def test_a_refused_connection_is_unavailable_and_names_no_secret(
    destinations: Destinations, local: LocalDestinations
) -> None:
    url = local.secret["slack"]["url"]
    local.receivers.stop()
    with pytest.raises(DeliveryUnavailable) as info:
        HttpPoster(allow_loopback_http=True).post(url, b"{}", headers={}, timeout=2, allowed_hosts=None)
    assert local.credentials["slack"] not in str(info.value)


def test_missing_credentials_are_a_rejection_naming_the_key(destinations: Destinations) -> None:
    env = destinations.env
    with pytest.raises(DeliveryRejected, match="no object under 'nope'"):
        env.secrets.entry("nope", ("url",))
    with pytest.raises(DeliveryRejected, match="lacks routing_key"):
        env.secrets.entry("slack", ("routing_key",))
    assert all(len(v) >= 4 for v in env.secrets.redactions())
