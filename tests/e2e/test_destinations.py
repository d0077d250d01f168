"""Alerts to their destinations through the real handlers and real HTTP: S3 page -> detector
(routing) -> alert queue -> notifier (fan-out) -> delivery queue -> notifier -> local Slack,
PagerDuty, Jira, webhook receivers and SNS. Routing precedence, suppression, a 429 then success
delivered once, a destination down for the whole run ending in DeliveryDLQ while the others are
delivered, a redelivered alert delivered once per destination, no secret in any output."""

from __future__ import annotations

import gzip
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from detector_fixtures import audit, key_for, page_body
from lake_fixtures import NEVER_RECORDED, NOT_DELIVERED

from wizwatch_tools.cli import main
from wizwatch_tools.lake import query as lake_query
from wizwatch_tools.lake.sources import open_archive
from wizwatch_tools.localstack.receivers import LocalDestinations, local_destinations

ROUTING = {
    "slack": {"severities": ["MEDIUM", "HIGH", "CRITICAL"]},
    "pagerduty": {"severities": ["CRITICAL"]},
    "jira": {"severities": []},  # only rules that name it
    "webhook": {"severities": [], "aliases": ["5f0c2b1e-panther-destination-uuid"]},
}
#: RuleID -> (severity, extra YAML, extra Python, the action that triggers it)
RULES = {
    "Dest.Defaults.High": ("High", "", "", "DestHigh"),
    "Dest.Defaults.Info": ("Info", "", "", "DestInfo"),
    "Dest.Override": ("Critical", "OutputIds: [jira]", "", "DestOverride"),
    "Dest.Dynamic": (
        "Low",
        "OutputIds: [jira]",
        "def destinations(event):\n    return ['5f0c2b1e-panther-destination-uuid', 'pagerduty']\n",
        "DestDynamic",
    ),
    "Dest.Suppressed": ("High", "", "def destinations(event):\n    return []\n", "DestSuppressed"),
}
EXPECTED = {
    ("Dest.Defaults.High", "sns"), ("Dest.Defaults.High", "slack"),  # severity defaults
    ("Dest.Defaults.Info", "sns"),
    ("Dest.Override", "jira"),  # OutputIds beat CRITICAL's defaults (sns, slack, pagerduty)
    ("Dest.Dynamic", "webhook"), ("Dest.Dynamic", "pagerduty"),  # destinations() beats OutputIds
}  # fmt: skip


def write_rules(directory: Path) -> Path:
    directory.mkdir()
    for rule_id, (severity, yaml_extra, py_extra, action) in RULES.items():
        name = rule_id.replace(".", "_").lower()
        (directory / f"{name}.py").write_text(
            f"def rule(event):\n    return event.get('action') == '{action}'\n\n"
            f"def dedup(event):\n    return event.get('id')\n\n{py_extra}"
        )
        spec = f"""
            AnalysisType: rule
            RuleID: {rule_id}
            Enabled: true
            Filename: {name}.py
            Severity: {severity}
            LogTypes: [Wiz.Audit]
            """
        (directory / f"{name}.yml").write_text(textwrap.dedent(spec) + yaml_extra + "\n")
    return directory


@pytest.fixture
def routed(stack: Any, tmp_path: Path) -> Iterator[tuple[Any, LocalDestinations]]:
    """The stack with the test rules, the destinations document and secret of the receivers."""
    dest = local_destinations(("sns", "slack", "pagerduty", "jira", "webhook"), routing=ROUTING)
    try:
        doc = str(dest.write_document(tmp_path / "destinations.yml"))
        stack.secretsmanager.put_secret_value(
            SecretId=stack.resources["destinations_secret_id"], SecretString=dest.secret_string()
        )
        stack.function_env.setdefault("detector", {}).update(
            {"RULES_DIR": str(write_rules(tmp_path / "rules")), "DESTINATIONS_FILE": doc}
        )
        stack.function_env.setdefault("notifier", {}).update(
            # No real sleeping: waits inside an invocation are unit-tested with an injected clock.
            {
                "DESTINATIONS_FILE": doc,
                "DESTINATIONS_ALLOW_LOOPBACK_HTTP": "true",
                "DELIVERY_INLINE_WAIT_SECONDS": "0",
            }
        )
        yield stack, dest
    finally:
        dest.stop()


