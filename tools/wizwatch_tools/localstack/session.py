"""One local session for ``wizwatch local demo|up``: moto server + Wiz API + provisioned stack."""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wizwatch_tools.localstack.server import MotoServer
from wizwatch_tools.localstack.stack import LocalStack


@dataclass
class Session:
    """What ``local_session`` started; ``sim`` is None against a real Wiz tenant."""

    server: MotoServer
    stack: LocalStack
    sim: Any
    wiz_api_url: str

    def describe(self) -> dict[str, Any]:
        return {
            "aws_endpoint_url": self.server.endpoint,
            "wiz_api_url": self.wiz_api_url,
            "wiz": "simulator" if self.sim is not None else "real tenant",
            "resources": self.stack.resources,
            "functions": {name: self.stack.env(name) for name in self.stack.functions},
        }


def secret_from_env(var: str | None) -> str | None:
    """The client secret from the named variable: never taken from the command line itself."""
    if not var:
        return None
    value = os.environ.get(var)
    if not value:
        raise SystemExit(f"--client-secret-env {var}: that environment variable is not set or empty")
    return value


def _real_wiz(args: argparse.Namespace) -> tuple[str, str, str, str] | None:
    """(api url, token url, client id, client secret) when the user asked for a real tenant."""
    given = [args.wiz_api_url, args.wiz_token_url, args.client_id, args.client_secret_env]
    if not any(given):
        return None
    if not all(given):
        raise SystemExit(
            "a real Wiz tenant needs all of --wiz-api-url, --wiz-token-url, --client-id and "
            "--client-secret-env VAR (the secret is read from that variable, never from the command line)"
        )
    secret = secret_from_env(args.client_secret_env)
    assert secret is not None
    return args.wiz_api_url, args.wiz_token_url, args.client_id, secret


@contextlib.contextmanager
def local_session(
    args: argparse.Namespace, *, echo: bool = False, function_env: dict[str, dict[str, str]] | None = None
) -> Iterator[Session]:
    """Start everything, yield it, stop everything (also on errors and Ctrl-C). ``function_env``
    adds variables to functions' environments (e.g. the demo's destinations document)."""
    real = _real_wiz(args)
    sim = None
    with contextlib.ExitStack() as stop:
        server = MotoServer().start()
        stop.callback(server.stop)
        params = {"WizLogTypes": args.log_types} if args.log_types else {}
        if real is None:
            from wizwatch_tools.simulator import WizSimulator

            client_id, client_secret = "wizwatch-demo", secrets.token_urlsafe(24)
            sim = WizSimulator(seed=args.seed, client_id=client_id, client_secret=client_secret)
            sim.store.seed_history(datetime.now(UTC), hours=args.hours)
            sim.start()
            stop.callback(sim.stop)
            api_url = sim.api_url
            stack = LocalStack.for_simulator(
                server.endpoint,
                sim,
                client_id=client_id,
                client_secret=client_secret,
                history_hours=args.hours,
                parameters=params,
                echo=echo,
                function_env=function_env,
            )
        else:
            api_url, token_url, client_id, client_secret = real
            stack = LocalStack.for_wiz(
                server.endpoint,
                wiz_api_url=api_url,
                wiz_token_url=token_url,
                client_id=client_id,
                client_secret=client_secret,
                wiz_audience=args.wiz_audience or "",
                parameters=params,
                echo=echo,
                function_env=function_env,
            )
        stop.callback(stack.close)
        yield Session(server=server, stack=stack, sim=sim, wiz_api_url=api_url)
