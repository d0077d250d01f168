import json
import random

import pytest

from wizwatch.detect.event import ImmutableCaseInsensitiveDict, ImmutableList, PantherEvent
from wizwatch.detect.helpers import deep_get, deep_walk
from wizwatch.detect.runner import to_json

RAW = {
    "sourceIP": "1.2.3.4",
    "user": {"ID": "u1", "name": None},
    "actionParameters": {"input": {"list": [{"Id": "a"}, {"id": "b"}, {"id": "a"}]}},
    "nothing": None,
}


def test_lookup_is_case_insensitive_at_every_level_and_exact_key_wins() -> None:
    ev = PantherEvent(RAW)
    assert ev.get("sourceip") == "1.2.3.4"
    assert ev["SOURCEIP"] == "1.2.3.4"
    assert ev.get("user").get("id") == "u1"
    assert ev.deep_get("USER", "Id") == "u1"
    assert ev.get("actionparameters").get("INPUT").get("list")[0].get("id") == "a"
    both = PantherEvent({"Key": 1, "key": 2})
    assert both.get("key") == 2 and both.get("Key") == 1
    assert "SourceIp" in ev and "absent" not in ev


def test_get_default_only_when_absent_deep_get_also_on_none() -> None:
    ev = PantherEvent(RAW)
    assert ev.get("nothing", "d") is None
    assert ev.get("absent", "d") == "d"
    assert ev.deep_get("nothing", default="d") == "d"
    assert ev.deep_get("user", "name", default="d") == "d"
    assert ev.deep_get("sourceIP", "deeper", default="d") == "d"
    assert deep_get({"a": {"b": 0}}, "a", "b", default="d") == 0


def test_deep_walk_descends_lists_and_deduplicates() -> None:
    ev = PantherEvent(RAW)
    assert ev.deep_walk("actionParameters", "input", "list", "id") == ["a", "b"]
    assert ev.deep_walk("actionParameters", "input", "list", "id", return_val="last") == "b"
    assert deep_walk({"x": [{"y": 1}]}, "x", "y") == 1
    assert deep_walk({"x": []}, "x", "y", default="d") == "d"


def test_event_is_read_only() -> None:
    ev = PantherEvent(RAW)
    with pytest.raises(TypeError):
        ev["sourceIP"] = "x"  # type: ignore[index]
    nested = ev.get("user")
    assert isinstance(nested, ImmutableCaseInsensitiveDict)
    with pytest.raises(TypeError):
        nested["ID"] = "x"  # type: ignore[index]
    lst = ev.deep_get("actionParameters", "input", "list")
    assert isinstance(lst, ImmutableList)
    assert not hasattr(lst, "append")


def test_wrapped_values_serialise_as_plain_json() -> None:
    ev = PantherEvent(RAW)
    assert json.loads(to_json({"p": ev.get("actionParameters"), "u": ev.get("user")})) == {
        "p": RAW["actionParameters"],
        "u": RAW["user"],
    }
    assert ev.to_dict() == RAW


@pytest.mark.parametrize(
    "keys",
    [
        ("user", "id"),
        ("USER", "ID", "x"),
        ("user", "name"),
        ("sourceIP", "anything"),
        ("actionParameters", "input", "list"),
        ("actionParameters", "input", "list", "0"),
        ("nothing",),
        ("nothing", "deeper"),
        ("absent", "deeper"),
        (),
    ],
)
@pytest.mark.parametrize("default", [None, "dflt", {"deeper": "from default"}])
def test_event_deep_get_is_the_helpers_deep_get(keys: tuple[str, ...], default: object) -> None:
    # PantherEvent.deep_get is an inlined copy of panther_base_helpers.deep_get: same answer on
    # every path shape (non-mapping steps, None on the way, a mapping default walked further).
    ev = PantherEvent(RAW)
    assert ev.deep_get(*keys, default=default) == deep_get(ev, *keys, default=default)


def test_list_iteration_wraps_each_element() -> None:
    items = list(PantherEvent(RAW).deep_get("actionParameters", "input", "list"))
    assert [type(i) for i in items] == [ImmutableCaseInsensitiveDict] * 3
    assert [i.get("ID") for i in items] == ["a", "b", "a"]
    assert {"id": "b"} in PantherEvent(RAW)["actionParameters"]["input"]["list"]
    assert list(ImmutableList([[1], 2])) == [[1], 2]
    assert type(next(iter(ImmutableList([[1]])))) is ImmutableList


def _panther_deep_get(dictionary: object, *keys: str, default: object = None) -> object:
    """panther_base_helpers.deep_get as Panther writes it (reduce over isinstance(d, Mapping))."""
    from collections.abc import Mapping
    from functools import reduce

    out = reduce(
        lambda d, key: d.get(key, default) if isinstance(d, Mapping) else default,  # type: ignore[attr-defined]
        keys,
        dictionary,
    )
    return default if out is None else out


def _random_value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice(["s", "", "PROD"])
    if kind == 2:
        return rng.choice([0, 1, 2.5, True, False])
    if kind == 3:
        return rng.choice(["x", None])
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(3))]
    out: dict[object, object] = {}
    for _ in range(rng.randrange(4)):
        out[rng.choice(_KEYS)] = _random_value(rng, depth + 1)
    return out


_KEYS = ["a", "A", "b", "Bee", "bee", "BEE", "c", 1]


def test_event_deep_get_matches_panthers_reduce_on_random_events() -> None:
    # deep_get walks the plain dicts under the view: same answers (value and wrapper type) as
    # Panther's reduce over the view, on random shapes with case variants, None, lists, non-str
    # keys and mapping defaults.
    rng = random.Random(1405)
    for _ in range(3000):
        raw = _random_value(rng, 0)
        if not isinstance(raw, dict):
            raw = {"a": raw}
        ev = PantherEvent(raw)
        keys = tuple(rng.choice(["a", "A", "b", "bee", "BeE", "c", "zz"]) for _ in range(rng.randrange(4)))
        default = rng.choice([None, "d", {"bee": "from default", "b": {"c": 1}}])
        want = _panther_deep_get(ev, *keys, default=default)
        got = ev.deep_get(*keys, default=default)
        assert got == want and type(got) is type(want), (raw, keys, default)
        assert deep_get(ev, *keys, default=default) == want
        assert deep_get(raw, *keys, default=default) == _panther_deep_get(raw, *keys, default=default)


def _reference_lookup(raw: dict[object, object], key: str) -> set[object]:
    """What a lookup may return: the exact key's value, else any stored key equal to ``key``
    ignoring case (which of several case-variants wins is unspecified), else absent."""
    if key in raw:
        return {raw[key]}
    found = {v for k, v in raw.items() if isinstance(k, str) and k.lower() == key.lower()}
    return found or {"<absent>"}


def test_case_insensitive_lookup_over_shared_key_shapes() -> None:
    # Mappings with the same keys in the same order share one lower-cased key map: every lookup
    # still answers for its own mapping's keys.
    rng = random.Random(14)
    keys = ["id", "ID", "Id", "name", "Name", "x", 3]
    for _ in range(3000):
        chosen = rng.sample(keys, rng.randrange(1, 5))
        raw: dict[object, object] = {k: f"v-{k}" for k in chosen}
        view = ImmutableCaseInsensitiveDict(raw)
        for key in rng.sample(["id", "iD", "ID", "name", "NAME", "x", "X", "y"], 4):
            want = _reference_lookup(raw, key)
            assert view.get(key, "<absent>") in want, (raw, key)
            assert (key in view) is (want != {"<absent>"})
