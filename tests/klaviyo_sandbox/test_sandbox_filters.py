"""The filter language on its own: parsing (with readable errors) and evaluation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.klaviyo_sandbox.api.filters import (
    MAX_DEPTH,
    Comparison,
    FilterSyntaxError,
    Logical,
    evaluate,
    parse,
)


def test_it_parses_values_of_every_kind():
    node = parse(
        "equals(a,'x'),equals(b,\"y\"),equals(c,-1.5),equals(d,true),equals(e,null),"
        "greater-than(f,2024-05-01T10:00:00Z),any(g,['p','q']),has(h)"
    )
    assert isinstance(node, Logical) and node.operator == "and"
    values = [c.value for c in node.operands]
    assert values == [
        "x",
        "y",
        -1.5,
        True,
        None,
        datetime(2024, 5, 1, 10, tzinfo=UTC),
        ["p", "q"],
        None,
    ]


def test_and_or_not_nest():
    node = parse("or(equals(a,1),and(equals(b,2),not(equals(c,3))))")
    assert node == Logical(
        "or",
        (
            Comparison("equals", "a", 1),
            Logical(
                "and",
                (Comparison("equals", "b", 2), Logical("not", (Comparison("equals", "c", 3),))),
            ),
        ),
    )
    record = {"a": 0, "b": 2, "c": 4}.get
    assert evaluate(node, record)
    assert not evaluate(node, {"a": 0, "b": 2, "c": 3}.get)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("equals(a,'x'", "ended"),
        ("equals(a 'x')", "expected ','"),
        ("shout(a,'x')", "unknown operator"),
        ("equals(a,x)", "quote text values"),
        ("equals(a,'unterminated)", "unterminated"),
        ("equals(a,'x'))", "unexpected"),
        ("not(equals(a,1),equals(b,2))", "exactly one"),
    ],
)
def test_bad_syntax_says_why(text, reason):
    with pytest.raises(FilterSyntaxError, match=reason):
        parse(text)


def test_operators_compare_strings_numbers_dates_and_lists():
    profile = {
        "email": "ada@example.com",
        "age": 36,
        "created": "2024-05-01T10:00:00+00:00",
        "tags": ["vip", "beta"],
        "nickname": None,
    }.get
    truths = [
        "equals(email,'ada@example.com')",
        "any(email,['x@example.com','ada@example.com'])",
        "contains(email,'@example')",
        "starts-with(email,'ada')",
        "ends-with(email,'.com')",
        "greater-than(age,35)",
        "greater-or-equal(age,36)",
        "less-than(age,36.5)",
        "less-or-equal(age,36)",
        "greater-than(created,2024-04-30)",
        "less-than(created,'2024-05-02T00:00:00Z')",
        "equals(tags,'vip')",
        "contains-all(tags,['vip','beta'])",
        "equals(nickname,null)",
        "has(tags)",
    ]
    for text in truths:
        assert evaluate(parse(text), profile), text
    falsehoods = [
        "equals(age,'36x')",
        "greater-than(email,3)",
        "has(nickname)",
        "equals(tags,'gold')",
    ]
    for text in falsehoods:
        assert not evaluate(parse(text), profile), text


@pytest.mark.parametrize(
    "text",
    [
        "not(" * 2000 + "equals(a,1)" + ")" * 2000,
        "and(" * 2000 + "equals(a,1)" + ")" * 2000,
        "any(a," + "[" * 2000 + "1" + "]" * 2000 + ")",
    ],
    ids=["not", "and", "lists"],
)
def test_nesting_past_the_limit_is_a_syntax_error_not_a_crash(text):
    with pytest.raises(FilterSyntaxError, match=f"nested more than {MAX_DEPTH} levels"):
        parse(text)


def test_nesting_up_to_the_limit_parses():
    deepest = "not(" * (MAX_DEPTH - 1) + "equals(a,1)" + ")" * (MAX_DEPTH - 1)
    node = parse(deepest)
    assert evaluate(node, {"a": 2}.get) is (MAX_DEPTH % 2 == 0)


@pytest.mark.parametrize(
    "number",
    ["9" * 5000, "-" + "9" * 20, "9223372036854775808", "1e999", "-1e400", "1" * 400 + ".5"],
)
def test_numbers_out_of_range_are_a_syntax_error(number):
    with pytest.raises(FilterSyntaxError, match="out of range"):
        parse(f"equals(a,{number})")


def test_the_largest_numbers_still_parse():
    assert parse("equals(a,9223372036854775807)").value == 2**63 - 1
    assert parse("equals(a,-9223372036854775808)").value == -(2**63)
    assert parse("equals(a,1.5e308)").value == 1.5e308
