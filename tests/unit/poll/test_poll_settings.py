"""Poller configuration: URL normalisation, audience from the token URL, start-up errors."""

from __future__ import annotations

import pytest

from wizwatch.errors import ConfigError
from wizwatch.poll.settings import audience_for, load_settings, normalise_api_url

BASE = {
    "WIZ_API_URL": "https://api.us17.app.wiz.io/graphql",
    "WIZ_TOKEN_URL": "https://auth.app.wiz.io/oauth/token",
    "WIZ_CREDENTIALS_SECRET": "s",
    "STATE_TABLE": "t",
    "RAW_BUCKET": "b",
}


@pytest.mark.parametrize(
    "pasted",
    [
        "https://api.us17.app.wiz.io",
        "https://api.us17.app.wiz.io/",
        "https://api.us17.app.wiz.io/graphql",
        "https://api.us17.app.wiz.io/graphql/",
        " https://api.us17.app.wiz.io/graphql ",
    ],
)
def test_api_url_is_normalised(pasted: str) -> None:
    assert normalise_api_url(pasted) == "https://api.us17.app.wiz.io/graphql"


@pytest.mark.parametrize(
    ("url", "audience"),
    [
        ("https://auth.app.wiz.io/oauth/token", "wiz-api"),
        ("https://auth.gov.wiz.io/oauth/token", "wiz-api"),
        ("https://auth.app.wiz.us/oauth/token", "wiz-api"),
        ("https://auth.wiz.io/oauth/token", "beyond-api"),
        ("https://auth0.gov.wiz.io/oauth/token", "beyond-api"),
    ],
)
def test_audience_follows_token_url(url: str, audience: str) -> None:
    assert audience_for(url, None) == audience


def test_unknown_token_host_needs_explicit_audience() -> None:
    with pytest.raises(ConfigError, match="WIZ_AUDIENCE is required"):
        load_settings({**BASE, "WIZ_TOKEN_URL": "http://127.0.0.1:9999/oauth/token"})
    cfg = load_settings(
        {**BASE, "WIZ_TOKEN_URL": "http://127.0.0.1:9/oauth/token", "WIZ_AUDIENCE": "wiz-api"}
    )
    assert cfg.oauth_audience == "wiz-api"


def test_defaults() -> None:
    cfg = load_settings(BASE)
    assert cfg.log_types == [
        "Wiz.Audit",
        "Wiz.Issues",
        "Wiz.VulnerabilityFinding",
    ]
    assert cfg.requests_per_second == 2.0
    assert cfg.initial_lookback_hours == 24
    assert cfg.project_filter_key("Wiz.Issues") == "project"
    assert cfg.project_filter_key("Wiz.VulnerabilityFinding") == "projectId"
    assert cfg.project_filter_key("Wiz.Audit") is None
    assert cfg.project_filter_key("Wiz.CloudConfigurationFinding") == "resource.projectId"
    assert cfg.query_spec("Wiz.CloudConfigurationFinding").delta_field == "updatedAt"
    assert cfg.snapshot_log_types == []


def test_configuration_delta_field_and_snapshots_are_validated() -> None:
    cfg = load_settings(
        {
            **BASE,
            "WIZ_CONFIGURATION_DELTA_FIELD": "analyzedAt",
            "WIZ_SNAPSHOT_LOG_TYPES": "Wiz.CloudConfigurationFinding",
        }
    )
    spec = cfg.query_spec("Wiz.CloudConfigurationFinding")
    assert (spec.delta_field, spec.record_time_field) == ("analyzedAt", "analyzedAt")
    assert cfg.query_spec("Wiz.VulnerabilityFinding").delta_field == "updatedAt"
    with pytest.raises(ConfigError) as err:
        load_settings(
            {
                **BASE,
                "WIZ_CONFIGURATION_DELTA_FIELD": "firstSeenAt",
                "WIZ_SNAPSHOT_LOG_TYPES": "Wiz.Audit",
                "WIZ_SNAPSHOT_HOUR_UTC": "24",
            }
        )
    for needle in ("WIZ_CONFIGURATION_DELTA_FIELD", "WIZ_SNAPSHOT_LOG_TYPES", "WIZ_SNAPSHOT_HOUR_UTC"):
        assert needle in str(err.value)


def test_every_problem_reported_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            {
                "WIZ_API_URL": "not a url",
                "WIZ_LOG_TYPES": "Wiz.Audit,Wiz.Nope",
                "WIZ_REQUESTS_PER_SECOND": "fast",
            }
        )
    msg = str(err.value)
    for needle in (
        "WIZ_API_URL=",
        "WIZ_LOG_TYPES=",
        "Wiz.Nope",
        "WIZ_REQUESTS_PER_SECOND=",
        "STATE_TABLE is required",
    ):
        assert needle in msg


def test_cross_field_checks() -> None:
    with pytest.raises(ConfigError, match="WIZ_OVERLAP_SECONDS must be smaller"):
        load_settings({**BASE, "WIZ_OVERLAP_SECONDS": "600", "WIZ_MAX_WINDOW_SECONDS": "300"})
    with pytest.raises(ConfigError, match="WIZ_PAGE_SIZE"):
        load_settings({**BASE, "WIZ_PAGE_SIZE": "5000"})


def test_every_setting_is_documented_in_the_poll_readme() -> None:
    from pathlib import Path

    from wizwatch.config import describe
    from wizwatch.poll.settings import PollerSettings

    readme = (Path(__file__).resolve().parents[3] / "layers/common/wizwatch/poll/README.md").read_text()
    for env, _, _ in describe(PollerSettings):
        assert f"`{env}`" in readme, env
