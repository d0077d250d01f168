"""``wizwatch eval --log-type T [FILE|-]``: normalisation + every enabled rule for T, in production
mode, over raw Wiz records; one JSON line per record (contract format), or with ``--matches-only``
only the records that alerted, failed a rule or were invalid. A summary line goes to stderr (so
stdout stays JSON lines), and so do rules that failed to load: the others still run, as in the
detector.

Records are read like the detector reads them (``wizwatch.parse.pages``): a record that is not
JSON, or fails its schema or normalisation in any way, gets ``"invalid": "<reason>"`` on its own
line and every other record is evaluated; a record evaluated after a repair (lone surrogate,
invalid UTF-8, extreme nesting) lists it in ``"repairs"``. An output line that cannot be written
as JSON as it is (a rule's text with a lone surrogate...) is written cleaned.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, BinaryIO

from wizwatch.detect.engine import Engine
from wizwatch.errors import InvalidPage, InvalidRecord, RuleLoadError
from wizwatch.logtypes import ALL_LOG_TYPES
from wizwatch.parse.normalize import Normalizer
from wizwatch.parse.pages import Page, UnreadableRecord, read_records
from wizwatch.parse.records import REPAIRS_FIELD
from wizwatch.parse.timestamps import now_panther
from wizwatch.render import RenderError, clean, dumps

from .paths import default_rules_dir


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
        "--rules",
        type=Path,
        default=None,
        help="rule folder (default: the bundled rules, from any directory)",
    )
    parser.add_argument(
        "--matches-only",
        action="store_true",
        help="print only records with alerts, rule errors or an invalid reason",
    )


def evaluate(engine: Engine, log_type: str, body: bytes) -> list[dict[str, Any]]:
    """The output lines for a body of records."""
    return evaluate_page(engine, log_type, read_records(body))


def evaluate_page(engine: Engine, log_type: str, page: Page) -> list[dict[str, Any]]:
    """The output lines for the records read from a body."""
    normalizer = Normalizer(log_type)
    parse_time = now_panther()
    lines: list[dict[str, Any]] = []
    for i, record in enumerate(page.records):
        try:
            event = normalizer.normalize(record, parse_time)
        except InvalidRecord as exc:
            lines.append({"index": i, "invalid": exc.reason})
            continue
        except Exception as exc:  # one record's failure is reported on its own line
            lines.append({"index": i, "invalid": f"normalisation failed: {type(exc).__name__}: {exc}"})
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
        line: dict[str, Any] = {"index": i, "alerts": alerts, "errors": errors}
        if REPAIRS_FIELD in event:
            line["repairs"] = event[REPAIRS_FIELD]
        lines.append(line)
    return lines


def _json_line(line: dict[str, Any]) -> bytes:
    try:
        return dumps(line)
    except RenderError:
        return dumps(clean(line)[0])


def summary(lines: list[dict[str, Any]]) -> str:
    alerts = sum(len(line.get("alerts", [])) for line in lines)
    errors = sum(len(line.get("errors", [])) for line in lines)
    matched = sum(1 for line in lines if line.get("alerts"))
    invalid = sum(1 for line in lines if "invalid" in line)
    return (
        f"{len(lines)} records: {matched} matched ({alerts} alerts), {errors} rule errors, {invalid} invalid"
    )


def _interesting(line: dict[str, Any]) -> bool:
    return bool(line.get("alerts") or line.get("errors") or "invalid" in line)


def run(args: argparse.Namespace, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    out = stdout or sys.stdout.buffer
    try:
        engine = Engine.from_directory(args.rules or default_rules_dir())
    except RuleLoadError as exc:
        print(f"error: cannot load rules: {exc}", file=sys.stderr)
        return 2
    for err in engine.ruleset.errors:
        print(f"warning: rule not loaded: {err}", file=sys.stderr)
    try:
        body = (stdin or sys.stdin.buffer).read() if args.input == "-" else Path(args.input).read_bytes()
    except OSError as exc:
        print(f"error: cannot read {args.input}: {exc}", file=sys.stderr)
        return 2
    try:
        page = read_records(body)
    except InvalidPage as exc:
        print(f"error: input is not readable records: {exc}", file=sys.stderr)
        return 1
    lines = evaluate_page(engine, args.log_type, page)
    for line in lines:
        if args.matches_only and not _interesting(line):
            continue
        out.write(_json_line(line) + b"\n")
    out.flush()
    print(summary(lines), file=sys.stderr)
    if page.records and all(isinstance(r, UnreadableRecord) for r in page.records):
        print("error: input is not readable records: no record in it is JSON", file=sys.stderr)
        return 1
    return 0