def run(stack: Any) -> None:
    """One archived page with an event for every test rule, through detector and notifier."""
    records = [audit(f"{action}-1", action=action) for *_, action in RULES.values()]
    stack.s3.put_object(Bucket=stack.resources["bucket"], Key=key_for(1), Body=page_body(records))
    stack.run_detector()
    stack.run_notifier()


def records(stack: Any) -> dict[tuple[str, str], dict[str, Any]]:
    """(rule, destination) -> its delivery record under deliveries/."""
    out = {}
    for key in stack.archived_keys("deliveries/"):
        body = stack.s3.get_object(Bucket=stack.resources["bucket"], Key=key)["Body"].read()
        rec = json.loads(gzip.decompress(body))
        out[(rec["p_rule_id"], rec["destination"])] = rec
    return out


def test_routing_precedence_suppression_and_redelivery(routed: tuple[Any, LocalDestinations]) -> None:
    stack, dest = routed
    run(stack)
    assert stack.errors == []
    recs = records(stack)
    assert set(recs) == EXPECTED
    assert all(r["status"] == "delivered" and r["attempts"] == 1 for r in recs.values())
    # what each receiver got, once
    got = {
        name: dest.receivers.received(name, accepted=True)
        for name in ("slack", "pagerduty", "jira", "webhook")
    }
    assert {k: len(v) for k, v in got.items()} == {
        "slack": 1,
        "pagerduty": 1,
        "jira": 2,
        "webhook": 1,
    }  # jira: search + create
    assert len(dest.receivers.service("jira").issues) == 1
    webhook_alert = got["webhook"][0].json()
    assert webhook_alert["rule_id"] == "Dest.Dynamic" and webhook_alert["destinations"] == [
        "webhook",
        "pagerduty",
    ]
    assert recs[("Dest.Override", "jira")]["external_id"] == "SEC-1"
    sns = {a["rule_id"]: a for a in stack.received_alerts()}
    assert set(sns) == {"Dest.Defaults.High", "Dest.Defaults.Info"}
    assert sns["Dest.Defaults.High"]["destinations"] == ["sns", "slack"]
    # suppressed: counted and kept under matches/, delivered nowhere
    assert stack.archived_keys("matches/Dest.Suppressed/")
    assert not any(rule == "Dest.Suppressed" for rule, _ in recs)

    # The same alert again (SQS redelivery, a detector re-queue) and a stray copy of one delivery
    # message: each destination keeps exactly one.
    high = sns["Dest.Defaults.High"]
    for _ in range(2):
        stack.sqs.send_message(QueueUrl=stack.resources["alert_queue_url"], MessageBody=json.dumps(high))
    stack.sqs.send_message(
        QueueUrl=stack.resources["delivery_queue_url"],
        MessageBody=json.dumps(
            {"kind": "wizwatch.delivery", "version": 1, "destination": "slack", "alert": high}
        ),
    )
    stack.run_notifier()
    assert len(dest.receivers.received("slack")) == 1
    assert [a["rule_id"] for a in stack.received_alerts()].count("Dest.Defaults.High") == 1
    dropped = sum(b.get("DuplicateAlertsDropped", [0])[0] for b in stack.recorder.metrics["notifier"])
    assert dropped == 5  # 2 copies x (sns, slack) + the stray slack delivery


