"""What the dedup state costs in DynamoDB, priced by AWS's documented rules (``ddb_capacity``).

Deterministic: fixed clock, seeded records, memaws's in-memory table. For pages of N matches in K
groups shaped like the three polled log types, it counts the items written, the transactions and
the write request units, and holds the store to <= 2 WRU per matched event (it was ~6 for audit,
~10 for issues and 14 for findings with one window, one marker and one mark-sent update per
match, each in a transaction, and the alert body in the window item).
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ddb_capacity import Metered
from detector_fixtures import BUCKET, audit, key_for, page_body, write_rules

from wizwatch.alerts import clock
from wizwatch.alerts.handler import assemble
from wizwatch.alerts.message import AlertSpec, build_alert
from wizwatch.alerts.notifications import ObjectRef
from wizwatch.dedup.model import RULE, AlertFacts, Group, GroupKey, Hit
from wizwatch.dedup.store import DedupStore
from wizwatch.detect.engine import Engine
from wizwatch_tools.lake.memaws import MemoryDynamoDB, MemoryS3, MemorySQS

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
TABLE = "dedup"


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> dict[str, datetime]:
    current = {"t": T0}
    monkeypatch.setattr(clock, "now", lambda: current["t"])
    return current


def _event(rnd: random.Random, log_type: str, n: int) -> dict[str, Any]:
    """A normalised-looking event of about the size of the corpus's (ids do not compress)."""
    ident = str(uuid.UUID(int=rnd.getrandbits(128)))
    base: dict[str, Any] = {
        "id": ident,
        "p_log_type": log_type,
        "p_event_time": f"2026-11-22 09:{n % 60:02d}:00.000000000",
        "p_parse_time": "2026-11-22 10:00:00.000000000",
        "p_row_id": uuid.UUID(int=rnd.getrandbits(128)).hex,
        "p_any_ip_addresses": [f"10.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(256)}"],
    }
    if log_type == "Wiz.Audit":
        base.update(
            action="DeleteUser", status="SUCCESS", user={"name": f"user{rnd.randrange(200)}@example.com"}
        )
    else:
        base.update(
            severity="CRITICAL",
            status="OPEN",
            entitySnapshot={
                "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                "externalId": f"arn:aws:ec2:us-east-1:123456789012:instance/i-{rnd.getrandbits(64):016x}",
                "name": f"web-{rnd.randrange(10_000)}",
                "cloudPlatform": "AWS",
                "region": "us-east-1",
                "tags": {"env": "prod", "team": f"team-{rnd.randrange(20)}"},
            },
            vulnerability={"name": f"CVE-2026-{rnd.randrange(100_000):05d}", "score": rnd.random() * 10},
            description="A finding description that is the same for many findings of a rule. " * 4,
        )
    return base


def _group(rule: str, dedup: str, hits: list[Hit], event: dict[str, Any], threshold: int = 1) -> Group:
    spec = AlertSpec(
        alert_type=RULE,
        rule_id=rule,
        rule_name=rule.replace(".", " "),
        title=f"[Wiz]: {rule} on {dedup}",
        severity="HIGH",
        dedup_string=dedup,
        dedup_period_minutes=60,
        threshold=threshold,
        log_types=[event["p_log_type"]],
        description="What the rule looks for, the same text in every alert of the rule. " * 3,
        runbook="1. Check who did it. 2. Check what else they did. 3. Revert if unexpected. " * 2,
        reference="https://docs.example.com/rules/" + rule,
        reports={"MITRE ATT&CK": ["TA0005:T1562.001"]},
        tags=["Wiz", "Wizwatch"],
        alert_context={"event_id": event["id"], "ip": event["p_any_ip_addresses"][0]},
        events=[event],
        source={"raw_object": "s3://raw/raw/x/page-00001.json.gz", "log_type": event["p_log_type"]},
    )

    def render(f: AlertFacts) -> dict[str, Any]:
        return build_alert(
            spec,
            alert_id=f.alert_id,
            event_count=f.event_count,
            first_event_time=f.first_event_time,
            last_event_time=f.last_event_time,
            created_at=f.created_at or "",
        )

    return Group(GroupKey(RULE, rule, dedup), 60, threshold, False, hits, render)


def _page(
    rnd: random.Random, log_type: str, matches: int, groups: int, threshold: int = 1, page: int = 0
) -> list[Group]:
    """``matches`` hits spread over ``groups`` (rule, dedup) groups."""
    out = []
    for g in range(groups):
        hits, event = [], None
        for n in range(g, matches, groups):
            event = _event(rnd, log_type, n)
            hits.append(Hit(f"{log_type}:{event['id']}", f"2026-11-22T09:{n % 60:02d}:00.000Z"))
        assert event is not None
        dedup = event["id"] if groups == matches else f"{log_type}-key-{g}"
        out.append(_group(f"{log_type}.Rule{g % 3}", dedup, hits, event, threshold))
    return out


