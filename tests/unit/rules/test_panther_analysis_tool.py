"""Both ways with Panther's own tool: ``panther_analysis_tool test`` (pinned in ``.pat-venv`` by
``make pat``) passes on the rule tree as shipped — Panther's rules in upstream's form, ours, the
global helpers (panther_base_helpers included), with the Wizwatch-only files (SOURCE.yml,
.wizwatch.yml sidecars, overrides) beside them. Skipped, saying how to enable it, without the venv."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from wizwatch.detect.loader import load_tree

ROOT = Path(__file__).resolve().parents[3]
PAT = ROOT / ".pat-venv" / "bin" / "panther_analysis_tool"
RULES = ROOT / "functions" / "detector" / "rules"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not PAT.exists(), reason="Panther's tool is not installed: run `make pat` (.pat-venv)"
    ),
]


def test_panther_analysis_tool_passes_every_rule_of_the_tree() -> None:
    proc = subprocess.run(
        [str(PAT), "test", "--path", "rules", "--minimum-tests", "2"],
        cwd=RULES.parent,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    counts = dict(re.findall(r"\t(Passed|Failed|Invalid): (\d+)", out))
    found = load_tree(RULES)
    # PAT cannot run correlation rules offline: it validates them and reports them skipped.
    assert counts == {"Passed": str(len(found.rules)), "Failed": "0", "Invalid": "0"}, out[-2000:]
    assert f"Skipped: {len(found.correlations)}" in out
