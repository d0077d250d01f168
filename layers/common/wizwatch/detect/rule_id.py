"""The shape of a rule id: the rule loader refuses any other, the notifier checks alerts against it.

Panther's own tool accepts exactly the ids matching ``NAME_ID_VALIDATION_REGEX = ^[^<>&"%]+$``
(panther_analysis_tool's schemas); control characters are refused as well (the id becomes an SNS
message attribute value, which refuses most of them), and at most 512 characters. A rule whose
id the notifier would refuse therefore never loads, instead of sending every alert to the DLQ.
"""

from __future__ import annotations

import re

RULE_ID_PATTERN = r'^[^<>&"%\x00-\x1f\x7f]{1,512}$'
_RULE_ID = re.compile(RULE_ID_PATTERN)


def rule_id_problem(rule_id: str) -> str | None:
    """Why ``rule_id`` is not a valid rule id, or None."""
    if _RULE_ID.match(rule_id):
        return None
    if len(rule_id) > 512:
        return "at most 512 characters"
    return "no <, >, &, \", % or control characters (Panther's rule id rule)"
