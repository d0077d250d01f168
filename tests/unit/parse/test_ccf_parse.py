"""Wiz.CloudConfigurationFinding: every shape peers publish parses, keeps its keys, gets its event
time, identity and indicators (fixtures: tests/fixtures/cloud_configuration_findings.jsonl, each
line naming the peer shape it follows)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from wizwatch.errors import InvalidRecord
from wizwatch.parse.identity import event_identity
from wizwatch.parse.normalize import Normalizer

LT = "Wiz.CloudConfigurationFinding"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "cloud_configuration_findings.jsonl"
PARSE_TIME = "2026-01-01 00:00:00.000000000"


def shapes() -> dict[str, dict[str, Any]]:
    out = {}
    for line in FIXTURES.read_text().splitlines():
        record = json.loads(line)
        out[record.pop("_shape")] = record
    return out


SHAPES = shapes()


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_peer_shape_is_valid_and_keeps_its_keys(shape: str) -> None:
    record = SHAPES[shape]
    event = Normalizer(LT).normalize(copy.deepcopy(record), parse_time=PARSE_TIME)
    assert {k: event[k] for k in record} == record  # nothing of the record changed
    assert all(k.startswith("p_") for k in set(event) - set(record))
    assert event["p_log_type"] == LT
    # The event time comes from the record (updatedAt, else analyzedAt), never the parse time.
    assert event["p_event_time"] != PARSE_TIME
    assert event_identity(LT, record).startswith(f"{LT}:{record['id']}:")


def test_event_time_prefers_the_change_then_the_assessment() -> None:
    n = Normalizer(LT)
    assert n.event_time(SHAPES["elastic-full-posture"]) == "2026-06-12 11:38:07.900129000"
    assert n.event_time(SHAPES["sekoia-resolved-pass"]) == "2026-05-01 12:34:12.935495000"  # analyzedAt
    assert n.event_time(SHAPES["panther-storage"]) == "2026-07-01 09:19:08.731355000"
    assert n.event_time(SHAPES["lowercase-keys"]) == "2026-07-01 09:19:08.000000000"


def test_identity_ignores_a_reassessment_that_changed_nothing() -> None:
    before = SHAPES["elastic-full-posture"]
    again = {**before, "analyzedAt": "2026-06-13T11:38:07Z"}  # re-assessed, not updated
    assert event_identity(LT, again) == event_identity(LT, before)
    changed = {**before, "status": "RESOLVED", "updatedAt": "2026-06-14T00:00:00Z"}
    assert event_identity(LT, changed) != event_identity(LT, before)
    # Without updatedAt (SEKOIA's shape) the assessment time distinguishes states.
    sekoia = SHAPES["sekoia-resolved-pass"]
    assert event_identity(LT, {**sekoia, "analyzedAt": "2026-05-02T00:00:00Z"}) != event_identity(LT, sekoia)


def test_indicators_resource_ids_and_cloud_accounts() -> None:
    n = Normalizer(LT)
    root = n.normalize(copy.deepcopy(SHAPES["elastic-root-user"]), parse_time=PARSE_TIME)
    assert root["p_any_aws_arns"] == ["arn:aws:iam::123456789012:root"]
    assert root["p_any_aws_account_ids"] == ["123456789012"]
    assert root["p_any_cloud_account_ids"] == ["123456789012"]
    assert root["p_any_cloud_resource_ids"] == ["arn:aws:iam::123456789012:root"]
    pod = n.normalize(copy.deepcopy(SHAPES["elastic-pod"]), parse_time=PARSE_TIME)
    assert "p_any_aws_arns" not in pod and "p_any_aws_account_ids" not in pod  # an Azure subscription
    assert pod["p_any_cloud_account_ids"] == ["5c1e0000-0000-4000-8000-000000000002"]
    assert pod["p_any_cloud_resource_ids"] == ["provider-id-res-0002", "6b3f1c2a-0000-4000-8000-000000000002"]
    empty = n.normalize(copy.deepcopy(SHAPES["elastic-empty-provider-id"]), parse_time=PARSE_TIME)
    assert "p_any_cloud_resource_ids" not in empty  # "" is no indicator
    lower = n.normalize(copy.deepcopy(SHAPES["lowercase-keys"]), parse_time=PARSE_TIME)
    assert lower["p_any_aws_arns"] == ["arn:aws:ec2:us-east-1:123456789012:security-group/sg-0123"]
    assert lower["p_any_aws_account_ids"] == ["123456789012"]


def test_source_supplied_indicators_are_replaced() -> None:
    record = {**SHAPES["elastic-root-user"], "p_any_aws_arns": ["arn:aws:iam::999999999999:root"]}
    event = Normalizer(LT).normalize(record, parse_time=PARSE_TIME)
    assert event["p_any_aws_arns"] == ["arn:aws:iam::123456789012:root"]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"severity": "HIGH", "status": "OPEN"}, "id"),
        ({"id": "f-1", "analyzedAt": "yesterday"}, "analyzedAt"),
        ({"id": "f-1", "resource": "arn:aws:s3:::b"}, "resource"),
        ({"id": "f-1", "deleted": {"no": 1}}, "deleted"),
        (["not", "an", "object"], "JSON list"),
    ],
)
def test_bad_records_get_a_reason(record: Any, reason: str) -> None:
    with pytest.raises(InvalidRecord) as err:
        Normalizer(LT).normalize(record, parse_time=PARSE_TIME)
    assert reason in err.value.reason
