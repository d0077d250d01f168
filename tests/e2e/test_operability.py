"""What an operator sees when something is wrong, through the moto server and the real handlers:
the first deploy's placeholder secret, a malformed alert message, an object the detector cannot
read. Each is one clear JSON log line per attempt, and nothing else is held up."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from alert_samples import contract_alert
from detector_fixtures import key_for

from wizwatch.logtypes import DEFAULT_POLLED_LOG_TYPES
from wizwatch_tools.localstack import LocalStack
from wizwatch_tools.localstack.stack import SIMULATOR_AUDIENCE, SIMULATOR_REQUESTS_PER_SECOND

#: template.yaml's RedrivePolicy maxReceiveCount of RawObjectQueue and AlertQueue.
MAX_RECEIVES = 5


def log_lines(stack: Any, fn: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stack.recorder.output[fn] if line.startswith('{"level"')]


def queue_bodies(stack: Any, url: str) -> list[str]:
    return [
        m["Body"] for m in stack.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    ]


@pytest.fixture
def first_deploy(moto_server: str, wiz_sim: Any) -> Iterator[LocalStack]:
    """The stack exactly as `sam deploy` leaves it: the secret the template generated, nobody has
    run put-secret-value yet."""
    stack = LocalStack(
        moto_server,
        parameters={
            "WizApiUrl": wiz_sim.api_url,
            "WizTokenUrl": wiz_sim.token_url,
            "WizAudience": SIMULATOR_AUDIENCE,
            "InitialLookbackHours": "2",  # the seeded history (tests/conftest.py)
        },
        function_env={"poller": {"WIZ_REQUESTS_PER_SECOND": SIMULATOR_REQUESTS_PER_SECOND}},
        reset=True,
    )
    try:
        yield stack
    finally:
        stack.close()


def test_the_first_deploy_reports_the_unset_secret_until_put_secret_value(
    first_deploy: LocalStack, wiz_sim: Any
) -> None:
    stack, secret = first_deploy, first_deploy.resources["secret_id"]
    generated = json.loads(stack.secretsmanager.get_secret_value(SecretId=secret)["SecretString"])
    assert generated["client_id"] == "REPLACE_ME"  # template.yaml's GenerateSecretString

    results = stack.tick_poller()  # every schedule fires, as EventBridge would after the deploy
    # the template's default types (Wiz.Detections is opt-in), and the posture snapshot's
    assert set(results) >= set(DEFAULT_POLLED_LOG_TYPES)
    for result in results.values():
        assert not result["ok"]
        (outcome,) = result["log_types"].values()
        assert "SecretNotSetError" in outcome["error"] and "put-secret-value" in outcome["error"]
    assert wiz_sim.stats.requests == []  # the placeholder never reached Wiz: no Login noise
    errors = [line for line in log_lines(stack, "poller") if line["level"] == "ERROR"]
    assert len(errors) == len(results)  # one line per invocation
    for line in errors:
        assert line["secret"] == secret and line["message"].startswith("Wiz credentials secret not set")
        assert line["action"].startswith(f"aws secretsmanager put-secret-value --secret-id {secret} ")
        assert generated["client_secret"] not in json.dumps(line)
    assert not any("PollHeartbeat" in b for b in stack.recorder.metrics["poller"])  # heartbeat alarms

    # The README's step: put the service account into the secret. The warm containers pick it up.
    stack.secretsmanager.put_secret_value(
        SecretId=secret,
        SecretString=json.dumps({"client_id": wiz_sim.client_id, "client_secret": wiz_sim.client_secret}),
    )
    for result in stack.tick_poller().values():
        assert result["ok"], result
    assert wiz_sim.stats.tokens_issued == 1


def test_a_malformed_alert_goes_to_the_alert_dlq_with_its_reason_and_the_valid_one_is_delivered(
    stack: Any,
) -> None:
    bad = {
        **contract_alert(alert_id="e" * 32),
        "alert_id": "f" * 32,
        "source": [1],
    }  # used to crash with AttributeError
    for body in (json.dumps(contract_alert(alert_id="e" * 32)), json.dumps(bad)):
        stack.sqs.send_message(QueueUrl=stack.resources["alert_queue_url"], MessageBody=body)
    drained = stack.run_notifier()
    assert [a["alert_id"] for a in stack.received_alerts()] == ["e" * 32]
    assert [json.loads(b)["alert_id"] for b in queue_bodies(stack, stack.resources["alert_dlq_url"])] == [
        "f" * 32
    ]
    rejected = [line for line in log_lines(stack, "notifier") if line["level"] == "ERROR"]
    assert len(rejected) == drained.failed == MAX_RECEIVES  # one line per attempt, then the DLQ
    assert all("source" in line["reason"] and "exception" not in line for line in rejected)
    assert [line["receive_count"] for line in rejected] == [str(n) for n in range(1, MAX_RECEIVES + 1)]


def test_an_object_the_detector_cannot_read_is_logged_with_key_page_and_reason(stack: Any) -> None:
    key = key_for(7)  # notified, but the object is not there
    notification = {
        "Records": [
            {
                "eventSource": "aws:s3",
                "eventName": "ObjectCreated:Put",
                "s3": {"bucket": {"name": stack.resources["bucket"]}, "object": {"key": key}},
            }
        ]
    }
    stack.sqs.send_message(QueueUrl=stack.resources["raw_queue_url"], MessageBody=json.dumps(notification))
    drained = stack.run_detector()
    assert drained.failed == MAX_RECEIVES and stack.errors == []  # reported, not raised
    failures = [line for line in log_lines(stack, "detector") if line["level"] == "ERROR"]
    assert len(failures) == MAX_RECEIVES
    for line in failures:
        assert line["key"] == key and line["page"] == 7 and "NoSuchKey" in line["reason"]
        assert line["service"] == "detector" and line["function_request_id"]
    assert len(queue_bodies(stack, stack.resources["raw_dlq_url"])) == 1
