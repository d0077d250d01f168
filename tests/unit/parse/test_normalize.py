"""Validation + p_ fields; the audit fast path must agree with the pydantic reference path."""

from __future__ import annotations

import copy
import importlib.util
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wizwatch.errors import InvalidRecord
from wizwatch.parse import normalize as N
from wizwatch.parse.indicators import Indicators
from wizwatch.parse.normalize import Normalizer, indicators

SHARED = Path(__file__).resolve().parents[4] / "shared"
SAMPLES = SHARED / "samples" / "wiz"
CONFORMANCE = SHARED / "conformance" / "panther-wiz"

SAMPLE_TYPES = {
    "audit": "Wiz.Audit",
    "issue": "Wiz.Issues",
    "vulnerability": "Wiz.VulnerabilityFinding",
    "webhook": "Wiz.IssuesWebhook",
}


def _samples() -> list[tuple[str, Path]]:
    out = []
    for folder, log_type in SAMPLE_TYPES.items():
        for p in sorted((SAMPLES / folder).glob("*.json")):
            if not p.name.startswith("PARTIAL"):
                out.append((log_type, p))
    return out


@pytest.mark.parametrize(("log_type", "path"), _samples(), ids=lambda v: getattr(v, "name", v))
def test_every_real_sample_is_valid_and_keeps_its_keys(log_type: str, path: Path) -> None:
    record = json.loads(path.read_text())
    event = Normalizer(log_type).normalize(record, parse_time="2026-01-01 00:00:00.000000000")
    added = set(event) - set(record)
    assert all(k.startswith("p_") for k in added), added  # nothing invented outside p_ fields
    own = {k: v for k, v in record.items() if not k.startswith("p_")}  # p_ fields are ours to set
    assert {k: event[k] for k in own} == own
    assert event["p_log_type"] == log_type
    assert len(event["p_row_id"]) == 30
    assert event["p_parse_time"] == "2026-01-01 00:00:00.000000000"
    assert len(event["p_event_time"]) == len("2024-06-27 09:19:08.731355000")


def test_conformance_logs_of_every_type_are_valid() -> None:
    for path in CONFORMANCE.glob("Wiz.*.json"):
        for case in json.loads(path.read_text()):
            log_type = {
                "Wiz.Alert.Passthrough": "Wiz.Issues",
                "Wiz.Issue.Alert.Passthrough": "Wiz.IssuesWebhook",
                "Wiz.Defend.Alert.Passthrough": "Wiz.Detections",
            }.get(path.stem, "Wiz.Audit")
            Normalizer(log_type).normalize(case["log"])


def test_audit_indicators_and_event_time() -> None:
    record = json.loads((SAMPLES / "audit" / "panther_analysis_CreateUser_user_actor.json").read_text())
    event = Normalizer("Wiz.Audit").normalize(record)
    assert event["p_any_ip_addresses"] == ["8.8.8.8"]
    assert event["p_any_actor_ids"] == ["someuser@company.com"]
    assert event["p_any_usernames"] == ["someuser@company.com"]
    assert event["p_any_emails"] == ["someuser@company.com"]
    assert event["p_event_time"] == "2024-07-29 09:40:15.666430000"


def test_lower_cased_keys_are_accepted_and_indicators_still_found() -> None:
    path = SAMPLES / "audit" / "panther_analysis_DeleteCloudConfigurationRule_lowercase_keys.json"
    event = Normalizer("Wiz.Audit").normalize(json.loads(path.read_text()))
    assert event["p_any_ip_addresses"] == ["8.8.8.8"]
    assert event["p_event_time"] == "2024-03-24 10:58:31.347000000"


