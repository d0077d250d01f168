"""The webhook function's answers and what it archives, with moto in-process (S3 + Secrets Manager).

Events are built in AWS's function URL payload format 2.0 (tools/.../http_events.py), text and
base64 bodies alike."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_fixtures import in_process_aws
from defend_samples import WEBHOOK

from wizwatch.archive.keys import parse_pushed_key
from wizwatch.webhook import handler as H
from wizwatch_tools.localstack.http_events import function_url_event

TOKEN = "wizwatch-test-token-0123456789"
BUCKET = "raw-bucket"
NOW = datetime(2025, 1, 21, 19, 0, tzinfo=UTC)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with in_process_aws(monkeypatch):
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket=BUCKET)
        sm = boto3.client("secretsmanager")
        arn = sm.create_secret(Name="hook", SecretString=json.dumps({"bearer_tokens": [TOKEN]}))["ARN"]
        monkeypatch.setenv("WEBHOOK_AUTH_SECRET", arn)
        monkeypatch.setenv("RAW_BUCKET", BUCKET)
        H._credentials.cache_clear()
        monkeypatch.setattr(H, "now", lambda: NOW)
        yield {"s3": s3, "sm": sm, "arn": arn}
        H._credentials.cache_clear()


def call(
    path: str = "/detections",
    body: bytes | None = None,
    *,
    method: str = "POST",
    auth: str | None = f"Bearer {TOKEN}",
    content_type: str = "application/json",
) -> dict[str, Any]:
    headers = [("Content-Type", content_type), ("User-Agent", "Wiz-Webhook/1.0")]
    if auth is not None:
        headers.append(("Authorization", auth))
    payload = json.dumps(WEBHOOK).encode() if body is None else body
    event = function_url_event(method, path, headers, payload, source_ip="203.0.113.77")
    return H.handle(event, None)


def archived(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_an_accepted_body_is_archived_byte_for_byte_with_its_provenance(aws: dict[str, Any]) -> None:
    body = json.dumps(WEBHOOK, indent=1).encode()  # odd formatting must survive unchanged
    resp = call(body=body)
    assert resp["statusCode"] == 200, resp
    answer = json.loads(resp["body"])
    assert answer["accepted"] and answer["log_type"] == "Wiz.Detections" and answer["records"] == 1
    (key,) = archived(aws["s3"])
    parts = parse_pushed_key(key)
    assert parts.log_type == "Wiz.Detections"
    assert parts.date == "2025-01-21"  # the detection's createdAt
    assert parts.sha256 == hashlib.sha256(body).hexdigest() == answer["sha256"]
    obj = aws["s3"].get_object(Bucket=BUCKET, Key=key)
    assert gzip.decompress(obj["Body"].read()) == body
    meta = obj["Metadata"]
    assert meta["content-sha256"] == parts.sha256
    assert meta["sender-ip"] == "203.0.113.77"
    assert meta["received-at"].endswith("Z") and meta["log-type"] == "Wiz.Detections"


def test_the_same_body_twice_overwrites_its_own_object(aws: dict[str, Any]) -> None:
    assert call()["statusCode"] == 200
    assert call()["statusCode"] == 200
    assert len(archived(aws["s3"])) == 1


def test_issues_path_and_arrays_and_trailing_slash(aws: dict[str, Any]) -> None:
    issue = {
        "trigger": {"source": "ISSUE", "type": "Open"},
        "issue": {"id": "i-1", "created": "2025-01-10T13:09:25Z"},
    }
    resp = call("/issues/", json.dumps([issue, issue]).encode())
    assert resp["statusCode"] == 200 and json.loads(resp["body"])["records"] == 2
    (key,) = archived(aws["s3"])
    assert key.startswith("raw/Wiz.IssuesWebhook/dt=2025-01-10/pushed/")


def test_a_base64_encoded_body_is_decoded_to_its_exact_bytes(aws: dict[str, Any]) -> None:
    body = json.dumps({"id": "d-1", "note": "caf\u00e9"}, ensure_ascii=False).encode()
    event = function_url_event(
        "POST",
        "/detections",
        [("authorization", f"Bearer {TOKEN}"), ("content-type", "application/octet-stream")],
        body,
    )
    assert event["isBase64Encoded"] and event["body"] == base64.b64encode(body).decode()
    assert H.handle(event, None)["statusCode"] == 200
    (key,) = archived(aws["s3"])
    assert gzip.decompress(aws["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read()) == body


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"auth": None}, 401, "auth"),
        ({"auth": "Bearer wrong-token"}, 401, "auth"),
        ({"auth": "Basic " + base64.b64encode(b"u:p").decode()}, 401, "auth"),
        ({"body": b"x" * (1024 * 1024 + 1)}, 413, "too_large"),
        ({"body": b"{not json"}, 400, "not_json"),
        ({"body": b""}, 400, "not_json"),
        ({"body": b'"a string"'}, 400, "not_json"),
        ({"body": b"\xff\xfe{}"}, 400, "not_json"),
        ({"path": "/other"}, 404, "not_found"),
        ({"path": "/"}, 404, "not_found"),
        ({"path": "/detections/../issues"}, 404, "not_found"),
        ({"method": "GET"}, 405, "method"),
        ({"method": "PUT"}, 405, "method"),
    ],
)
def test_refusals_get_their_status_and_archive_nothing(
    aws: dict[str, Any], kwargs: dict[str, Any], status: int, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    resp = call(**kwargs)
    assert resp["statusCode"] == status, resp
    assert archived(aws["s3"]) == []
    body = json.loads(resp["body"])
    assert set(body) == {"message"}
    if status == 401:
        assert body == {"message": "unauthorized"}  # nothing about why
        assert "Bearer" in resp["headers"]["www-authenticate"]
    if status == 405:
        assert resp["headers"]["allow"] == "POST"
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert any(b.get("WebhookRequestsRefused") in (1, [1.0]) and b.get("Reason") == reason for b in emf)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"id": "d", "note": "\\ud800"}', 200),  # lone surrogate escape: JSON, orjson refuses it
        (b'{"id": "d", "score": NaN}', 200),
        (b'{"id": "d", "note": "\xff\xfe"}', 400),  # invalid UTF-8
        (b"[" * 100_000 + b"]" * 100_000, 400),  # nested beyond any parser
        (b"[" * 600 + b"{}" + b"]" * 600, 200),  # deep but readable
    ],
)
def test_hostile_json_is_archived_when_it_is_json_and_refused_when_not(
    aws: dict[str, Any], body: bytes, status: int
) -> None:
    assert call(body=body)["statusCode"] == status
    assert len(archived(aws["s3"])) == (1 if status == 200 else 0)


def test_an_oversized_body_without_credentials_is_a_401(aws: dict[str, Any]) -> None:
    assert call(body=b"x" * (2 * 1024 * 1024), auth=None)["statusCode"] == 401


def test_basic_credentials_and_a_rotation_without_a_gap(aws: dict[str, Any]) -> None:
    new = {
        "bearer_tokens": [TOKEN, "second-token-aaaaaaaaaaaa"],
        "basic": [{"username": "wiz", "password": "s3cret"}],
    }
    aws["sm"].put_secret_value(SecretId=aws["arn"], SecretString=json.dumps(new))
    assert call(auth="Bearer second-token-aaaaaaaaaaaa")["statusCode"] == 200  # refused from cache, re-read
    assert call(auth="Basic " + base64.b64encode(b"wiz:s3cret").decode())["statusCode"] == 200
    assert call(auth=f"Bearer {TOKEN}")["statusCode"] == 200


@pytest.mark.parametrize("secret", ["not json", json.dumps({"bearer_tokens": "x"})])
def test_a_malformed_secret_answers_500_and_archives_nothing(aws: dict[str, Any], secret: str) -> None:
    aws["sm"].put_secret_value(SecretId=aws["arn"], SecretString=secret)
    resp = call()
    assert resp["statusCode"] == 500 and archived(aws["s3"]) == []
    assert "not json" not in resp["body"]


def test_an_empty_secret_refuses_every_push(aws: dict[str, Any]) -> None:
    aws["sm"].put_secret_value(SecretId=aws["arn"], SecretString="{}")
    assert call()["statusCode"] == 401


def test_a_failed_archive_write_answers_500_so_wiz_retries(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAW_BUCKET", "no-such-bucket")
    assert call()["statusCode"] == 500


def test_event_date_falls_back_to_the_receipt_date_when_absent_or_absurd() -> None:
    from wizwatch.archive.pushed import event_date

    assert event_date("Wiz.Detections", {"createdAt": "2025-01-20T23:59:59Z"}, NOW) == "2025-01-20"
    assert event_date("Wiz.Detections", [{"createdAt": "2025-01-20 10:00:00.000000000"}], NOW) == "2025-01-20"
    assert event_date("Wiz.Detections", {"createdAt": "1970-01-01T00:00:00Z"}, NOW) == "2025-01-21"
    assert event_date("Wiz.Detections", {"createdAt": "soon"}, NOW) == "2025-01-21"
    assert event_date("Wiz.Detections", [], NOW) == "2025-01-21"
    assert (
        event_date("Wiz.IssuesWebhook", {"issue": {"created": "2025-01-19T01:00:00Z"}}, NOW) == "2025-01-19"
    )


def test_a_non_http_event_is_a_400(aws: dict[str, Any]) -> None:
    assert H.handle({"Records": []}, None)["statusCode"] == 400
