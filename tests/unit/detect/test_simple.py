from typing import Any

import pytest

from wizwatch.detect.simple import DetectionSyntaxError, compile_expressions, compile_title

EVENT: dict[str, Any] = {
    "action": "Login",
    "Status": "FAILED",
    "score": 9.8,
    "sourceIP": "10.1.2.3",
    "user": {"name": "Alice@Example.com"},
    "tags": ["a", "b"],
    "empty": "",
    "nul": None,
    "actors": [{"type": "USER", "ip": "8.8.8.8"}, {"type": "NETWORK_ADDRESS", "ip": "10.0.0.1"}],
}


def ok(*exprs: Any) -> bool:
    return compile_expressions(list(exprs)).predicate(EVENT)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ({"Key": "action", "Condition": "Equals", "Value": "Login"}, True),
        ({"Key": "status", "Condition": "Equals", "Value": "FAILED"}, True),  # case-insensitive key
        ({"Key": "action", "Condition": "DoesNotEqual", "Value": "Login"}, False),
        ({"Key": "user.name", "Condition": "IEquals", "Value": "alice@example.com"}, True),
        ({"DeepKey": ["user", "name"], "Condition": "EndsWith", "Value": "Example.com"}, True),
        ({"Key": "user.name", "Condition": "IStartsWith", "Value": "ALICE"}, True),
        ({"Key": "user.name", "Condition": "Contains", "Value": "@"}, True),
        ({"Key": "user.name", "Condition": "DoesNotContain", "Value": "@"}, False),
        ({"Key": "tags", "Condition": "Contains", "Value": "b"}, True),
        ({"Key": "action", "Condition": "IsIn", "Values": ["Login", "Logout"]}, True),
        ({"Key": "action", "Condition": "IsNotIn", "Values": ["Login"]}, False),
        ({"Key": "absent", "Condition": "Exists"}, False),
        ({"Key": "absent", "Condition": "DoesNotExist"}, True),
        ({"Key": "nul", "Condition": "IsNull"}, True),
        ({"Key": "nul", "Condition": "IsNotNull"}, False),
        ({"Key": "empty", "Condition": "IsNullOrEmpty"}, True),
        ({"Key": "action", "Condition": "IsNotNullOrEmpty"}, True),
        ({"Key": "score", "Condition": "IsGreaterThan", "Value": 9}, True),
        ({"Key": "score", "Condition": "IsGreaterThanOrEquals", "Value": 9.8}, True),
        ({"Key": "score", "Condition": "IsGreaterThanOrEqual", "Value": 9.8}, True),
        ({"Key": "score", "Condition": "IsLessThanOrEqualTo", "Value": 9.8}, True),
        ({"Key": "score", "Condition": "IsLessThan", "Value": 9.8}, False),
        ({"Key": "sourceIP", "Condition": "IsIPAddress"}, True),
        ({"Key": "sourceIP", "Condition": "IsIPAddressPrivate"}, True),
        ({"Key": "sourceIP", "Condition": "IsIPAddressPublic"}, False),
        ({"Key": "sourceIP", "Condition": "IsIPAddressInCIDR", "Values": ["10.0.0.0/8"]}, True),
        ({"KeyPath": "actors[*].type", "Condition": "Equals", "Value": "NETWORK_ADDRESS"}, True),
        ({"KeyPath": "actors[0].type", "Condition": "Equals", "Value": "NETWORK_ADDRESS"}, False),
        ({"Condition": "AlwaysTrue"}, True),
        ({"Condition": "AlwaysFalse"}, False),
    ],
)
def test_conditions(expr: dict[str, Any], expected: bool) -> None:
    assert ok(expr) is expected


def test_combinators_and_list_conditions() -> None:
    login = {"Key": "action", "Condition": "Equals", "Value": "Login"}
    no = {"Key": "action", "Condition": "Equals", "Value": "No"}
    assert ok({"Any": [no, login]})
    assert not ok({"All": [no, login]})
    assert ok({"OnlyOne": [no, login]})
    assert ok({"None": [no]})
    public = {"Key": "ip", "Condition": "IsIPAddressPublic"}
    assert ok({"Key": "actors", "Condition": "AnyElement", "Expressions": [public]})
    assert not ok({"Key": "actors", "Condition": "AllElements", "Expressions": [public]})
    assert ok({"Key": "actors", "Condition": "OnlyOneElement", "Expressions": [public]})
    assert not ok({"Key": "actors", "Condition": "NoElement", "Expressions": [public]})
    assert not ok(login, no)  # a list is ANDed


def test_index_terms_are_the_top_level_equals_and_isin() -> None:
    c = compile_expressions(
        [
            {"Key": "action", "Condition": "IsIn", "Values": ["A", "B"]},
            {"Key": "status", "Condition": "Equals", "Value": "SUCCESS"},
            {"Key": "user.name", "Condition": "Equals", "Value": "x"},
            {"Any": [{"Key": "x", "Condition": "Equals", "Value": 1}]},
        ]
    )
    assert c.index_terms == [("action", frozenset({"A", "B"})), ("status", frozenset({"SUCCESS"}))]


@pytest.mark.parametrize(
    "bad",
    [
        [],
        [{"Key": "a"}],
        [{"Key": "a", "Condition": "Sounds like", "Value": 1}],
        [{"Key": "a", "DeepKey": ["a"], "Condition": "Exists"}],
        [{"Key": "a", "Condition": "IsIn", "Value": "x"}],
        [{"Any": []}],
        [{"Key": "a", "Condition": "AnyElement"}],
    ],
)
def test_bad_expressions_fail_at_load(bad: Any) -> None:
    with pytest.raises(DetectionSyntaxError):
        compile_expressions(bad)


def test_title_templates() -> None:
    assert (
        compile_title("{action} by {user.name} from {missing}")(EVENT)
        == "Login by Alice@Example.com from <unknown>"
    )


@pytest.mark.parametrize(
    ("exprs", "keys"),
    [
        ([{"Key": "status", "Condition": "Equals", "Value": "SUCCESS"}], {"status"}),
        (
            [
                {"Key": "status", "Condition": "Equals", "Value": "SUCCESS"},
                {
                    "Any": [
                        {"Key": "action", "Condition": "StartsWith", "Value": "Delete"},
                        {"AlwaysTrue": True},
                    ]
                },
            ],
            {"status", "action"},
        ),
        ([{"Key": "user.id", "Condition": "Exists"}], None),
        ([{"DeepKey": ["user", "id"], "Condition": "Exists"}], None),
        ([{"KeyPath": "a[*].b", "Condition": "Equals", "Value": 1}], None),
        (
            [{"Key": "tags", "Condition": "AnyElement", "Expressions": [{"Condition": "AlwaysTrue"}]}],
            None,
        ),
        ([{"None": [{"Key": "status", "Condition": "IsNull"}, {"Key": "x.y", "Condition": "Exists"}]}], None),
    ],
)
def test_compiled_reports_the_top_level_keys_that_alone_decide_it(exprs: Any, keys: set[str] | None) -> None:
    compiled = compile_expressions(exprs)
    assert compiled.keys == (None if keys is None else frozenset(keys))
