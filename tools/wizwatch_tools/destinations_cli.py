"""``wizwatch destinations list|render|test``: see, preview and try the configured destinations.

``test NAME`` sends a sample alert to one destination through the notifier's own code (what
Panther's "Send test alert" does); credentials come from the ``DESTINATIONS_SECRET`` secret
(``--secret-id``, with ``--endpoint-url`` for a local stack) or a local JSON file
(``--secrets-file``). ``render NAME`` prints the message without sending it (no credentials).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from wizwatch import aws
from wizwatch.alerts.message import AlertSpec, build_alert
from wizwatch.alerts.routing import SEVERITIES
from wizwatch.errors import DeliveryError, WizwatchError
from wizwatch.notify.base import DeliveryEnv
from wizwatch.notify.destinations import Destinations
from wizwatch.notify.http import HttpPoster
from wizwatch.notify.secrets import DestinationSecrets, redact
from wizwatch_tools.rules_cli.paths import REPO

#: The shipped document (resolved from the code, so the command works from any directory).
DEFAULT_DOCUMENT = REPO / "config" / "destinations.yml"


def sample_alert(severity: str = "HIGH", **overrides: Any) -> dict[str, Any]:
    """An alert as the detector writes it, for a Panther-managed Wiz audit rule."""
    spec = AlertSpec(
        alert_type="RULE",
        rule_id="Wiz.Revoke.User.Sessions",
        rule_name="Wiz Revoke User Sessions",
        title="[Wiz]: [RevokeUserSessions] action performed by user [alice@example.com]",
        severity=severity,
        dedup_string="a2b3c4d5-0000-4000-8000-000000000001",
        dedup_period_minutes=60,
        threshold=1,
        log_types=["Wiz.Audit"],
        description="A Wiz user's sessions were revoked. This is a test alert sent by wizwatch.",
        runbook="Confirm with the actor that the change was planned; if not, rotate their credentials.",
        reference="https://docs.wiz.io/",
        reports={"MITRE ATT&CK": ["TA0040:T1531"]},
        tags=["Wiz", "Test"],
        alert_context={
            "action": "RevokeUserSessions",
            "actor": {"id": "u-123", "name": "alice@example.com", "type": "USER"},
            "source_ip": "203.0.113.7",
            "event_id": "a2b3c4d5-0000-4000-8000-000000000001",
        },
        events=[{"id": "a2b3c4d5-0000-4000-8000-000000000001", "action": "RevokeUserSessions"}],
        source={
            "raw_object": "s3://wizwatch-archive/raw/Wiz.Audit/dt=2026-11-22/sample/page-00001.json.gz",
            "log_type": "Wiz.Audit",
            "matches_prefix": "s3://wizwatch-archive/matches/Wiz.Revoke.User.Sessions/",
            "matches_object": "s3://wizwatch-archive/matches/Wiz.Revoke.User.Sessions/dt=2026-11-22/sample.json.gz",
        },
    )
    alert = build_alert(
        spec,
        alert_id=overrides.pop("alert_id", f"test{int(time.time() * 1000):x}"),
        event_count=1,
        first_event_time="2026-11-22T10:00:00.000Z",
        last_event_time="2026-11-22T10:00:00.000Z",
        created_at="2026-11-22T10:00:05.000Z",
    )
    alert.update(overrides)
    return alert


class FileSecrets(DestinationSecrets):
    """DESTINATIONS_SECRET's JSON read from a local file instead of Secrets Manager."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path

    def _load(self, force: bool = False) -> dict[str, Any]:
        doc = json.loads(self.path.read_text())
        self._doc = doc
        return dict(doc)


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    for name, text in (
        ("list", "the configured destinations and their default routing"),
        ("render", "print the message a destination would get for a sample alert"),
        ("test", "send a sample alert to a destination"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument(
            "--destinations", type=Path, default=None, metavar="FILE", help="destinations document"
        )
        if name != "list":
            p.add_argument("name", help="destination name")
            p.add_argument("--severity", default="HIGH", choices=SEVERITIES)
        if name == "test":
            p.add_argument("--secret-id", default=os.environ.get("DESTINATIONS_SECRET", ""))
            p.add_argument("--secrets-file", type=Path, default=None, help="the secret's JSON, from a file")
            p.add_argument("--endpoint-url", default=None, help="AWS endpoint (e.g. a local moto server)")
            p.add_argument("--allow-loopback-http", action="store_true", help="allow http:// to 127.0.0.1")


def _document(args: argparse.Namespace) -> str | None:
    path = args.destinations or (
        Path(os.environ["DESTINATIONS_FILE"]) if "DESTINATIONS_FILE" in os.environ else None
    )
    if path is None and DEFAULT_DOCUMENT.is_file():
        path = DEFAULT_DOCUMENT
    return str(path) if path else None


def run(args: argparse.Namespace) -> int:
    endpoint = getattr(args, "endpoint_url", None)
    before = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    aws.reset_clients()  # the caller's credentials and endpoint, never a handler's cached client
    try:
        return _run(args)
    finally:  # leave the caller's environment as it was (the command also runs in-process)
        if endpoint:
            if before is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = before
        aws.reset_clients()


def _run(args: argparse.Namespace) -> int:
    secrets: DestinationSecrets = (
        FileSecrets(args.secrets_file)
        if getattr(args, "secrets_file", None)
        else DestinationSecrets(getattr(args, "secret_id", ""))
    )
    env = DeliveryEnv(
        secrets=secrets,
        http=HttpPoster(allow_loopback_http=bool(getattr(args, "allow_loopback_http", False))),
        region=os.environ.get("AWS_REGION", os.environ.get("AWS_DEFAULT_REGION", "us-east-1")),
        alert_topic_arn=os.environ.get("ALERT_TOPIC_ARN", ""),
        sns_client=lambda: aws.client("sns"),
    )
    try:
        destinations = Destinations.load(_document(args), env)
    except WizwatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.action == "list":
        for name in destinations.names():
            s = destinations.by_name[name].spec
            logs = ",".join(sorted(s.log_types)) if s.log_types is not None else "any"
            sevs = ",".join(x for x in SEVERITIES if x in s.severities) or "-"
            print(f"{name:<20} {s.type:<10} severities={sevs} alert_types={','.join(sorted(s.alert_types))} "
                  f"log_types={logs}")  # fmt: skip
        return 0
    destination = destinations.get(args.name)
    if destination is None:
        print(
            f"error: no destination {args.name!r} (have: {', '.join(destinations.names())})", file=sys.stderr
        )
        return 2
    alert = sample_alert(args.severity)
    if args.action == "render":
        print(json.dumps(destination.render(alert), indent=2, ensure_ascii=False))
        return 0
    try:
        receipt = destination.send(alert, timeout=15.0)
    except DeliveryError as exc:
        print(f"FAILED ({exc.failure_class}): {redact(str(exc), secrets.redactions())}", file=sys.stderr)
        return 1
    print(
        f"delivered a test alert ({alert['alert_id']}) to {destination.name}"
        + (f": {receipt.external_id}" if receipt.external_id else "")
    )
    return 0
