"""``wizwatch local provision|up|demo``: the embedded local stack from the command line."""

from __future__ import annotations

import argparse
import json
import sys
import time

from wizwatch_tools.localstack.provision import DEFAULT_TEMPLATE

#: Placeholder Wiz URLs for ``provision`` without a Wiz API: visibly not a real tenant.
PLACEHOLDER_API_URL = "https://wiz-api.invalid/graphql"


def _parameters(values: list[str]) -> dict[str, str]:
    params = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--parameter expects Name=Value, got {item!r}")
        params[key] = value
    return params


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="local_command", required=True)

    prov = sub.add_parser(
        "provision",
        help="create template.yaml's resources on an AWS endpoint and print each function's environment",
    )
    prov.add_argument(
        "--endpoint-url", required=True, help="AWS endpoint, e.g. a moto server http://127.0.0.1:5000"
    )
    prov.add_argument(
        "--template", default=str(DEFAULT_TEMPLATE), help="template to read (default: %(default)s)"
    )
    prov.add_argument(
        "--stack-name", default="wizwatch", help="prefix of generated names (default: %(default)s)"
    )
    prov.add_argument(
        "--parameter", action="append", default=[], metavar="NAME=VALUE", help="template parameter override"
    )
    prov.add_argument("--wiz-api-url", help="Wiz GraphQL URL for the poller (WizApiUrl parameter)")
    prov.add_argument("--wiz-token-url", help="Wiz token URL for the poller (WizTokenUrl parameter)")
    prov.add_argument("--client-id", help="Wiz client id to store in the credentials secret")
    prov.add_argument(
        "--client-secret-env", metavar="VAR", help="environment variable holding the client secret"
    )

    for name, text in (
        ("demo", "run the whole pipeline on a local stack against the Wiz simulator and show what happened"),
        ("up", "start a moto server and the Wiz simulator, provision the stack and wait (Ctrl-C stops)"),
    ):
        p = sub.add_parser(name, help=text, description=text)
        p.add_argument("--seed", type=int, default=7, help="simulator seed (default: %(default)s)")
        p.add_argument(
            "--hours", type=int, default=3, help="hours of simulated history (default: %(default)s)"
        )
        p.add_argument("--wiz-api-url", help="use a real Wiz tenant's GraphQL URL instead of the simulator")
        p.add_argument("--wiz-token-url", help="the real tenant's token URL (with --wiz-api-url)")
        p.add_argument("--client-id", help="the real tenant's client id (with --wiz-api-url)")
        p.add_argument("--wiz-audience", help="OAuth audience, only for a token URL that is not Wiz's own")
        p.add_argument("--client-secret-env", metavar="VAR", help="variable holding the real client secret")
        p.add_argument("--log-types", help="comma list of log types to poll (default: the template's)")
        if name == "demo":
            p.add_argument("--verbose", action="store_true", help="show the handlers' own log lines")
            p.add_argument(
                "--keep",
                metavar="DIR",
                help="folder to keep the archive in, laid out like the bucket (default: a new temporary "
                "folder, printed); query it with wizwatch query/replay --archive DIR",
            )


def run_provision(args: argparse.Namespace) -> int:
    from wizwatch_tools.localstack.provision import provision
    from wizwatch_tools.localstack.session import secret_from_env
    from wizwatch_tools.localstack.stack import SECRET_ID

    params = _parameters(args.parameter)
    params.setdefault("WizApiUrl", args.wiz_api_url or PLACEHOLDER_API_URL)
    if args.wiz_token_url:
        params.setdefault("WizTokenUrl", args.wiz_token_url)
    secrets = {}
    client_secret = secret_from_env(args.client_secret_env)
    if args.client_id or client_secret:
        if not (args.client_id and client_secret):
            raise SystemExit("--client-id and --client-secret-env go together")
        secrets[SECRET_ID] = json.dumps({"client_id": args.client_id, "client_secret": client_secret})
    result = provision(
        args.endpoint_url,
        template_path=args.template,
        parameters=params,
        stack_name=args.stack_name,
        secret_values=secrets,
    )
    json.dump(result.summary(), sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def run_up(args: argparse.Namespace) -> int:
    import contextlib

    from wizwatch_tools.localstack.session import local_session
    from wizwatch_tools.localstack.webhook_listener import WebhookListener

    with local_session(args) as session, contextlib.ExitStack() as stop:
        described = session.describe()
        if "webhook" in session.stack.functions:
            hook = stop.enter_context(WebhookListener(session.stack))
            # The token stays in the (local) secret: `wizwatch send-webhooks --bearer-env VAR`.
            described["webhook_url"] = hook.url
            described["webhook_auth_secret"] = session.stack.env("webhook")["WEBHOOK_AUTH_SECRET"]
        print(json.dumps(described, indent=2), flush=True)
        print("local stack is up; Ctrl-C stops it", file=sys.stderr, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def run(args: argparse.Namespace) -> int:
    if args.local_command == "provision":
        return run_provision(args)
    if args.local_command == "up":
        return run_up(args)
    from wizwatch_tools.localstack.demo import run_demo

    return run_demo(args)
