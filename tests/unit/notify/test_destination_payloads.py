"""Each destination type's message, sent over real HTTP to a receiver that checks it like the
service does; oversized and hostile alerts still produce a valid message within the limit."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest

from wizwatch.notify.destinations import Destinations
from wizwatch_tools.destinations_cli import sample_alert
from wizwatch_tools.localstack.receivers import LocalDestinations

HUGE = {
    "alert_context": {f"k{i}": "x" * 5000 + '"\\' for i in range(40)},
    "description": "d" * 100_000,
    "runbook": "r" * 100_000,
    "title": "t" * 5000,
    "events": [{"blob": "e" * 20_000}] * 10,
}


def only_request(local: LocalDestinations, service: str) -> Any:
    [req] = local.receivers.received(service)
    assert req.accepted, (req.status, req.body[:300])
    return req


def test_slack_block_kit_with_severity_colour_and_escaped_text(
    destinations: Destinations, local: LocalDestinations
) -> None:
    alert = sample_alert("CRITICAL", title="<!channel> pwned & <https://evil.example|click>")
    destinations.get("slack").send(alert, timeout=5)  # type: ignore[union-attr]
    msg = only_request(local, "slack").json()
    [att] = msg["attachments"]
    assert att["color"] == "#8B0000"
    header, facts = att["blocks"][0], att["blocks"][1]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert "<!channel>" not in json.dumps(msg["text"]) and "&lt;!channel&gt;" in msg["text"]
    assert any(f["text"] == "*Severity*\nCRITICAL" for f in facts["fields"])
    footer = att["blocks"][-1]["elements"][0]["text"]
    assert "s3.console.aws.amazon.com/s3/object/wizwatch-archive?region=eu-west-1" in footer
    assert any(b.get("text", {}).get("text", "").startswith("*Runbook*") for b in att["blocks"])


def test_teams_adaptive_card(destinations: Destinations, local: LocalDestinations) -> None:
    destinations.get("teams").send(sample_alert("HIGH"), timeout=5)  # type: ignore[union-attr]
    req = only_request(local, "teams")
    assert req.headers["content-type"] == "application/json; charset=utf-8"
    card = req.json()["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["body"][0]["color"] == "attention"
    assert [a["title"] for a in card["actions"]] == ["Matched events", "Reference"]


def test_pagerduty_trigger_keyed_by_alert_id_pages_once(
    destinations: Destinations, local: LocalDestinations
) -> None:
    alert = sample_alert("MEDIUM", alert_id="f" * 32)
    pd = destinations.get("pagerduty")
    assert pd is not None
    assert pd.send(alert, timeout=5).external_id == "f" * 32
    pd.send(alert, timeout=5)  # a re-send (e.g. after a crash) joins the same incident
    events = [r.json() for r in local.receivers.received("pagerduty", accepted=True)]
    assert {e["dedup_key"] for e in events} == {"f" * 32}
    assert events[0]["payload"]["severity"] == "warning" and events[0]["event_action"] == "trigger"
    assert local.receivers.service("pagerduty").incidents == {"f" * 32: 2}
    assert events[0]["payload"]["custom_details"]["alert_context"]["source_ip"] == "203.0.113.7"


def test_jira_creates_one_issue_and_finds_it_again(
    destinations: Destinations, local: LocalDestinations
) -> None:
    jira = destinations.get("jira")
    assert jira is not None
    alert = sample_alert("LOW", alert_id="a" * 32)
    first = jira.send(alert, timeout=5)
    second = jira.send(alert, timeout=5)  # e.g. the notifier died before recording the first
    assert first.external_id == second.external_id == "SEC-1"
    issues = local.receivers.service("jira").issues
    assert len(issues) == 1
    fields = issues[0]["fields"]
    assert "wizwatch-" + "a" * 32 in fields["labels"] and fields["summary"].startswith("[LOW] [Wiz]")
    creates = [r for r in local.receivers.received("jira") if r.path.endswith("/issue")]
    assert len(creates) == 1
    _user, _, token = base64.b64decode(creates[0].headers["authorization"][6:]).decode().partition(":")
    assert token == local.credentials["jira"]


def test_webhook_gets_the_contract_alert_signed(destinations: Destinations, local: LocalDestinations) -> None:
    alert = sample_alert("INFO")
    destinations.get("webhook").send(alert, timeout=5)  # type: ignore[union-attr]
    req = only_request(local, "webhook")
    assert req.json() == alert
    assert req.headers["x-wizwatch-alert-id"] == alert["alert_id"]
    mac = hmac.new(local.credentials["webhook_hmac"].encode(), req.body, hashlib.sha256).hexdigest()
    assert req.headers["x-wizwatch-signature"] == "sha256=" + mac


@pytest.mark.parametrize(("name", "limit"), [("slack", 60_000), ("teams", 28_000), ("pagerduty", 512 * 1024),
                                             ("jira", 64 * 1024), ("webhook", 256 * 1024)])  # fmt: skip
def test_an_oversized_alert_is_trimmed_to_the_limit_and_stays_valid(
    destinations: Destinations, local: LocalDestinations, name: str, limit: int
) -> None:
    alert = sample_alert("HIGH", **HUGE)
    dest = destinations.get(name)
    assert dest is not None
    body = dest.encode(dest.payload(alert))
    assert len(body) <= limit
    json.loads(body)  # whole JSON, never cut mid-string
    dest.send(alert, timeout=5)
    assert all(r.accepted for r in local.receivers.received(name)), [
        r.status for r in local.receivers.received(name)
    ]


def test_texts_are_capped_to_slacks_block_limits(destinations: Destinations) -> None:
    slack = destinations.get("slack")
    assert slack is not None
    msg = slack.payload(sample_alert("HIGH", description="é" * 10_000, title="T" * 500))
    blocks = msg["attachments"][0]["blocks"]
    assert len(blocks[0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section" and "text" in b)