def _process(store: DedupStore, ddb: Metered, groups: list[Group], source: str) -> dict[str, Any]:
    ddb.reset()
    out = store.record(groups, source=source)
    store.mark_sent(out.receipt)
    usage = ddb.reset()
    counted = sum(len(o.counted) for o in out.values())
    return {
        "counted": counted,
        "alerts": sum(len(o.alerts) for o in out.values()),
        "wru": usage.wru,
        "items": usage.items_written,
        "transactions": usage.transactions,
        "by_kind": dict(usage.wru_by_kind),
    }


@pytest.mark.parametrize(
    ("log_type", "matches", "groups", "threshold"),
    [
        ("Wiz.Audit", 25, 25, 1),  # Panther's audit rules: dedup = the entry id, one alert a match
        ("Wiz.Issues", 60, 60, 1),  # passthrough: one alert per issue
        ("Wiz.VulnerabilityFinding", 12, 12, 1),  # few matches, large events
        ("Wiz.Audit", 40, 8, 5),  # threshold rules: several matches per group, some alert
    ],
)
def test_a_page_costs_at_most_two_wru_per_matched_event(
    now: Any, log_type: str, matches: int, groups: int, threshold: int
) -> None:
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    rnd = random.Random(7)
    cost = _process(store, ddb, _page(rnd, log_type, matches, groups, threshold), "raw/1")
    assert cost["counted"] == matches
    assert cost["alerts"] == groups  # every group crosses its threshold on this page
    # One window item per group, the page's outbox, one receipt: no marker, no transaction.
    assert cost["transactions"] == 0
    assert cost["items"] == groups + 1 + 1
    assert cost["wru"] / matches <= 2.0, cost
    # The same page again (a redelivered notification): nothing counted, nothing written.
    again = _process(store, ddb, _page(random.Random(7), log_type, matches, groups, threshold), "raw/1")
    assert again == {"counted": 0, "alerts": 0, "wru": 0.0, "items": 0, "transactions": 0, "by_kind": {}}


@pytest.mark.parametrize(("matches", "groups", "threshold"), [(25, 25, 1), (40, 8, 5)])
def test_a_detections_page_claims_one_marker_per_match_ahead_of_its_window_without_a_transaction(
    now: Any, matches: int, groups: int, threshold: int
) -> None:
    """Wiz.Detections (CONTENT_MAY_CHANGE): a (rule, event) marker per match, so that a version of
    the detection with another dedup string counts once. Each marker is its own conditional
    PutItem written before the window (1 unit) instead of a Put in the window's transaction (2
    units, and the window's 2 more): ~4.5 WRU a match before, ~2 plus the outbox now."""
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    page = _page(random.Random(11), "Wiz.Detections", matches, groups, threshold)
    for g in page:
        g.markers = True
    cost = _process(store, ddb, page, "raw/1")
    assert cost["counted"] == matches and cost["alerts"] == groups
    assert cost["transactions"] == 0
    assert cost["items"] == groups + matches + 1 + 1  # windows, markers, outbox, receipt
    assert cost["by_kind"]["e"] == matches and cost["by_kind"]["w"] == groups  # each under 1 KB
    assert (cost["wru"] - cost["by_kind"]["o"]) / matches <= 2.0, cost
    redelivered = _page(random.Random(11), "Wiz.Detections", matches, groups, threshold)
    for g in redelivered:
        g.markers = True
    again = _process(store, ddb, redelivered, "raw/1")
    assert again["counted"] == 0 and again["wru"] == 0  # remembered by the windows: nothing written


def test_later_pages_joining_open_windows_cost_one_small_write_a_group(now: Any) -> None:
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    rnd = random.Random(3)
    first = _process(store, ddb, _page(rnd, "Wiz.Audit", 10, 5, threshold=100), "raw/1")
    assert first["alerts"] == 0 and first["items"] == 5  # below threshold: no outbox, no receipt
    for n in range(2, 6):
        now["t"] = T0 + timedelta(minutes=n)
        cost = _process(store, ddb, _page(rnd, "Wiz.Audit", 10, 5, threshold=100), f"raw/{n}")
        assert cost["counted"] == 10 and cost["items"] == 5 and cost["transactions"] == 0
        assert cost["wru"] == 5  # each window item stays under 1 KB with its remembered events


def test_a_key_with_more_events_than_fit_inline_uses_markers_in_one_transaction(now: Any) -> None:
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = DedupStore(ddb, TABLE)
    cost = _process(store, ddb, _page(random.Random(5), "Wiz.Audit", 60, 1, threshold=1000), "raw/1")
    assert cost["counted"] == 60 and cost["transactions"] == 1
    inline = 30  # 480 bytes of 16-byte entries
    assert cost["items"] == 1 + (60 - inline)  # the window and one marker per event past it
    assert cost["wru"] == 2 * cost["items"]  # in a transaction: twice the units
    assert cost["wru"] / 60 <= 2.0


