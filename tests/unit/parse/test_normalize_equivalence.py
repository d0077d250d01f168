"""The compiled normalisation path gives exactly the previous implementation's output.

``reference_normalize.py`` is a verbatim copy of ``wizwatch/parse/normalize.py`` before the
per-type plans were compiled (issue 14): the pydantic-introspection path for every log type but
Wiz.Audit. For every record of a generated corpus of every log type, of hostile pages read with
repairs, and of deterministic random mutations of them (fields dropped, wrong types, nulls,
unicode, case variants of keys, deep nesting, extra fields, lists where objects are expected and
the reverse, odd timestamps), both implementations must give the same event (row id aside,
key order included) or the same error, one record at a time and a page at a time.
"""

from __future__ import annotations

import copy
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import reference_normalize as R
from hostile_records import HOSTILE_AUDIT, graphql_page

from wizwatch import logtypes
from wizwatch.errors import InvalidRecord
from wizwatch.parse.identity import event_identity
from wizwatch.parse.normalize import Normalizer
from wizwatch.parse.pages import read_page
from wizwatch_tools.simulator import defend
from wizwatch_tools.simulator.datagen import actors, audit, configuration, issues, vulnerabilities

MAKE_CORPUS = Path(__file__).resolve().parents[4] / "shared" / "bench" / "make_corpus.py"
PT = "2026-11-22 00:00:00.000000000"
PAGES = ["--audit-pages", "1", "--issue-pages", "1", "--vuln-pages", "1"]
T0 = datetime(2026, 11, 22, tzinfo=UTC)
LOG_TYPES = list(logtypes.ALL_LOG_TYPES)


def _simulated(n: int) -> dict[str, list[Any]]:
    rng = random.Random(14)
    at = [T0 + timedelta(seconds=i * 37) for i in range(n)]
    tenant = actors.Actors(rng)
    return {
        logtypes.AUDIT: [audit.audit_entry(rng, tenant, t) for t in at],
        logtypes.ISSUES: [issues.issue(rng, t, rng.choice(["OPEN", "RESOLVED"])) for t in at],
        logtypes.VULNERABILITY_FINDING: [vulnerabilities.finding(rng, t) for t in at],
        logtypes.CLOUD_CONFIGURATION_FINDING: [configuration.configuration_finding(rng, t) for t in at],
        logtypes.DETECTIONS: [  # polled, then pushed (the webhook's shape)
            {k: v for k, v in defend.detection(rng, t).items() if not k.startswith("_")} for t in at
        ]
        + [defend.detection_webhook(defend.detection(rng, t), rule_id="r2") for t in at[: n // 3]],
        logtypes.ISSUES_WEBHOOK: [defend.issue_webhook(issues.issue(rng, t), rule_id="r1") for t in at],
    }


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    """The simulator's records of every type, plus the benchmark corpus where its script is."""
    out = _simulated(150)
    if MAKE_CORPUS.exists():
        where = tmp_path_factory.mktemp("corpus")
        subprocess.run(
            [sys.executable, str(MAKE_CORPUS), "--out", str(where), *PAGES],
            check=True,
            capture_output=True,
        )
        for type_dir in sorted(p for p in where.iterdir() if p.is_dir()):
            for page in sorted(type_dir.glob("page-*.json.gz")):
                out[type_dir.name] += read_page(page.read_bytes()).records
    hostile = graphql_page([raw for _, raw, _ in HOSTILE_AUDIT.values()])
    out[logtypes.AUDIT] += read_page(hostile).records  # repaired (p_parse_repairs) and unreadable
    return out


def _copy(record: Any) -> Any:
    """Normalisation replaces top-level keys only (a changed nested object is a new one)."""
    return dict(record) if isinstance(record, dict) else record


@pytest.fixture(autouse=True)
def _deep_copies_of_deep_records() -> Iterator[None]:
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 12_000))  # copy.deepcopy of the 1,100-level hostile record
    yield
    sys.setrecursionlimit(limit)


def _outcome(normalizer: Any, record: Any) -> tuple[str, Any]:
    try:
        event = normalizer.normalize(_copy(record), PT)
    except Exception as exc:  # both must fail the same way
        return (type(exc).__name__, exc.reason if isinstance(exc, InvalidRecord) else str(exc))
    event.pop("p_row_id")
    return ("event", list(event.items()))


