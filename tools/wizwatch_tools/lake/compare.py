"""Two rules trees over the same pages: which alerts each rule gains or loses.

An alert's id is a digest of (type, rule, dedup string, window start), and in a replay the window
start is a page time, so the same rule over the same pages gives the same ids in both trees; a
rule that is new, changed or removed shows as alerts added or removed.
"""

from __future__ import annotations

from typing import Any

from wizwatch_tools.lake.replay import Tally


def diff(baseline: Tally, candidate: Tally) -> dict[str, dict[str, int]]:
    """Per rule with any difference: alerts ``added`` by the candidate tree and ``removed`` from it."""
    out: dict[str, dict[str, int]] = {}
    for rule in sorted(set(baseline.alert_ids) | set(candidate.alert_ids)):
        before = baseline.alert_ids.get(rule, set())
        after = candidate.alert_ids.get(rule, set())
        added, removed = len(after - before), len(before - after)
        if added or removed:
            out[rule] = {"added": added, "removed": removed}
    return out


def summary(baseline: Tally, candidate: Tally) -> dict[str, Any]:
    """The contract's replay JSON for the candidate tree, with the baseline's and the diff."""
    return {**candidate.summary(), "baseline": baseline.summary(), "diff": diff(baseline, candidate)}
