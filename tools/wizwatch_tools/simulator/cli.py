"""``wizwatch simulate``: run the Wiz API simulator standalone until Ctrl-C.

Example: ``wizwatch simulate --port 8089 --seed 7 --fault rate_limit:retry_after=2,count=3``.
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import UTC, datetime
from types import FrameType
from typing import Any

from wizwatch_tools.simulator.faults import KINDS
from wizwatch_tools.simulator.server import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, WizSimulator


def _value(text: str) -> Any:
    if text.lower() in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_fault(spec: str) -> dict[str, Any]:
    """``KIND[:k=v,...]`` -> keyword arguments for ``Faults.add`` (``kind`` included)."""
    kind, _, rest = spec.partition(":")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown fault kind {kind!r}; expected one of {', '.join(KINDS)}")
    params: dict[str, Any] = {"kind": kind}
    for item in filter(None, rest.split(",")):
        key, sep, raw = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"fault parameter {item!r} must look like key=value")
        params[key.strip()] = _value(raw.strip())
    return params


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated data")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=parse_fault,
        metavar="KIND[:k=v,...]",
        help=f"queue a fault ({', '.join(KINDS)}), e.g. server_error:status=503,count=2; repeatable",
    )
    parser.add_argument("--token-lifetime", type=float, default=86400, help="expires_in of tokens (s)")
    parser.add_argument("--cursor-ttl", type=float, default=None, help="reject cursors older than this (s)")
    parser.add_argument("--page-delay", type=float, default=0.0, help="added latency per GraphQL answer (s)")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="429 GraphQL requests beyond this many per second"
    )
    parser.add_argument("--history-hours", type=float, default=24.0, help="hours of seeded past data")
    parser.add_argument(
        "--static", action="store_true", help="no live traffic: serve only the seeded history"
    )
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)


def run(args: argparse.Namespace) -> int:
    sim = WizSimulator(
        seed=args.seed,
        client_id=args.client_id,
        client_secret=args.client_secret,
        port=args.port,
        token_lifetime_seconds=args.token_lifetime,
        cursor_ttl_seconds=args.cursor_ttl,
        page_delay_seconds=args.page_delay,
        rate_limit_per_second=args.rate_limit,
        live=not args.static,
    )
    try:
        for fault in args.fault:
            sim.faults.add(**fault)
    except (TypeError, ValueError) as exc:
        print(f"wizwatch simulate: bad --fault: {exc}", file=sys.stderr)
        return 2
    added = sim.store.seed_history(datetime.now(UTC), hours=args.history_hours)
    try:
        sim.start()
    except OSError as exc:
        print(f"wizwatch simulate: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1

    def _stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"Wiz API simulator on {sim.url} (seed {args.seed}, {added} records seeded)")
    print(f"  token URL      {sim.token_url}   (audience: wiz-api)")
    print(f"  GraphQL URL    {sim.api_url}")
    print(f"  client id      {args.client_id}")
    print(f"  client secret  {args.client_secret}")
    print(f"  control        {sim.url}/_sim/stats  /_sim/faults  /_sim/records?log_type=Wiz.Audit")
    if args.fault:
        print(f"  faults queued  {len(args.fault)}")
    print("Ctrl-C to stop.", flush=True)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0
