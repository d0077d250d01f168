"""The ``wizwatch`` console script: one entry point, sub-commands in their own modules.

Each sub-command module exposes ``configure(parser)`` and ``run(args) -> int``; modules are
imported only when their command runs, so ``wizwatch test`` never pays for moto or graphql.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "test": ("wizwatch_tools.rules_cli.test_cmd", "run rule tests in Panther's test mode"),
    "eval": ("wizwatch_tools.rules_cli.eval_cmd", "run every enabled rule over raw Wiz records"),
    "debug": ("wizwatch_tools.rules_cli.debug_cmd", "run one rule test, showing every function's output"),
    "rules": ("wizwatch_tools.rules_cli.rules_cmd", "the effective rule set (`wizwatch rules list`)"),
    "simulate": ("wizwatch_tools.simulator.cli", "run the Wiz API simulator"),
    "send-webhooks": (
        "wizwatch_tools.simulator.send_cli",
        "POST simulated Wiz webhooks (issues, detections; --hostile adds bad ones) to a URL",
    ),
    "local": ("wizwatch_tools.localstack.cli", "the embedded local stack (provision, demo, up)"),
    "destinations": ("wizwatch_tools.destinations_cli", "list, preview and test alert destinations"),
    "query": ("wizwatch_tools.lake.query_cmd", "SQL over an archive (DuckDB)"),
    "replay": ("wizwatch_tools.lake.replay_cmd", "backtest rules over an archive (the detector's own path)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wizwatch", description="Wizwatch developer tools")
    parser.add_argument("--version", action="version", version=version_line())
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module)
        importlib.import_module(module).configure(p)
    return parser


def version_line() -> str:
    from wizwatch_tools.rules_cli.paths import version

    return f"wizwatch {version()}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # Import only the module of the command being run (plus argparse needs its options).
    if argv and argv[0] in COMMANDS:
        parser = argparse.ArgumentParser(prog=f"wizwatch {argv[0]}", description=COMMANDS[argv[0]][1])
        module = importlib.import_module(COMMANDS[argv[0]][0])
        module.configure(parser)
        args = parser.parse_args(argv[1:])
        return int(module.run(args) or 0)
    build_parser().parse_args(argv)
    return 2


if __name__ == "__main__":
    sys.exit(main())