def test_vulnerability_and_detection_indicators() -> None:
    vuln = json.loads(
        (SAMPLES / "vulnerability" / "elastic_integrations_test-vulnerability.json").read_text()
    )
    ind = indicators("Wiz.VulnerabilityFinding", vuln)
    assert ind["p_any_ip_addresses"] == ["89.160.20.112", "89.160.20.128"]
    assert "us-east-1.console.aws.amazon.com" in ind["p_any_domain_names"]
    assert "app.wiz.io" in ind["p_any_domain_names"]
    det = json.loads((CONFORMANCE / "Wiz.Defend.Alert.Passthrough.json").read_text())[0]["log"]
    d = indicators("Wiz.Detections", det)
    # The same indicator values Panther's own parser stored on this event.
    assert d["p_any_ip_addresses"] == det["p_any_ip_addresses"]
    assert d["p_any_actor_ids"] == det["p_any_actor_ids"]
    assert sorted(d["p_any_domain_names"]) == sorted(det["p_any_domain_names"])


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (["not", "a", "dict"], "expected an object"),
        ({"id": "x", "action": "Login", "status": "SUCCESS"}, "timestamp: Field required"),
        ({"id": "x", "action": "Login", "status": "SUCCESS", "timestamp": "soon"}, "timestamp"),
        ({"id": 5, "action": "Login", "status": "SUCCESS", "timestamp": "2024-01-01T00:00:00Z"}, "id"),
        (
            {"id": "x", "action": "Login", "status": "S", "timestamp": "2024-01-01T00:00:00Z", "user": "bob"},
            "user",
        ),
    ],
)
def test_invalid_records_raise_with_a_reason(record: Any, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        Normalizer("Wiz.Audit").normalize(record)


AUDIT = {"id": "a", "action": "Login", "status": "SUCCESS", "timestamp": "2024-01-01T00:00:00Z"}
ISSUE = {"id": "i", "createdAt": "2024-01-01T00:00:00Z", "status": "OPEN", "severity": "HIGH"}


def _without(record: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != key}


@pytest.mark.parametrize(
    ("log_type", "record", "missing"),
    [
        ("Wiz.Audit", AUDIT, ["id", "action", "timestamp"]),
        ("Wiz.Issues", ISSUE, ["id", "createdAt"]),
        ("Wiz.VulnerabilityFinding", {"id": "v", "status": "OPEN", "severity": "LOW"}, ["id"]),
    ],
)
def test_required_fields_are_exactly_panthers(
    log_type: str, record: dict[str, Any], missing: list[str]
) -> None:
    norm = Normalizer(log_type)
    for key in record:
        if key in missing:
            with pytest.raises(InvalidRecord, match=f"{key}: Field required"):
                norm.normalize(_without(record, key))
            with pytest.raises(InvalidRecord, match=key):
                norm.normalize({**record, key: None})
        else:  # optional in Panther's schema: absent or null, the record is evaluated
            assert norm.normalize(_without(record, key))["p_log_type"] == log_type
            assert norm.normalize({**record, key: None})["p_log_type"] == log_type


def test_panthers_passthrough_fires_on_an_open_issue_without_severity() -> None:
    from wizwatch.detect.engine import Engine

    engine = Engine.from_directory(Path(__file__).resolve().parents[3] / "functions" / "detector" / "rules")
    event = Normalizer("Wiz.Issues").normalize(_without(ISSUE, "severity"))
    fired = {r.rule.rule_id: r for r in engine.evaluate("Wiz.Issues", event) if r.matched}
    assert "Wiz.Alert.Passthrough" in fired
    assert fired["Wiz.Alert.Passthrough"].severity == "MEDIUM"  # severity() gave None: the YAML's
    # An audit entry without status is evaluated, and the SUCCESS-only audit rules stay quiet.
    event = Normalizer("Wiz.Audit").normalize({**_without(AUDIT, "status"), "action": "DeleteUser"})
    assert not [r for r in engine.evaluate("Wiz.Audit", event) if r.matched]


WEBHOOK = json.loads((SAMPLES / "webhook" / "panther_analysis_Wiz.IssuesWebhook_open.json").read_text())


@pytest.mark.parametrize(
    "change",
    [
        {"issue": {**WEBHOOK["issue"], "status": "Resolved"}},
        {"issue": {**WEBHOOK["issue"], "status": "open", "severity": "High"}},
        {"trigger": {**WEBHOOK["trigger"], "type": "Resolved"}},
        {"issue": {**WEBHOOK["issue"], "projects": ""}},
        {"issue": {**WEBHOOK["issue"], "projects": ["Project 1", "Project 2"]}},
        {"issue": {**WEBHOOK["issue"], "projects": [{"id": "p1", "name": "Project 1"}]}},
        {"issue": {**WEBHOOK["issue"], "created": "2025-07-25T13:09:25.306109Z"}},
        {"issue": {**WEBHOOK["issue"], "created": "{{issue.createdAt}}"}},
        {"issue": {"id": "only-an-id"}},
        {"trigger": None, "control": None, "resource": None},
        {"control": {**WEBHOOK["control"], "risks": ["EXTERNAL_EXPOSURE"]}},
        {"resource": ""},
        {"extra": {"operator": "added this"}},
    ],
)
def test_every_issues_webhook_shape_is_accepted(change: dict[str, Any]) -> None:
    record = {k: v for k, v in {**WEBHOOK, **change}.items() if not k.startswith("p_")}
    event = Normalizer("Wiz.IssuesWebhook").normalize(record, parse_time="2026-01-01 00:00:00.000000000")
    assert event["issue"] == record["issue"]
    if change.get("issue", {}).get("created") == "{{issue.createdAt}}":
        assert event["p_event_time"] == "2026-01-01 00:00:00.000000000"


def test_an_issues_webhook_without_an_issue_id_is_invalid() -> None:
    with pytest.raises(InvalidRecord, match="issue"):
        Normalizer("Wiz.IssuesWebhook").normalize(
            {"trigger": WEBHOOK["trigger"], "issue": {"status": "OPEN"}}
        )


def test_event_time_falls_back_to_parse_time() -> None:
    event = Normalizer("Wiz.VulnerabilityFinding").normalize({"id": "v"}, parse_time="P")
    assert event["p_event_time"] == "P"
    # A webhook body is an editable template: a created that is no timestamp is not an error.
    hook = {"issue": {"id": "i", "created": "yesterday"}}
    assert Normalizer("Wiz.IssuesWebhook").normalize(hook, parse_time="P")["p_event_time"] == "P"


# --- fast path == reference path ------------------------------------------------------------


def _corpus_nodes(n: int) -> list[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("make_corpus", SHARED / "bench" / "make_corpus.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rnd = random.Random(7)
    t = datetime(2026, 11, 1, tzinfo=UTC)
    return [mod.audit_node(rnd, t) for _ in range(n)]


def _mutations(record: dict[str, Any], rnd: random.Random) -> list[dict[str, Any]]:
    out = []
    for key, value in [
        ("id", 7),
        ("status", None),
        ("status", 5),
        ("action", None),
        ("timestamp", "2026-02-30T00:00:00Z"),
        ("timestamp", "2026-11-01T00:00:00+01:00"),
        ("timestamp", "2026-11-01 00:00:00.123"),
        ("sourceIP", "::1"),
        ("sourceIP", "01.2.3.4"),
        ("sourceIP", "not-an-ip"),
        ("sourceIP", 5),
        ("user", {"id": 3, "name": "x"}),
        ("user", {"id": "bob@example.com", "name": "Bob Smith"}),
        ("user", "bob"),
        ("serviceAccount", {"id": "sa", "name": None}),
        ("userAgent", ["x"]),
        ("requestId", None),
    ]:
        m = copy.deepcopy(record)
        m[key] = value
        out.append(m)
    m = copy.deepcopy(record)
    m.pop(rnd.choice(sorted(m)))
    out.append(m)
    return out


def _reference(record: Any) -> dict[str, Any] | str:
    norm = Normalizer("Wiz.Audit")
    try:
        norm.validate(record)
    except InvalidRecord as exc:
        return "invalid: " + exc.reason
    event = dict(record)
    event.update(indicators("Wiz.Audit", record))
    event["p_event_time"] = norm.event_time(record)
    return event


def test_fast_audit_path_agrees_with_pydantic_reference() -> None:
    rnd = random.Random(1)
    records: list[dict[str, Any]] = []
    for node in _corpus_nodes(300):
        records.append(node)
        records.extend(_mutations(node, rnd) if rnd.random() < 0.2 else [])
    fast_hits = 0
    for record in records:
        fast = N._fast_audit(copy.deepcopy(record), True)
        ref = _reference(copy.deepcopy(record))
        if fast is not None:
            fast_hits += 1
            assert fast == ref, record
        # The public path gives the reference answer either way.
        try:
            event = Normalizer("Wiz.Audit").normalize(copy.deepcopy(record), parse_time="P")
        except InvalidRecord as exc:
            assert ref == "invalid: " + exc.reason
        else:
            assert isinstance(ref, dict)
            for k, v in ref.items():
                assert event[k] == v
    assert fast_hits >= 300  # the API shape really takes the fast path


def test_normalize_page_matches_normalize() -> None:
    nodes = [*_corpus_nodes(50), {"id": 1}, "x"]
    norm = Normalizer("Wiz.Audit")
    events, invalid = norm.normalize_page(copy.deepcopy(nodes), "P")
    assert sorted(invalid) == [50, 51]
    for i, node in enumerate(nodes[:50]):
        single = norm.normalize(copy.deepcopy(node), "P")
        page_event = events[i]
        assert page_event is not None
        assert {k: v for k, v in page_event.items() if k != "p_row_id"} == {
            k: v for k, v in single.items() if k != "p_row_id"
        }
    ids = [e["p_row_id"] for e in events if e]
    assert len(set(ids)) == len(ids)


def test_normalize_page_fast_loop_agrees_with_normalize_on_odd_records() -> None:
    """The page loop's inlined API shape must give normalize()'s event, key order included."""
    rnd = random.Random(11)
    nodes: list[Any] = []
    for node in _corpus_nodes(120):
        nodes.append(node)
        nodes.extend(_mutations(node, rnd))
    both = copy.deepcopy(nodes[0])
    both["serviceAccount"] = {"id": "sa-1", "name": "sa@example.com"}
    nodes += [both, {**copy.deepcopy(nodes[0]), "user": None, "serviceAccount": None}]
    nodes.append({**copy.deepcopy(nodes[0]), "timestamp": "2028-02-29T23:59:60.123456789Z"})
    nodes.append({**copy.deepcopy(nodes[0]), "timestamp": "2027-02-29T00:00:00Z"})
    # Same minute as a good timestamp first (the page loop remembers good minutes), then odd tails.
    for ts in (
        "2026-11-01T07:08:00Z",
        "2026-11-01T07:08:59.5Z",
        "2026-11-01T07:08:60Z",
        "2026-11-01T07:08:61Z",
        "2026-11-01T07:08:5\u0663Z",
        "2026-11-01T07:08:01.\u0663\u0663Z",
        "2026-11-01T07:08:01.Z",
        "2026-11-01T07:08:01.1234567890Z",
        "2026-11-01T07:08:01.123456789Z",
        "2026-11-01T07:08Z",
        "2026-11-01T07:08:01z",
        "2026-11-01T07:08:01.5+00:00",
    ):
        nodes.append({**copy.deepcopy(nodes[0]), "timestamp": ts})
    norm = Normalizer("Wiz.Audit")
    events, invalid = norm.normalize_page(copy.deepcopy(nodes), "P")
    for i, node in enumerate(nodes):
        try:
            single = norm.normalize(copy.deepcopy(node), "P")
        except InvalidRecord as exc:
            assert invalid[i] == exc.reason
            assert events[i] is None
            continue
        page_event = events[i]
        assert page_event is not None and i not in invalid
        assert [(k, v) for k, v in page_event.items() if k != "p_row_id"] == [
            (k, v) for k, v in single.items() if k != "p_row_id"
        ]
        assert list(page_event)[-1] == "p_row_id"


def test_the_audit_page_loop_shares_the_minutes_other_types_taught() -> None:
    """Minutes are remembered by parse.plan.panther_time for every type; the audit page loop
    reads the same memory and must still give normalize()'s event (or its reason)."""
    from wizwatch.parse.plan import panther_time

    base = _corpus_nodes(1)[0]
    stamps = ["2031-05-06T07:08:09.5Z", "2031-0\u0661-06T07:08:09Z", "2031-05-06 07:09:00Z"]
    for ts in stamps:
        panther_time(ts)  # as an issue's or a finding's time would
    nodes = [{**copy.deepcopy(base), "timestamp": ts} for ts in [*stamps, "2031-05-06T07:08:59.25Z"]]
    norm = Normalizer("Wiz.Audit")
    events, invalid = norm.normalize_page(copy.deepcopy(nodes), "P")
    for i, node in enumerate(nodes):
        try:
            single = norm.normalize(copy.deepcopy(node), "P")
        except InvalidRecord as exc:
            assert invalid[i] == exc.reason
            continue
        page_event = events[i]
        assert page_event is not None
        assert [(k, v) for k, v in page_event.items() if k != "p_row_id"] == [
            (k, v) for k, v in single.items() if k != "p_row_id"
        ]
    assert events[3] is not None and events[3]["p_event_time"] == "2031-05-06 07:08:59.250000000"


@pytest.mark.parametrize("start", [1, 4090, 4095, 4096, 0xFFFFF, 123_456_789])
@pytest.mark.parametrize("n", [0, 1, 7, 500, 9000])
def test_row_ids_are_the_counter_in_hex_across_block_boundaries(
    start: int, n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(N, "_ROW_NEXT", [start])
    assert N._reserve_row_ids(n) == [f"{N._ROW_PREFIX}{i:016x}" for i in range(start, start + n)]
    assert N._ROW_NEXT[0] == start + n


def test_anything_a_record_trips_over_is_an_invalid_record(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(record: dict[str, Any]) -> dict[str, list[str]]:
        if record.get("id") == "odd":
            raise RecursionError("maximum recursion depth exceeded")
        return {}

    # Both paths: the compiled plan's (plain records) and pydantic's (a case variant of a field).
    monkeypatch.setattr(N, "indicators", lambda log_type, record: explode(record))
    monkeypatch.setattr(Indicators, "__call__", lambda self, record, clean: explode(record))
    norm = Normalizer("Wiz.VulnerabilityFinding")
    records: list[Any] = [{"id": "a"}, {"id": "odd"}, {"id": "b"}, {"id": "odd", "NAME": "x"}]
    before = copy.deepcopy(records)
    events, invalid = norm.normalize_page(records, "P")
    reason = "normalisation failed: RecursionError: maximum recursion depth exceeded"
    assert invalid == {1: reason, 3: reason}
    assert [e and e["id"] for e in events] == ["a", None, "b", None]
    assert records[1] == before[1] and records[3] == before[3]  # failed records are left as they came
