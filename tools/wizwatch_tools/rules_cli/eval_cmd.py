"""``wizwatch eval --log-type T [FILE|-]``: normalisation + every enabled rule for T, in production
mode, over raw Wiz records; one JSON line per record (contract format)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from wizwatch.detect.engine import Engine
from wizwatch.errors import InvalidPage, InvalidRecord, RuleLoadError
from wizwatch.logtypes import ALL_LOG_TYPES
from wizwatch.parse.normalize import Normalizer
from wizwatch.parse.pages import read_records
from wizwatch.parse.timestamps import now_panther

from .test_cmd import DEFAULT_PATH


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--log-type", required=True, choices=ALL_LOG_TYPES, help="the log type of the records"
    )
    parser.add_argument(
        "input",
        nargs="?",
        default="-",
        help="file of records (JSON array, JSON lines or a GraphQL page; gzip ok), or - for stdin",
    )
    parser.add_argument(
        "--rules", type=Path, default=DEFAULT_PATH, help=f"rule folder (default {DEFAULT_PATH})"
    )


def evaluate(engine: Engine, log_type: str, body: bytes) -> list[dict[str, Any]]:
    """The output lines for a body of records."""
    page = read_records(body)
    normalizer = Normalizer(log_type)
    parse_time = now_panther()
    lines: list[dict[str, Any]] = []
    for i, record in enumerate(page.records):
        try:
            event = normalizer.normalize(record, parse_time)
        except InvalidRecord as exc:
            lines.append({"index": i, "invalid": exc.reason})
            continue
        alerts = []
        errors = []
        for result in engine.evaluate(log_type, event):
            if result.error is not None:
                errors.append(
                    {
                        "rule_id": result.rule.rule_id,
                        "error_type": result.error.type,
                        "message": result.error.message,
                    }
                )
            elif not result.suppressed:
                alerts.append(result.alert_fields())
        lines.append({"index": i, "alerts": alerts, "errors": errors})
    return lines


def run(args: argparse.Namespace, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    out = stdout or sys.stdout.buffer
    try:
        engine = Engine.from_directory(args.rules)
    except RuleLoadError as exc:
        print(f"error: cannot load rules: {exc}", file=sys.stderr)
        return 2
    try:
        body = (stdin or sys.stdin.buffer).read() if args.input == "-" else Path(args.input).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    try:
        lines = evaluate(engine, args.log_type, body)
    except InvalidPage as exc:
        print(f"error: input is not readable records: {exc}", file=sys.stderr)
        return 1
    for line in lines:
        out.write(orjson.dumps(line) + b"\n")
    out.flush()
    return 0
