"""Rendering degrades one event's copy, never the alert or the page (wizwatch.render)."""

from __future__ import annotations

import gzip
import json
import math
from typing import Any

import orjson
import pytest

from wizwatch import render
from wizwatch.alerts.message import EVENT_SHARE_BYTES, QUEUE_BUDGET_BYTES, AlertSpec, build_alert
from wizwatch.archive.kept import json_lines_gz


def nested(depth: int, leaf: Any = 1) -> Any:
    """A list ``depth`` levels deep (the outer list is level 1), built without recursion."""
    value: Any = leaf
    for _ in range(depth):
        value = [value]
    return value


def depth_of(value: Any) -> int:
    depth = 0
    while isinstance(value, list | dict):
        value = value[0] if isinstance(value, list) else next(iter(value.values()))
        depth += 1
    return depth


def event(i: int, **extra: Any) -> dict[str, Any]:
    return {"id": f"e{i}", "action": "DeleteUser", "p_log_type": "Wiz.Audit", **extra}


def alert_of(events: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    spec = AlertSpec(
        alert_type="RULE",
        rule_id="R",
        rule_name="Rule",
        title=kw.pop("title", "t"),
        severity="HIGH",
        dedup_string="d",
        dedup_period_minutes=60,
        threshold=1,
        log_types=["Wiz.Audit"],
        events=events,
        **kw,
    )
    alert = build_alert(
        spec,
        alert_id="a",
        event_count=len(events),
        first_event_time=None,
        last_event_time=None,
        created_at="c",
    )
    body = render.dumps(alert)  # the queue's copy renders
    assert len(body) <= QUEUE_BUDGET_BYTES
    assert json.loads(body) == json.loads(orjson.dumps(alert))
    return alert


def test_orjson_really_refuses_what_this_guards_against() -> None:
    # The reason this module exists: an event 253 levels deep inside an alert (2 more levels).
    with pytest.raises(TypeError):
        orjson.dumps({"events": [event(0, x=nested(253))]})
    for odd in ({"s": "\ud800"}, {"n": 2**70}, {(1, 2): "tuple key"}):
        with pytest.raises(render.RenderError):
            render.dumps(odd)


@pytest.mark.parametrize(
    ("odd", "note"),
    [
        ({"x": nested(300)}, "nested deeper than 200 levels"),
        ({"x": nested(5000)}, "nested deeper than 200 levels"),
        ({"s": "a\ud800b"}, "lone surrogates"),
        ({"\udc00": 1}, "lone surrogates"),
        ({"n": 2**70}, "integers beyond 64 bits"),
        ({"n": -(2**64)}, "integers beyond 64 bits"),
        ({"k": {(1, 2): "v"}}, "keys that are not JSON scalars"),
    ],
)
def test_an_unrenderable_event_gets_a_stand_in_and_the_others_are_untouched(
    odd: dict[str, Any], note: str
) -> None:
    good = [event(1), event(2, f=1.5, m={"a": [1, None, True]})]
    alert = alert_of([good[0], event(99, **odd), good[1]])
    assert alert["events"][0] is good[0] and alert["events"][2] is good[1]
    stand_in = alert["events"][1]
    assert stand_in["id"] == "e99" and stand_in["action"] == "DeleteUser"
    assert note in stand_in[render.RENDER_ERROR_FIELD]
    assert "raw archive holds the original" in stand_in[render.RENDER_ERROR_FIELD]
    if "nested" in note:
        assert depth_of(stand_in["x"]) == render.MAX_EVENT_DEPTH - 1  # the event is level 1
    # The matches copy: one line per event, only the odd one replaced.
    lines = [
        json.loads(line)
        for line in gzip.decompress(json_lines_gz([good[0], event(99, **odd), good[1]])).splitlines()
    ]
    assert lines[0] == good[0] and lines[2] == json.loads(orjson.dumps(good[1]))
    assert note in lines[1][render.RENDER_ERROR_FIELD]


def test_deep_but_renderable_rows_are_kept_whole_in_matches() -> None:
    deep = event(1, x=nested(252))  # 253 levels: fine alone (orjson allows 254), not in an alert
    (line,) = gzip.decompress(json_lines_gz([deep])).splitlines()
    assert json.loads(line) == json.loads(orjson.dumps(deep))
    alert = alert_of([deep, event(2)])
    assert render.RENDER_ERROR_FIELD in alert["events"][0] and alert["events"][1] == event(2)


def test_odd_floats_are_null_and_not_an_error() -> None:
    alert = alert_of([event(1, a=math.nan, b=math.inf, c=-math.inf)])
    assert json.loads(render.dumps(alert))["events"][0]["a"] is None
    copy, notes = render.clean({"a": math.nan, "b": [math.inf]})
    assert copy == {"a": None, "b": [None]} and notes == {"NaN/Infinity written as null"}


def test_an_unrenderable_alert_context_or_title_degrades_only_that_field() -> None:
    alert = alert_of([event(1)], alert_context={"deep": nested(260)})
    assert "_error" in alert["alert_context"] and alert["events"] == [event(1)]
    alert = alert_of([event(1)], title="User \ud800 deleted")
    assert alert["title"] == "User \ufffd deleted" and alert["events"] == [event(1)]


def test_one_huge_event_is_shrunk_instead_of_pushing_the_good_ones_out() -> None:
    huge = event(1, blob="x" * 1_000_000)
    others = [event(i) for i in range(2, 6)]
    alert = alert_of([huge, *others])
    assert alert["events"][1:] == others and "events_omitted" not in alert
    shrunk = alert["events"][0]
    assert len(shrunk["blob"]) == render.MAX_STRING_CHARS and shrunk["blob"].endswith("... (truncated)")
    assert f"{EVENT_SHARE_BYTES}-byte share" in shrunk[render.RENDER_ERROR_FIELD]
    # The matches copy keeps it whole.
    (line,) = gzip.decompress(json_lines_gz([huge])).splitlines()
    assert json.loads(line) == huge


def test_clean_never_recurses_and_guards_against_cycles() -> None:
    cyclic: dict[str, Any] = {"id": "c"}
    cyclic["self"] = cyclic
    copy, notes = render.clean(cyclic)
    render.dumps(copy)
    assert any("nested deeper" in n for n in notes)
    copy, notes = render.clean({"s": {3, 1, 2}, "t": (1, 2), "o": object.__name__, "b": b"x"})
    assert copy == {"s": [1, 2, 3], "t": [1, 2], "o": "object", "b": "b'x'"} and notes == set()


def test_good_alerts_render_exactly_as_before() -> None:
    events = [event(i, nested={"a": [1, 2, {"b": "ü\u2028"}]}) for i in range(3)]
    alert = alert_of(events)
    assert alert["events"] == events
    assert all(render.RENDER_ERROR_FIELD not in e for e in alert["events"])


@pytest.mark.parametrize(
    "obj",
    [
        {"a": 1, "b": [1.5, None, True], "c": {"d": "é"}},
        {1: "int key", None: "none key", 2.5: "float key"},  # only the option renders these
        {"when": __import__("datetime").datetime(2026, 1, 2, 3, 4, 5)},  # orjson-native either way
        {"odd": object.__new__(type("Odd", (), {"__str__": lambda self: "odd!"}))},  # default=str
        {"set": frozenset()},
        ["\ufffe", "\uffff"],
    ],
)
def test_the_plain_fast_call_renders_the_same_bytes_as_the_options(obj: Any) -> None:
    """dumps tries orjson without options first (cheaper); whatever it renders must be what the
    call with OPT_NON_STR_KEYS and default=str renders."""
    with_options = orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS)
    assert render.dumps(obj) == with_options.replace(b"\xef\xbf\xbe", b"\\ufffe").replace(
        b"\xef\xbf\xbf", b"\\uffff"
    )
