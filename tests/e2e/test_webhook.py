"""Wiz pushes through the real HTTP path: sender -> local function URL -> webhook handler -> S3
raw/ -> SQS -> detector -> alert queue -> notifier -> SNS, on the moto server."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from wizwatch.archive.keys import is_pushed_key, parse_pushed_key
from wizwatch.logtypes import DETECTIONS, ISSUES_WEBHOOK
from wizwatch_tools.localstack.webhook_listener import WebhookListener
from wizwatch_tools.simulator.sender import Auth, WebhookSender


@pytest.fixture
def hook(stack: Any) -> Iterator[WebhookListener]:
    with WebhookListener(stack) as listener:
        yield listener


@pytest.fixture
def sender(hook: WebhookListener, wiz_sim: Any) -> WebhookSender:
    return WebhookSender(hook.url, Auth(bearer=hook.bearer_token()), wiz_sim.store)


def deliver(stack: Any) -> list[dict[str, Any]]:
    """Run detector and notifier until quiet; the alerts SNS delivered so far."""
    for _ in range(5):
        det, note = stack.run_detector(), stack.run_notifier()
        if not det.messages and not note.messages:
            break
    assert stack.errors == []
    return stack.received_alerts()


def alerts_about(alerts: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    return [a for a in alerts if any(e.get("id") == record_id for e in a["events"])]


def test_a_pushed_detection_becomes_exactly_one_alert_through_sns(stack: Any, sender: WebhookSender) -> None:
    detection = sender.store.add_detection(  # type: ignore[union-attr]
        rule="Timestomping technique was detected", production=False, reputation="Benign", delay=0
    )
    assert sender.push_detection(detection["id"]).status == 200
    (key,) = stack.archived_keys("raw/")
    assert is_pushed_key(key) and parse_pushed_key(key).log_type == DETECTIONS
    alerts = deliver(stack)
    assert [a["rule_id"] for a in alerts] == ["Wiz.Defend.Alert.Passthrough"]
    (alert,) = alerts
    assert alert["title"] == f"[Wiz Alert]: {detection['ruleMatch']['rule']['id']}"
    assert alert["source"]["raw_object"] == f"s3://{stack.resources['bucket']}/{key}"
    assert alert["events"][0]["id"] == detection["id"]
    assert alert["events"][0]["p_log_type"] == DETECTIONS


def test_a_pushed_issue_alerts_once_through_the_issue_passthrough(stack: Any, sender: WebhookSender) -> None:
    issue = sender.store.add_issue(status="OPEN", severity="HIGH", delay=0)  # type: ignore[union-attr]
    assert sender.push_issue(issue["id"]).status == 200
    alerts = deliver(stack)
    assert [a["rule_id"] for a in alerts] == ["Wiz.Issue.Alert.Passthrough"]
    assert alerts[0]["log_types"] == [ISSUES_WEBHOOK]
    assert alerts[0]["dedup_string"] == f"{issue['id']}_HIGH"


def test_refused_requests_get_their_status_and_archive_nothing(
    stack: Any, hook: WebhookListener, sender: WebhookSender
) -> None:
    statuses: Counter[tuple[str, int]] = Counter()
    for d in [*sender.bad_credentials(), sender.oversized(), *sender.malformed(), *sender.wrong_paths()]:
        statuses[(d.kind, d.status)] += 1
    assert statuses == {
        ("bad_auth", 401): 3,
        ("oversized", 413): 1,
        ("malformed", 400): 3,
        ("wrong_path", 404): 1,
        ("wrong_method", 405): 1,
    }
    over = requests.post(hook.url + "/detections", data=b"{" + b" " * (6 * 1024 * 1024) + b"}", timeout=30)
    assert over.status_code == 413  # refused by the URL itself, the function never ran
    assert stack.archived_keys("raw/") == []
    assert deliver(stack) == []


def test_the_same_body_posted_twice_alerts_once(stack: Any, sender: WebhookSender) -> None:
    detection = sender.store.add_detection(  # type: ignore[union-attr]
        rule="Cryptocurrency mining related domain lookup", production=True, reputation="Benign", delay=0
    )
    assert sender.push_detection(detection["id"]).status == 200
    first = deliver(stack)
    assert [d.status for d in sender.redeliver(1)] == [200]
    assert len(stack.archived_keys("raw/")) == 1  # the re-delivery overwrote its own object
    alerts = deliver(stack)
    assert alerts == first
    by_rule = Counter(a["rule_id"] for a in alerts)
    assert by_rule == {
        "Wiz.Defend.Alert.Passthrough": 1,
        "Wizwatch.Defend.Production.Resource": 1,
        "Wizwatch.Defend.Credential.Access.Or.Impact": 1,
    }


def test_a_detection_pushed_and_later_polled_alerts_once(
    stack: Any, sender: WebhookSender, wiz_sim: Any
) -> None:
    now = datetime.now(UTC)
    detection = wiz_sim.store.add_detection(
        created=now - timedelta(minutes=40),
        rule="UnauthorizedAccess:EC2/SSHBruteForce",
        production=True,
        reputation="Malicious",
        detection_type="MATCH_ONLY",
        delay=0,
    )
    assert sender.push_detection(detection["id"]).status == 200
    pushed = alerts_about(deliver(stack), detection["id"])
    assert Counter(a["rule_id"] for a in pushed) == {
        "Wiz.Defend.Alert.Passthrough": 1,
        "Wizwatch.Defend.Production.Resource": 1,
        "Wizwatch.Defend.Known.Bad.IP": 1,
        "Wizwatch.Defend.Credential.Access.Or.Impact": 1,
    }
    # Wiz links the detection to a threat (a newer version, updatedAt later, inside the poller's
    # settled windows); the poller then reads it: one event, whatever path and version brought it.
    wiz_sim.store.update_detection(detection["id"], now - timedelta(minutes=10), delay=0, link_threat=True)
    assert stack.tick_poller(DETECTIONS)["ok"]
    polled = [k for k in stack.archived_keys(f"raw/{DETECTIONS}/") if not is_pushed_key(k)]
    pages = [stack.s3.get_object(Bucket=stack.resources["bucket"], Key=k)["Body"].read() for k in polled]
    nodes = [n for p in pages for n in json.loads(gzip.decompress(p))["data"]["detections"]["nodes"]]
    polled_copies = [n for n in nodes if n["id"] == detection["id"]]
    assert polled_copies and polled_copies[0]["issue"]  # the newer version, linked to a threat
    alerts = alerts_about(deliver(stack), detection["id"])
    assert sorted(a["alert_id"] for a in alerts) == sorted(a["alert_id"] for a in pushed)


def test_a_flood_beyond_the_reserved_concurrency_is_answered_429(stack: Any) -> None:
    with WebhookListener(stack, reserved_concurrency=1) as hook:
        token = hook.bearer_token()
        answers: list[int] = []
        with hook._invoke_lock:  # the one allowed invocation is busy
            busy = threading.Thread(
                target=lambda: answers.append(
                    requests.post(
                        hook.url + "/detections",
                        json={"id": "d-flood", "createdAt": "2026-01-01T00:00:00Z"},
                        headers={"Authorization": f"Bearer {token}"},
                        timeout=60,
                    ).status_code
                )
            )
            busy.start()
            for _ in range(1200):  # until the first request holds the only slot (no timing assumed)
                if hook.in_flight:
                    break
                time.sleep(0.05)
            assert hook.in_flight == 1
            flood = requests.post(hook.url + "/detections", json={}, timeout=30)
            assert flood.status_code == 429
            assert json.loads(flood.content)["Reason"] == "ConcurrentInvocationLimitExceeded"
        busy.join(timeout=60)
    assert answers == [200]