def _assert_same(log_type: str, records: list[Any]) -> dict[str, int]:
    new, old = Normalizer(log_type), R.Normalizer(log_type)
    seen = {"event": 0, "InvalidRecord": 0}
    for i, record in enumerate(records):
        got, want = _outcome(new, record), _outcome(old, record)
        assert got == want, (log_type, i, record)
        seen[got[0]] = seen.get(got[0], 0) + 1
    events, invalid = new.normalize_page([_copy(r) for r in records], PT)
    old_events, old_invalid = old.normalize_page([_copy(r) for r in records], PT)
    assert invalid == old_invalid
    for e, o in zip(events, old_events, strict=True):
        assert (e is None) == (o is None)
        if e is not None and o is not None:
            assert [kv for kv in e.items() if kv[0] != "p_row_id"] == [
                kv for kv in o.items() if kv[0] != "p_row_id"
            ]
    return seen


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_corpus_normalises_exactly_as_before(log_type: str, corpus: dict[str, list[Any]]) -> None:
    seen = _assert_same(log_type, corpus[log_type])
    assert seen["event"] >= 100  # the corpus really is valid records of this type


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_the_compiled_plan_decides_every_valid_corpus_record(
    log_type: str, corpus: dict[str, list[Any]]
) -> None:
    """Speed without a timed test: the corpus's valid records never need pydantic."""
    new = Normalizer(log_type)
    valid = [r for r in corpus[log_type] if isinstance(r, dict) and "p_parse_repairs" not in r]
    assert valid and all(new._plan.accepts(r) is not None for r in valid)


# --- mutations ----------------------------------------------------------------------------------

# fmt: off
ODD_VALUES: list[Any] = [
    None, 0, 1, -1, 1.5, 10**30, True, False, "", "x", "1", "1.5", "true", "yes", "0", [], {}, [1],
    ["a", None], [{}], {"a": 1}, "\u0663", "\ud800", "caf\u00e9", "\x00", "\ufffe", "\U0001f600",
    "2026-11-01T07:08:01Z", "2026-11-01T07:08:60Z", "2026-02-30T00:00:00Z", "2026-11-01 07:08:01",
    "2026-11-01T07:08:01.5+02:00", "2026-11-01T07:08:0\u0663Z", "2026-11-01T07:08:01.\u0663Z",
    "2026-11-01T07:08:01.1234567890Z", "2026-11-01T07:08:01z", "1.2.3.4", "::1",
    "arn:aws:iam::123456789012:role/x", "https://1.2.3.4/x", "https://example.com/a", "a@b.c", "a b@c",
    {1: "x"}, {"nodes": [{"actorIP": "5.6.7.8"}]},
]
# fmt: on


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node[:3]):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _parent(root: Any, path: tuple[Any, ...]) -> Any:
    for p in path[:-1]:
        root = root[p]
    return root


def _deep(value: Any, depth: int) -> Any:
    for i in range(depth):
        value = [value] if i % 2 else {"n": value}
    return value


