"""The Defend helpers derive each value once per read-only event, and never for a plain dict."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from wizwatch.detect.event import PantherEvent
from wizwatch.detect.loader import add_helper_paths

RULES = Path(__file__).resolve().parents[3] / "functions" / "detector" / "rules"

DETECTION: dict[str, Any] = {
    "id": "det-1",
    "threatId": "thr-1",
    "title": "Credential theft",
    "severity": "HIGH",
    "mitreTactics": ["TA0006 Credential Access"],
    "primaryResource": {"id": "r-1", "name": "prod-db", "type": "VIRTUAL_MACHINE"},
    "resources": [{"id": "r-1", "name": "prod-db", "cloudAccount": {"name": "payments-prd"}}],
    "triggeringEvents": {
        "nodes": [{"id": "te-1", "actorIP": "203.0.113.9", "commandLine": "cat /etc/shadow"}]
    },
}

DERIVED = (
    "tactics",
    "triggering_events",
    "primary_resource",
    "resource_label",
    "detection_title",
    "detection_severity",
    "production_evidence",
    "actor_ips",
    "detection_context",
)


def helpers() -> ModuleType:
    add_helper_paths(RULES)
    return importlib.import_module("wizwatch_defend_helpers")


def plain(value: Any) -> Any:
    return PantherEvent({"v": value}).to_dict()["v"] if value is not None else None


def test_memoised_answers_equal_fresh_ones_and_lists_are_new_each_call() -> None:
    h = helpers()
    event = PantherEvent(copy.deepcopy(DETECTION))
    for name in DERIVED:
        fn = getattr(h, name)
        first = fn(event)
        # the same answer as computed on a plain dict (never memoised)
        assert plain(first) == plain(fn(copy.deepcopy(DETECTION))), name
        if isinstance(first, list | dict):
            first.clear()  # a caller mutating its copy does not change the next answer
            assert fn(event), name
    assert h.tactics(event) == ["TA0006"]
    ctx = h.detection_context(event)
    ctx["mitre_tactics"].append("changed")
    assert h.detection_context(event)["mitre_tactics"] == ["TA0006 Credential Access"]


def test_a_plain_dict_is_read_afresh_on_every_call() -> None:
    h = helpers()
    event = copy.deepcopy(DETECTION)
    assert h.tactics(event) == ["TA0006"]
    event["mitreTactics"] = ["TA0040 Impact"]
    assert h.tactics(event) == ["TA0040"]
    assert h.production_evidence(event)
    event["primaryResource"]["name"] = "staging-db"
    event["resources"] = []
    assert h.production_evidence(event) == []


def test_each_event_gets_its_own_values() -> None:
    h = helpers()
    one = PantherEvent(copy.deepcopy(DETECTION))
    other = copy.deepcopy(DETECTION)
    other["mitreTactics"] = ["TA0040"]
    two = PantherEvent(other)
    assert h.tactics(one) == ["TA0006"]
    assert h.tactics(two) == ["TA0040"]
    assert h.tactics(one) == ["TA0006"]
