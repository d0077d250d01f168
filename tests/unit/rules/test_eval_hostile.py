"""``wizwatch eval`` survives every hostile input and reports it on that record's line alone."""

from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest
from hostile_records import HOSTILE_AUDIT, audit_json, graphql_page

from wizwatch_tools.rules_cli import eval_cmd


def _eval(stdin: bytes) -> tuple[int, list[dict[str, Any]]]:
    parser = argparse.ArgumentParser()
    eval_cmd.configure(parser)
    out = io.BytesIO()
    code = eval_cmd.run(parser.parse_args(["--log-type", "Wiz.Audit"]), stdin=io.BytesIO(stdin), stdout=out)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def good(id_: str) -> bytes:
    return audit_json(id_, action="CreateUser")  # Panther's Wiz.User.Created.Or.Deleted fires


@pytest.mark.parametrize("case", sorted(HOSTILE_AUDIT))
@pytest.mark.parametrize("shape", ["graphql page", "json array", "json lines", "single body"])
def test_eval_reports_just_the_hostile_record(case: str, shape: str) -> None:
    _, raw, outcome = HOSTILE_AUDIT[case]
    nodes = [good("g1"), raw, good("g2")]
    body = {
        "graphql page": graphql_page(nodes),
        "json array": b"[" + b",".join(nodes) + b"]",
        "json lines": b"\n".join(nodes),
        "single body": raw,
    }[shape]
    code, lines = _eval(body)
    hostile = lines[0] if shape == "single body" else lines[1]
    assert code == (1 if shape == "single body" and outcome == "unreadable" else 0)
    if shape != "single body":
        assert [line["index"] for line in lines] == [0, 1, 2]
        for line in (lines[0], lines[2]):
            assert [a["rule_id"] for a in line["alerts"]] == ["Wiz.User.Created.Or.Deleted"]
            assert "invalid" not in line and "repairs" not in line
    if outcome == "unreadable":
        assert set(hostile) == {"index", "invalid"} and "not JSON" in hostile["invalid"]
    else:
        assert "invalid" not in hostile and hostile["errors"] == []
        assert bool(hostile.get("repairs")) == (outcome == "repaired")