def _mutate(record: Any, rng: random.Random) -> Any:
    record = copy.deepcopy(record)
    if not isinstance(record, dict):
        return record
    paths = list(_paths(record))
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(paths) if paths else None
        op = rng.randrange(10)
        try:
            parent = _parent(record, path) if path else record
            key = path[-1] if path else None
        except (KeyError, IndexError, TypeError):
            continue
        if op == 9 or path is None:
            target = parent if isinstance(parent, dict) else record
            extra = rng.choice(
                ["extraField", "p_any_ip_addresses", "p_event_time", "P_ANY_X", "p_parse_repairs"]
            )
            target[extra] = rng.choice([["9.9.9.9"], "x", None, ["lone surrogates replaced by U+FFFD"]])
        elif op == 0:
            if isinstance(parent, dict):
                del parent[key]
            elif isinstance(parent, list):
                parent.pop(key)
        elif op in (1, 2):
            parent[key] = copy.deepcopy(rng.choice(ODD_VALUES))
        elif op == 3:
            parent[key] = None
        elif op == 4 and isinstance(parent, dict) and isinstance(key, str):  # a case variant
            variant = rng.choice([key.upper(), key.lower(), key.swapcase(), key[:1].upper() + key[1:]])
            value = parent.pop(key) if rng.random() < 0.6 else copy.deepcopy(rng.choice(ODD_VALUES))
            parent[variant] = value
        elif op == 5:
            parent[key] = _deep(parent[key], rng.choice([3, 40, 200]))
        elif op == 6:
            parent[key] = [parent[key]]  # a list where an object (or a scalar) is expected
        elif op == 7 and isinstance(parent[key], list):
            parent[key] = {"nodes": parent[key]}  # an object where a list is expected
        elif op == 8 and isinstance(parent[key], str):
            parent[key] = parent[key] + rng.choice(["\u0663", "\ud800", "\u00e9", " ", "\U0001f600"])
        paths = list(_paths(record))
    return record


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_mutated_records_normalise_or_fail_exactly_as_before(
    log_type: str, corpus: dict[str, list[Any]]
) -> None:
    rng = random.Random(f"mutations-{log_type}")
    base = corpus[log_type][:: max(1, len(corpus[log_type]) // 150)]
    mutants = [_mutate(r, rng) for r in base for _ in range(8)]
    mutants += [[], "x", 1, None, {}, {"id": None}, {"ID": "x"}, {"id": "a", "Id": 1}]
    seen = _assert_same(log_type, mutants)
    assert seen["event"] > 50 and seen["InvalidRecord"] > 50  # both outcomes really exercised


def test_a_failing_record_is_left_as_it_came_even_without_a_copy() -> None:
    norm = Normalizer(logtypes.ISSUES)
    record = {"id": "a", "createdAt": "nope", "p_any_ip_addresses": ["1.2.3.4"]}
    before = copy.deepcopy(record)
    with pytest.raises(InvalidRecord):
        norm.normalize(record, PT, copy=False)
    assert record == before
    events, invalid = norm.normalize_page([record], PT)
    assert events == [None] and record == before and invalid


# --- identity ----------------------------------------------------------------------------------


def _reference_identity(log_type: str, record: Any) -> str:
    """parse.identity before its paths were compiled (issue 14)."""
    fields = {
        logtypes.AUDIT: ("id",),
        logtypes.ISSUES: ("id", "statusChangedAt|updatedAt"),
        logtypes.VULNERABILITY_FINDING: ("id", "updatedAt|lastDetectedAt"),
        logtypes.ISSUES_WEBHOOK: ("issue.id", "trigger.type", "issue.status"),
        logtypes.DETECTIONS: ("id",),
        logtypes.CLOUD_CONFIGURATION_FINDING: ("id", "updatedAt|analyzedAt", "status"),
    }[log_type]

    def lookup(path: str) -> Any:
        for alternative in path.split("|"):
            node = record
            for key in alternative.split("."):
                node = R._ci_get(node, key) if isinstance(node, dict) else None
            if node is not None and node != "":
                return node
        return None

    parts = [lookup(f) for f in fields]
    if parts[0] is None:
        raise ValueError(f"{log_type} record has no {fields[0]}")
    return ":".join([log_type, *("" if p is None else str(p) for p in parts)])


@pytest.mark.parametrize("log_type", LOG_TYPES)
def test_identity_is_unchanged(log_type: str, corpus: dict[str, list[Any]]) -> None:
    rng = random.Random(f"identity-{log_type}")
    records = corpus[log_type] + [_mutate(r, rng) for r in corpus[log_type][:100] for _ in range(4)]
    for record in records:
        try:
            want: Any = _reference_identity(log_type, record)
        except ValueError as exc:
            want = ("error", str(exc))
        try:
            got: Any = event_identity(log_type, record)
        except ValueError as exc:
            got = ("error", str(exc))
        assert got == want, record


def test_the_hostile_page_is_read_with_repairs() -> None:
    """The hostile page really takes the repairing reader (so p_parse_repairs is compared)."""
    page = read_page(graphql_page([raw for _, raw, _ in HOSTILE_AUDIT.values()]))
    assert page.fallback and page.repaired
    assert any(isinstance(r, dict) and "p_parse_repairs" in r for r in page.records)
    assert orjson.dumps([r for r in page.records if isinstance(r, dict)][:1])
