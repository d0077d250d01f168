"""``wizwatch send-webhooks --url URL``: the simulator pushes Wiz webhooks (issues, detections).

Bodies come from a seeded simulated tenant (Wiz's documented webhook templates). Credentials are
read from environment variables, never from the command line. ``--hostile`` adds what a receiver
must refuse or absorb: wrong credentials, a body over 1 MiB, malformed bodies, wrong paths and
methods, and re-deliveries of accepted bodies. Prints one JSON line per delivery, then a summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime

import orjson

from wizwatch.logtypes import DETECTIONS, ISSUES_WEBHOOK


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", required=True, help="the webhook endpoint's base URL (no /issues suffix)")
    parser.add_argument("--bearer-env", metavar="VAR", help="environment variable holding the Bearer token")
    parser.add_argument("--basic-user", help="Basic auth user name (with --basic-password-env)")
    parser.add_argument(
        "--basic-password-env", metavar="VAR", help="environment variable holding the password"
    )
    parser.add_argument("--seed", type=int, default=7, help="simulated tenant seed (default: %(default)s)")
    parser.add_argument(
        "--hours", type=float, default=6, help="hours of simulated history (default: %(default)s)"
    )
    parser.add_argument("--detections", type=int, default=5, help="detections to push (default: %(default)s)")
    parser.add_argument("--issues", type=int, default=5, help="open issues to push (default: %(default)s)")
    parser.add_argument(
        "--hostile",
        action="store_true",
        help="also send bad credentials, oversized and malformed bodies, re-deliveries",
    )


def _env(var: str | None, flag: str) -> str | None:
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise SystemExit(f"{flag} {var}: that environment variable is not set or empty")
    return value


def run(args: argparse.Namespace) -> int:
    from wizwatch_tools.simulator.sender import Auth, WebhookSender
    from wizwatch_tools.simulator.store import RecordStore

    token = _env(args.bearer_env, "--bearer-env")
    password = _env(args.basic_password_env, "--basic-password-env")
    if args.basic_user and password is None:
        raise SystemExit("--basic-user needs --basic-password-env VAR")
    auth = Auth(bearer=token) if token else Auth(username=args.basic_user, password=password)
    store = RecordStore(seed=args.seed)
    store.seed_history(datetime.now(UTC), hours=args.hours)
    sender = WebhookSender(args.url, auth, store)
    sender.push_all(DETECTIONS, limit=args.detections)
    sender.push_all(ISSUES_WEBHOOK, limit=args.issues)
    if args.hostile:
        sender.bad_credentials()
        sender.oversized()
        sender.malformed()
        sender.wrong_paths()
        sender.redeliver(2)
    for d in sender.deliveries:
        sys.stdout.buffer.write(orjson.dumps(asdict(d)) + b"\n")
    summary = Counter(f"{d.kind}:{d.status}" for d in sender.deliveries)
    sys.stdout.buffer.write(
        orjson.dumps({"deliveries": len(sender.deliveries), "by_kind_status": summary}) + b"\n"
    )
    return 0
