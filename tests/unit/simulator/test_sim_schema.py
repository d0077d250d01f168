"""The SDL accepts exactly the poller's queries and rejects what Wiz would reject."""

from __future__ import annotations

import pytest
from graphql import parse, validate
from sim_helpers import Api

from wizwatch.poll.queries import SPECS
from wizwatch_tools.simulator.schema import build
from wizwatch_tools.simulator.timestamps import format_datetime, parse_datetime


@pytest.mark.parametrize("log_type", sorted(SPECS))
def test_every_poller_query_validates_unchanged(log_type: str) -> None:
    assert validate(build(), parse(SPECS[log_type].query)) == []


@pytest.mark.parametrize(
    ("log_type", "good", "bad"),
    [
        ("Wiz.Audit", "requestId", "requestID"),
        ("Wiz.Issues", "statusChangedAt", "statusChangeAt"),
        ("Wiz.VulnerabilityFinding", "... on VulnerableAssetContainerImage", "... on VulnerableAssetImage"),
    ],
)
def test_misspelled_field_or_fragment_is_a_validation_error(log_type: str, good: str, bad: str) -> None:
    query = SPECS[log_type].query.replace(good, bad, 1)
    assert query != SPECS[log_type].query
    errors = validate(build(), parse(query))
    assert errors and any(bad.split()[-1] in e.message for e in errors)


def test_misspelled_query_over_http_is_400_graphql_validation_failed(api: Api) -> None:
    resp = api.post(
        SPECS["Wiz.Audit"].query.replace("sourceIP", "sourceIp"), {"first": 5, "withCount": False}
    )
    body = resp.json()
    assert resp.status_code == 400
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "sourceIp" in body["errors"][0]["message"]


def test_syntax_error_is_400_parse_failed(api: Api) -> None:
    resp = api.post("query { auditLogEntries(first: 5) { nodes { id } ", {})
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_unknown_filter_key_is_bad_user_input(api: Api) -> None:
    resp = api.page("Wiz.Issues", {"statusChangedAt": {"after": "2026-01-01T00:00:00Z"}, "projects": ["x"]})
    body = resp.json()
    assert resp.status_code == 400
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "projects" in body["errors"][0]["message"]


def test_bad_enum_and_bad_date_are_bad_user_input(api: Api) -> None:
    resp = api.page("Wiz.Issues", {"status": ["OPEN", "CLOSED"]})
    assert resp.status_code == 400 and "CLOSED" in resp.json()["errors"][0]["message"]
    resp = api.page("Wiz.Audit", {"timestamp": {"after": "yesterday"}})
    assert resp.status_code == 400 and resp.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "text",
    [
        "2023-08-24T08:54:21.44203Z",
        "2024-07-12T08:59:33.946633Z",
        "2024-07-12T08:59:33Z",
        "2024-07-12T10:59:33+02:00",
    ],
)
def test_timestamps_round_trip_in_wiz_format(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed.utcoffset() is not None
    assert parse_datetime(format_datetime(parsed)) == parsed
    if text.endswith("Z"):
        assert format_datetime(parsed) == text


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        parse_datetime("2024-06-27 09:19:08.731355000")