def test_the_meter_prices_as_aws_documents() -> None:
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    key = {"pk": {"S": "a"}, "sk": {"S": "w"}}
    ddb.put_item(TableName=TABLE, Item={**key, "blob": {"B": b"x" * 1500}})  # 1.5 KB -> 2
    ddb.update_item(TableName=TABLE, Key=key, UpdateExpression="REMOVE blob")  # before: 1.5 KB -> 2
    ddb.put_item(TableName=TABLE, Item={**key, "n": {"N": "1"}})  # both small -> 1
    ddb.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": {**key, "n": {"N": "2"}}}}])
    ddb.batch_get_item(RequestItems={TABLE: {"Keys": [key], "ConsistentRead": True}})
    ddb.batch_get_item(RequestItems={TABLE: {"Keys": [key]}})
    assert (ddb.usage.wru, ddb.usage.rru, ddb.usage.transactions) == (2 + 2 + 1 + 2, 1.5, 1)


def test_the_detector_on_an_audit_page_stays_under_two_wru_per_match(
    now: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production path (parse, rules, dedup, alerts, queue, receipt) on the detector's fixtures."""
    engine = Engine.from_directory(
        write_rules(tmp_path / "rules", ["test_delete_user", "test_failed_logins"])
    )
    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    s3 = MemoryS3()
    queued: list[str] = []
    sqs = MemorySQS(on_message=lambda url, body: queued.append(body))
    det = assemble(
        engine,
        dynamodb=ddb,
        s3=s3,
        sqs=sqs,
        table=TABLE,
        alert_queue_url="q",
        kept_bucket=BUCKET,
        idempotency_ttl_s=14 * 86_400,
    )
    records = [audit(f"d{i}") for i in range(20)]
    records += [audit(f"f{i}", action="Login", status="FAILED", ip=f"9.9.9.{i % 2}") for i in range(12)]
    records += [audit(f"n{i}", action="Login") for i in range(50)]
    s3.serve(BUCKET, key_for(1), page_body(records))
    report = det.process(ObjectRef(BUCKET, key_for(1)))
    assert report.counted_matches == 32 and len(queued) == 20 + 2
    assert ddb.usage.transactions == 0
    assert ddb.usage.wru / report.counted_matches <= 2.0
    ddb.reset()
    again = det.process(ObjectRef(BUCKET, key_for(1)))  # redelivered
    assert again.counted_matches == 0 and len(queued) == 22
    assert ddb.usage.wru == 0


def test_signals_of_one_key_on_one_page_share_an_item() -> None:
    """Correlation signals: one item per (correlation rule, key) per page, not one per signal. An
    actor's 40 matching audit entries on one page cost a few units packed, 40 apart."""
    from wizwatch.dedup.signals import SignalStore, partition
    from wizwatch.detect.correlation import Signal

    ddb = Metered(MemoryDynamoDB({TABLE: ("pk", "sk")}))
    store = SignalStore(ddb, TABLE)
    base = T0.timestamp()
    pk, other = partition("Corr", "alice"), partition("Corr", "bob")
    info = {
        "rule_id": "Wiz.Audit.Rule",
        "title": "alice did something",
        "source": "s3://raw/raw/x/page-1.json.gz",
    }
    items = [
        (pk, Signal("A", base + i, (("actor", "alice"),), f"Wiz.Audit.Rule#e{i}", info), 3600)
        for i in range(40)
    ]
    items.append((other, Signal("A", base, (("actor", "bob"),), "Wiz.Audit.Rule#b", info), 3600))
    store.put(items, int(base))
    assert ddb.usage.items_written == 2 and ddb.usage.wru_by_kind == {"x": 2}  # 40 signals: < 1 KB packed
    store.put(items[:5], int(base))  # another page holding five of the same events
    ddb.reset()
    got = store.read(pk, since=base, now_s=int(base))
    assert [s.identity for s in got] == [f"Wiz.Audit.Rule#e{i}" for i in range(40)]  # each once, by time
    assert got[0].info == info and got[0].values == (("actor", "alice"),)
    assert ddb.usage.rru == 1  # two small items: one 4 KB read unit


def test_signals_written_one_an_item_by_earlier_versions_are_still_read() -> None:
    from wizwatch.dedup.signals import SignalStore, partition
    from wizwatch.detect.correlation import Signal

    ddb = MemoryDynamoDB({TABLE: ("pk", "sk")})
    store = SignalStore(ddb, TABLE)
    pk, base = partition("Corr", "alice"), int(T0.timestamp())
    old = {
        "pk": {"S": pk},
        "sk": {"S": f"A#{base * 1000:013d}#R#e0"},
        "member": {"S": "A"},
        "t": {"N": str(base * 1000)},
        "identity": {"S": "R#e0"},
        "values": {"B": b'[["actor","alice"]]'},
        "info": {"B": b'{"rule_id":"R"}'},
        "expires_at": {"N": str(base + 3600)},
    }
    ddb.put_item(TableName=TABLE, Item=old)
    new = Signal("B", base + 60.0, (("actor", "alice"),), "R#e1", {"rule_id": "R"})
    store.put([(pk, new, 3600)], base)
    got = store.read(pk, since=base, now_s=base)
    assert got == [Signal("A", float(base), (("actor", "alice"),), "R#e0", {"rule_id": "R"}), new]
