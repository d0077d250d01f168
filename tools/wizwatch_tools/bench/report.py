"""The compact tables ``make bench`` prints: the detector's figures and issue 14's goals.

Pass/fail is reported, never enforced: the command always succeeds (machines here are noisy and
shared; the figures are ratios measured in one run so they can be compared between runs).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: (label, goal text, limit) of each goal; a figure passes when it is <= its limit.
OVER_FLOOR_MAX = 3.0
US_AT_250_MAX = 30.0
WRU_PER_MATCH_MAX = 2.0
COLD_OVER_BOTO3_MAX = 2.0
PEAK_RSS_MB_MAX = 300.0


def _verdict(value: float | None, limit: float) -> str:
    if value is None:
        return "n/a"
    return "pass" if value <= limit else "FAIL"


def _goal(
    figure: str, value: float | None, shown: str, limit: float, unit: str = ""
) -> tuple[str, str, str, str]:
    """One goal row: (figure, value as shown, "<= limit", pass/FAIL/n/a)."""
    return (figure, shown, f"<= {limit:g}{unit}", _verdict(value, limit))


def goals(detector: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(figure, value, goal, pass/FAIL) rows."""
    rows: list[tuple[str, str, str, str]] = []
    for log_type, f in detector.get("per_log_type", {}).items():
        for label, figures in (("first", f["first_pass"]), ("warm", f["warm"])):
            v = figures["over_floor"]
            rows.append(_goal(f"{log_type} over floor ({label})", v, f"{v:.2f}x", OVER_FLOOR_MAX, "x"))
    scaling = detector.get("rule_scaling")
    if scaling:
        v = scaling["us_per_event_at_250_rules"]
        rows.append(_goal("us/event @250 rules, no InlineFilters", v, f"{v:.1f}", US_AT_250_MAX))
    dynamo = detector.get("dynamodb")
    if dynamo:
        v = dynamo["wru_per_match"]
        text = "n/a" if v is None else f"{v:.2f}"
        rows.append(_goal("DynamoDB WRU per matched event", v, text, WRU_PER_MATCH_MAX))
    cold = detector.get("cold_start")
    if cold:
        v = cold["over_boto3"]
        rows.append(_goal("cold start / import boto3", v, f"{v:.2f}x", COLD_OVER_BOTO3_MAX, "x"))
    rss = detector.get("peak_rss")
    if rss:
        v = rss["peak_mb"]
        rows.append(_goal(f"peak RSS, {rss['records']:,}-record page (MB)", v, f"{v:.0f}", PEAK_RSS_MB_MAX))
    return rows


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in [header, *rows]
    ]
    return "\n".join("   " + line.rstrip() for line in lines)


def detector_table(detector: dict[str, Any]) -> str:
    out = []
    rows = []
    for log_type, f in detector.get("per_log_type", {}).items():
        for label, figures in (("first", f["first_pass"]), ("warm", f["warm"])):
            rows.append(
                (
                    log_type,
                    label,
                    f"{figures['events']:,}",
                    f"{figures['events_per_s']:,}",
                    f"{figures['floor_events_per_s']:,}",
                    f"{figures['over_floor']:.2f}",
                    f"{figures['us_per_event']:.1f}",
                    str(figures["samples"]),
                )
            )
    if rows:
        header = (
            "log type",
            "pass",
            "events",
            "events/s",
            "floor ev/s",
            "x floor",
            "us/event",
            "n",
        )
        out.append(_table(header, rows))
    scaling = detector.get("rule_scaling")
    if scaling:
        parts = [
            f"{k} ({scaling[k]['rules']} rules) {scaling[k]['us_per_event']} us" for k in ("1x", "4x", "10x")
        ]
        shipped = scaling["shipped_with_inline_filters"]["us_per_event"]
        out.append(
            f"   rules (Engine.evaluate, no InlineFilters): {'; '.join(parts)}; "
            f"{scaling['us_per_event_per_rule']} us/rule/event -> {scaling['us_per_event_at_250_rules']} us "
            f"@250; shipped rules {shipped} us"
        )
    dynamo = detector.get("dynamodb")
    if dynamo:
        first, warm = dynamo["first_pass"]["corpus"], dynamo["warm"]["corpus"]
        out.append(
            "   DynamoDB per matched event: "
            f"first pass {first['wru_per_match']} WRU / {first['rru_per_match']} RRU "
            f"({first['matched_events']} matches); "
            f"warm {warm['wru_per_match']} WRU / {warm['rru_per_match']} RRU"
        )
    cold = detector.get("cold_start")
    if cold:
        out.append(
            f"   cold start: detector {cold['detector_import_cpu_s']} s CPU, import boto3 "
            f"{cold['boto3_import_cpu_s']} s -> {cold['over_boto3']}x "
            f"({cold.get('over_boto3_with_clients')}x with the clients created, "
            f"{cold.get('over_boto3_first_request')}x with the first page's set-up too; "
            f"{cold.get('bytecode') or 'bytecode not reported'})"
        )
    rss = detector.get("peak_rss")
    if rss:
        out.append(
            f"   peak RSS: {rss['peak_mb']} MB (baseline {rss['baseline_mb']} MB) "
            f"on {rss['records']:,} records"
        )
    return "\n".join(out)


def goals_table(detector: dict[str, Any]) -> str:
    return _table(("goal (issue 14)", "value", "target", "result"), goals(detector))