def test_a_429_then_success_and_a_destination_down_all_run(routed: tuple[Any, LocalDestinations]) -> None:
    stack, dest = routed
    dest.receivers.fail("slack", 429, retry_after=30)  # once: beyond the in-invocation wait
    dest.receivers.fail("pagerduty", 503, count=None)  # down for the whole run
    run(stack)
    recs = records(stack)
    assert set(recs) == EXPECTED
    # Slack: refused once with Retry-After, delivered on the next attempt, exactly once
    slack = dest.receivers.received("slack")
    assert [r.status for r in slack] == [429, 200]
    assert recs[("Dest.Defaults.High", "slack")]["attempts"] == 2
    # PagerDuty: every attempt failed; the delivery is parked in DeliveryDLQ, naming its destination
    pd = recs[("Dest.Dynamic", "pagerduty")]
    assert pd["status"] == "failed" and pd["attempts"] == 10 and pd["http_status"] == 503
    assert len(dest.receivers.received("pagerduty")) == 10
    parked = stack.sqs.receive_message(QueueUrl=stack.resources["delivery_dlq_url"], MaxNumberOfMessages=10)
    assert [json.loads(m["Body"])["destination"] for m in parked["Messages"]] == ["pagerduty"]
    # ... while the same alert's webhook delivery and every other alert went through at once
    others = {k: r for k, r in recs.items() if k != ("Dest.Dynamic", "pagerduty")}
    assert all(r["status"] == "delivered" for r in others.values())
    assert recs[("Dest.Dynamic", "webhook")]["attempts"] == 1
    assert stack.queue_depth("alert_dlq_url") == 0

    # The lake says the same (wizwatch query over the bucket): the README's "alerts not delivered"
    # lists the failed PagerDuty delivery, nothing else; the suppressed alert was never routed.
    archive = open_archive(f"s3://{stack.resources['bucket']}", endpoint_url=stack.endpoint)
    with lake_query.run(archive, NOT_DELIVERED.replace("2026-11-01", "2020-01-01")) as result:
        undelivered = [(r[1], r[3], r[4], r[5], r[6], r[7]) for b in result.batches() for r in b]
    assert undelivered == [("Dest.Dynamic", 1, "pagerduty", "failed", 10, 503)]
    with lake_query.run(archive, NEVER_RECORDED.replace("2026-11-01", "2020-01-01")) as result:
        assert [r[0] for b in result.batches() for r in b] == ["Dest.Suppressed"]
    with lake_query.run(archive, "SELECT p_rule_id, destination, status, attempts FROM deliveries") as result:
        assert {(r[0], r[1]): r[2:] for b in result.batches() for r in b} == {
            k: (r["status"], r["attempts"]) for k, r in recs.items()
        }

    # no credential in logs, EMF, records or the DLQ
    outputs = [line for lines in stack.recorder.output.values() for line in lines]
    dumped = json.dumps(list(recs.values())) + json.dumps(parked) + "\n".join(outputs)
    assert len(outputs) > 10
    for secret in dest.credentials.values():
        assert secret not in dumped


def test_destinations_test_sends_a_sample_alert(
    routed: tuple[Any, LocalDestinations], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    stack, dest = routed
    args = ["--destinations", str(tmp_path / "destinations.yml"),
            "--secret-id", stack.resources["destinations_secret_id"], "--endpoint-url", stack.endpoint,
            "--allow-loopback-http"]  # fmt: skip
    assert main(["destinations", "test", "pagerduty", *args]) == 0
    assert "delivered a test alert" in capsys.readouterr().out
    [event] = [r.json() for r in dest.receivers.received("pagerduty")]
    assert event["payload"]["summary"].startswith("[Wiz]: [RevokeUserSessions]")
    dest.receivers.fail("slack", 404)
    assert main(["destinations", "test", "slack", *args]) == 1
    err = capsys.readouterr().err
    assert "FAILED (rejected)" in err and "answered 404" in err and dest.credentials["slack"] not in err
    assert main(["destinations", "test", "nope", *args]) == 2
