"""`run if` groups: each operator true and false, nesting, descriptions and validation."""

from __future__ import annotations

import pytest

from builder.engine.conditions import (
    MAX_DEPTH,
    OPERATORS,
    ConditionError,
    describe,
    evaluate,
    validate_condition,
)
from builder.engine.mapping import ResolveError
from builder.engine.typecheck import Problem, Scope
from integrations.klaviyo.catalog import get_action

GET_PROFILES = get_action("KLAVIYO_GET_PROFILES")

TRIGGER = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "plan": {"type": "string"},
        "channel": {"type": "string", "enum": ["email", "sms"]},
        "vip": {"type": "boolean"},
        "total": {"type": "number"},
        "count": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "when": {"type": "string", "format": "date-time"},
        "address": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@pytest.fixture
def context() -> dict:
    return {
        "trigger": {
            "email": "ann@example.com",
            "plan": "gold",
            "vip": True,
            "off": False,
            "vip_text": "TRUE",
            "total": 12.5,
            "count": 3,
            "count_text": "3",
            "tags": ["vip", "new", 1],
            "when": "2025-03-01T10:00:00Z",
            "naive": "2025-03-01T09:00:00",
            "day": "2025-03-02",
            "nothing": None,
            "blank": "",
            "address": {"city": "Oslo"},
        },
        "steps": {
            "find": {"successful": True, "error": None, "data": {"data": []}},
        },
    }


@pytest.fixture
def scope() -> Scope:
    return Scope(trigger=TRIGGER, steps={"find": GET_PROFILES.output_schema}, later_steps={"me"})


def holds(context, left, op, right=None, *, has_right=True) -> bool:
    condition = {"left": left, "op": op}
    if has_right and OPERATORS[op].takes_right:
        condition["right"] = right
    return evaluate({"all": [condition]}, context)


def test_there_are_ten_operators():
    assert list(OPERATORS) == [
        "equals",
        "not_equals",
        "contains",
        "starts_with",
        "greater_than",
        "less_than",
        "exists",
        "not_exists",
        "is_true",
        "is_false",
    ]


# --- each operator, true and false --------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "op", "right", "expected"),
    [
        ("{{ trigger.plan }}", "equals", "gold", True),
        ("{{ trigger.plan }}", "equals", "Gold", False),
        ("{{ trigger.count }}", "equals", 3, True),
        ("{{ trigger.count }}", "equals", "3", True),
        ("{{ trigger.count_text }}", "equals", 3.0, True),
        ("{{ trigger.count_text }}", "equals", "3.0", False),
        ("{{ trigger.vip }}", "equals", True, True),
        ("{{ trigger.vip }}", "equals", 1, False),
        ("{{ trigger.nothing }}", "equals", None, True),
        ("{{ trigger.tags }}", "equals", ["vip", "new", 1], True),
        ("{{ trigger.plan }}", "not_equals", "silver", True),
        ("{{ trigger.plan }}", "not_equals", "gold", False),
        ("{{ trigger.count }}", "not_equals", "3", False),
        ("{{ trigger.email }}", "contains", "@example", True),
        ("{{ trigger.email }}", "contains", "@other", False),
        ("{{ trigger.tags }}", "contains", "vip", True),
        ("{{ trigger.tags }}", "contains", "old", False),
        ("{{ trigger.tags }}", "contains", "1", True),
        ("{{ trigger.address }}", "contains", "city", True),
        ("{{ trigger.address }}", "contains", "zip", False),
        ("{{ trigger.nothing }}", "contains", "x", False),
        ("{{ trigger.email }}", "starts_with", "ann@", True),
        ("{{ trigger.email }}", "starts_with", "bob@", False),
        ("{{ trigger.nothing }}", "starts_with", "a", False),
        ("{{ trigger.total }}", "greater_than", 10, True),
        ("{{ trigger.total }}", "greater_than", 12.5, False),
        ("{{ trigger.count_text }}", "greater_than", "2", True),
        ("{{ steps.find.data.data | length }}", "greater_than", 0, False),
        ("{{ trigger.when }}", "greater_than", "2025-03-01T09:59:59+00:00", True),
        ("{{ trigger.when }}", "greater_than", "{{ trigger.naive }}", True),
        ("{{ trigger.day }}", "greater_than", "{{ trigger.when }}", True),
        ("{{ trigger.nothing }}", "greater_than", 0, False),
        ("{{ trigger.total }}", "less_than", 20, True),
        ("{{ trigger.total }}", "less_than", 12.5, False),
        ("{{ trigger.when }}", "less_than", "2025-03-02", True),
        ("{{ trigger.count }}", "less_than", "{{ trigger.nothing }}", False),
        ("{{ trigger.email }}", "exists", None, True),
        ("{{ trigger.blank }}", "exists", None, True),
        ("{{ trigger.nothing }}", "exists", None, False),
        ("{{ trigger.missing.deeper }}", "exists", None, False),
        ("{{ steps.find.data.data[0].id }}", "exists", None, False),
        ("{{ steps.later.data }}", "exists", None, False),
        ("{{ trigger.missing }}", "not_exists", None, True),
        ("{{ trigger.email }}", "not_exists", None, False),
        ("{{ trigger.vip }}", "is_true", None, True),
        ("{{ trigger.vip_text }}", "is_true", None, True),
        ("{{ trigger.off }}", "is_true", None, False),
        ("{{ trigger.count }}", "is_true", None, False),
        ("{{ trigger.off }}", "is_false", None, True),
        ("{{ trigger.vip }}", "is_false", None, False),
        ("{{ trigger.nothing }}", "is_false", None, False),
    ],
)
def test_each_operator(context, left, op, right, expected):
    assert holds(context, left, op, right) is expected


def test_all_needs_every_condition_and_any_needs_one(context):
    yes = {"left": "{{ trigger.vip }}", "op": "is_true"}
    no = {"left": "{{ trigger.off }}", "op": "is_true"}
    assert evaluate({"all": [yes, yes]}, context) is True
    assert evaluate({"all": [yes, no]}, context) is False
    assert evaluate({"any": [no, yes]}, context) is True
    assert evaluate({"any": [no, no]}, context) is False


def test_groups_nest(context):
    group = {
        "all": [
            {"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"},
            {
                "any": [
                    {"left": "{{ trigger.off }}", "op": "is_true"},
                    {"all": [{"left": "{{ trigger.count }}", "op": "greater_than", "right": 2}]},
                ]
            },
        ]
    }
    assert evaluate(group, context) is True


def test_no_group_always_holds(context):
    assert evaluate(None, context) is True


def test_a_guard_stops_evaluation_before_a_missing_path(context):
    group = {
        "all": [
            {"left": "{{ trigger.missing }}", "op": "exists"},
            {"left": "{{ trigger.missing.count }}", "op": "greater_than", "right": 1},
        ]
    }
    assert evaluate(group, context) is False


def test_a_missing_path_outside_exists_raises(context):
    with pytest.raises(ResolveError) as caught:
        holds(context, "{{ trigger.missing }}", "equals", 1)
    assert str(caught.value) == 'trigger.missing: there is no field "missing" in trigger'


def test_comparing_text_with_a_number_raises(context):
    with pytest.raises(ConditionError) as caught:
        holds(context, "{{ trigger.plan }}", "greater_than", 1)
    assert str(caught.value) == (
        'greater_than compares numbers or dates; cannot compare trigger.plan ("gold") with 1'
    )


def test_contains_on_a_number_raises(context):
    with pytest.raises(ConditionError) as caught:
        holds(context, "{{ trigger.count }}", "contains", 3)
    assert str(caught.value) == (
        "contains needs text, a list or an object on the left; cannot compare trigger.count (3) "
        "with 3"
    )


def test_starts_with_on_a_list_raises(context):
    with pytest.raises(ConditionError, match="starts_with needs text on the left"):
        holds(context, "{{ trigger.tags }}", "starts_with", "v")


def test_literal_sides_are_allowed(context):
    assert holds(context, "gold", "equals", "{{ trigger.plan }}") is True
    assert holds(context, 5, "greater_than", 4) is True


# --- describe -----------------------------------------------------------------------------------

LENGTH_ABOVE_ZERO = {
    "all": [{"left": "{{ steps.find.data.data | length }}", "op": "greater_than", "right": 0}]
}


def test_describe_says_why_a_step_was_skipped(context):
    assert describe(LENGTH_ABOVE_ZERO, context) == (
        "skipped because steps.find.data.data | length (0) is not greater than 0"
    )


def test_describe_says_why_a_step_ran(context):
    group = {
        "all": [
            {"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"},
            {"left": "{{ trigger.email }}", "op": "exists"},
        ]
    }
    assert describe(group, context) == (
        'ran because trigger.plan ("gold") equals "gold" and trigger.email exists'
    )


def test_describe_names_the_first_failure_of_all(context):
    group = {
        "all": [
            {"left": "{{ trigger.vip }}", "op": "is_true"},
            {"left": "{{ trigger.missing }}", "op": "exists"},
            {"left": "{{ trigger.off }}", "op": "is_true"},
        ]
    }
    assert describe(group, context) == "skipped because trigger.missing does not exist"


def test_describe_names_every_failure_of_any(context):
    group = {
        "any": [
            {"left": "{{ trigger.off }}", "op": "is_true"},
            {"left": "{{ trigger.tags }}", "op": "contains", "right": "old"},
        ]
    }
    assert describe(group, context) == (
        'skipped because trigger.off (false) is not true and trigger.tags (["vip","new",1]) '
        'does not contain "old"'
    )


def test_describe_names_the_success_of_any(context):
    group = {
        "any": [
            {"left": "{{ trigger.off }}", "op": "is_true"},
            {"left": "{{ trigger.total }}", "op": "less_than", "right": "{{ trigger.count }}"},
            {"left": "{{ trigger.vip }}", "op": "is_true"},
        ]
    }
    assert describe(group, context) == "ran because trigger.vip (true) is true"


def test_describe_shortens_long_values(context):
    context["trigger"]["plan"] = "p" * 80
    group = {"all": [{"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"}]}
    assert describe(group, context) == (
        f'skipped because trigger.plan ("{"p" * 38}…) does not equal "gold"'
    )


def test_describe_without_a_run_says_the_condition(context):
    group = {
        "all": [
            {"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"},
            {
                "any": [
                    {"left": "{{ trigger.vip }}", "op": "is_true"},
                    {"left": "{{ trigger.count }}", "op": "greater_than", "right": 2},
                ]
            },
        ]
    }
    assert describe(group) == (
        'runs if trigger.plan equals "gold" and (trigger.vip is true or trigger.count is greater '
        "than 2)"
    )
    assert describe(None) == "runs always"


def test_describe_never_raises(context):
    group = {"all": [{"left": "{{ trigger.plan }}", "op": "less_than", "right": 1}]}
    assert describe(group, context) == (
        "the condition could not be checked: less_than compares numbers or dates; cannot compare "
        'trigger.plan ("gold") with 1'
    )
    assert describe(
        {"all": [{"left": "{{ trigger.x }}", "op": "equals", "right": 1}]}, context
    ) == ('the condition could not be checked: trigger.x: there is no field "x" in trigger')
    assert describe({"all": [42]}, context).startswith("the condition could not be checked")


def test_describe_agrees_with_evaluate(context):
    for op, operator in OPERATORS.items():
        condition = {"left": "{{ trigger.count }}", "op": op}
        if operator.takes_right:
            condition["right"] = 3
        group = {"any": [condition]}
        try:
            outcome = evaluate(group, context)
        except ConditionError:
            continue
        assert describe(group, context).startswith("ran" if outcome else "skipped"), op


# --- validate_condition -------------------------------------------------------------------------


def problems(group, scope) -> list[Problem]:
    return validate_condition(group, scope)


def test_a_good_group_has_no_problems(scope):
    group = {
        "all": [
            {"left": "{{ steps.find.data.data | length }}", "op": "greater_than", "right": 0},
            {"left": "{{ trigger.email }}", "op": "exists"},
            {"left": "{{ trigger.when }}", "op": "less_than", "right": "{{ run.started_at }}"},
            {"left": "{{ trigger.tags }}", "op": "contains", "right": "vip"},
            {"any": [{"left": "{{ trigger.vip }}", "op": "is_true"}]},
        ]
    }
    assert problems(group, scope) == []


def test_no_condition_has_no_problems(scope):
    assert validate_condition(None, scope) == []


def test_an_unknown_operator_suggests_the_closest(scope):
    group = {"all": [{"left": "{{ trigger.plan }}", "op": "equal", "right": "x"}]}
    assert problems(group, scope) == [
        Problem("/run_if/all/0/op", 'unknown operator "equal"; did you mean "equals"?')
    ]


def test_an_unknown_operator_lists_them_when_nothing_is_close(scope):
    group = {"all": [{"left": "{{ trigger.plan }}", "op": "zz", "right": "x"}]}
    assert problems(group, scope)[0].message == (
        'unknown operator "zz"; choose one of equals, not_equals, contains, starts_with, '
        "greater_than, less_than, exists, not_exists, is_true, is_false"
    )


def test_a_missing_op_or_left(scope):
    assert problems({"all": [{"left": "{{ trigger.plan }}"}]}, scope)[0].message.startswith(
        'missing "op"; choose one of equals'
    )
    assert problems({"all": [{"op": "is_true"}]}, scope) == [
        Problem("/run_if/all/0", 'missing "left": the value to test, e.g. "{{ trigger.email }}"')
    ]


def test_a_missing_right(scope):
    group = {"all": [{"left": "{{ trigger.total }}", "op": "less_than"}]}
    assert problems(group, scope) == [
        Problem("/run_if/all/0", '"less_than" needs a "right" value to compare with')
    ]


def test_a_right_where_none_is_taken(scope):
    group = {"all": [{"left": "{{ trigger.email }}", "op": "exists", "right": True}]}
    assert problems(group, scope) == [
        Problem("/run_if/all/0/right", '"exists" takes no "right" value; remove it')
    ]


def test_extra_keys_in_a_condition(scope):
    group = {"all": [{"left": "{{ trigger.vip }}", "op": "is_true", "rigth": 1}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/rigth",
            'unknown key "rigth"; a condition has left, op and right; did you mean "right"?',
        )
    ]


def test_extra_keys_in_a_group(scope):
    group = {"all": [{"left": "{{ trigger.vip }}", "op": "is_true"}], "note": "x"}
    assert problems(group, scope) == [
        Problem("/run_if/note", 'unknown key "note"; a group has only "all"')
    ]


def test_an_empty_group(scope):
    assert problems({"any": []}, scope) == [
        Problem("/run_if/any", "this group is empty; add a condition or remove the group")
    ]


def test_a_group_with_both_all_and_any(scope):
    assert problems({"all": [], "any": []}, scope) == [
        Problem("/run_if", 'a group has "all" or "any", not both; nest one in the other')
    ]


def test_a_group_with_neither(scope):
    assert problems({"alll": []}, scope) == [
        Problem("/run_if", 'a group needs "all" or "any"; did you mean "all"?')
    ]


def test_a_bare_condition_must_be_wrapped(scope):
    assert problems({"left": "{{ trigger.vip }}", "op": "is_true"}, scope) == [
        Problem("/run_if", 'wrap the condition in a group: {"all": [ ...condition... ]}')
    ]


def test_a_group_that_is_not_an_object(scope):
    assert problems(["x"], scope) == [
        Problem("/run_if", 'expected a group such as {"all": [...]} or {"any": [...]}')
    ]
    assert problems({"all": "x"}, scope) == [
        Problem("/run_if/all", "expected a list of conditions")
    ]
    assert problems({"all": [3]}, scope) == [
        Problem(
            "/run_if/all/0", 'expected a condition such as {"left": ..., "op": ..., "right": ...}'
        )
    ]


def test_groups_nest_only_so_deep(scope):
    condition = {"left": "{{ trigger.vip }}", "op": "is_true"}
    group: dict = {"all": [condition]}
    for _ in range(MAX_DEPTH - 1):
        group = {"any": [group]}
    assert problems(group, scope) == []
    assert problems({"all": [group]}, scope) == [
        Problem("/run_if/all/0/any/0/any/0", "groups nest at most 3 deep; flatten this one")
    ]


def test_references_are_checked_with_their_pointer(scope):
    group = {"all": [{"left": "{{ trigger.emial }}", "op": "equals", "right": "{{ steps.me }}"}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/left",
            'trigger.emial: the trigger has no field "emial"; did you mean "email"?',
        ),
        Problem(
            "/run_if/all/0/right",
            'steps.me: step "me" runs after this one, so its output is not there yet',
        ),
    ]


def test_syntax_errors_are_problems(scope):
    group = {"all": [{"left": "{{ trigger.tags | lenght }}", "op": "exists"}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/left", 'position 18: unknown filter "lenght"; did you mean "length"?'
        )
    ]


def test_comparing_a_list_says_to_compare_its_length(scope):
    group = {"all": [{"left": "{{ steps.find.data.data }}", "op": "greater_than", "right": 0}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/left",
            "greater_than compares numbers or dates, but steps.find.data.data is a list; compare "
            "its length instead: steps.find.data.data | length",
        )
    ]


def test_comparing_with_text_that_is_neither_a_number_nor_a_date(scope):
    group = {"all": [{"left": "{{ trigger.total }}", "op": "less_than", "right": "lots"}]}
    assert problems(group, scope) == [
        Problem("/run_if/all/0/right", 'less_than compares numbers or dates, but "lots" is neither')
    ]


def test_comparing_a_date_with_a_number(scope):
    group = {"all": [{"left": "{{ trigger.when }}", "op": "greater_than", "right": 5}]}
    assert problems(group, scope) == [
        Problem("/run_if/all/0", "greater_than cannot compare a date with a number")
    ]


def test_comparing_free_text_is_a_warning(scope):
    group = {"all": [{"left": "{{ trigger.plan }}", "op": "greater_than", "right": "10"}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/left",
            "cannot check that trigger.plan holds a number or a date; make sure it does",
            "warning",
        )
    ]


def test_comparing_true_false_is_an_error(scope):
    group = {"all": [{"left": "{{ trigger.vip }}", "op": "less_than", "right": 1}]}
    assert problems(group, scope)[0].message == (
        "less_than compares numbers or dates, but trigger.vip is true/false"
    )


@pytest.mark.parametrize(
    ("op", "left", "message"),
    [
        (
            "contains",
            "{{ trigger.count }}",
            "contains needs text, a list or an object, but trigger.count is a number",
        ),
        ("starts_with", "{{ trigger.tags }}", "starts_with needs text, but trigger.tags is a list"),
        (
            "is_true",
            "{{ trigger.count }}",
            "is_true needs true/false, but trigger.count is a number",
        ),
        (
            "is_false",
            "{{ trigger.address }}",
            "is_false needs true/false, but trigger.address is an object",
        ),
    ],
)
def test_operators_check_the_type_of_their_left_side(scope, op, left, message):
    condition = {"left": left, "op": op}
    if OPERATORS[op].takes_right:
        condition["right"] = "x"
    assert problems({"all": [condition]}, scope) == [Problem("/run_if/all/0/left", message)]


def test_equals_warns_when_the_sides_are_never_equal(scope):
    group = {"all": [{"left": "{{ trigger.vip }}", "op": "equals", "right": "yes"}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0",
            'trigger.vip is true/false and "yes" is text, so they are never equal',
            "warning",
        )
    ]


def test_equals_allows_a_number_against_numeric_text(scope):
    group = {"all": [{"left": "{{ trigger.count }}", "op": "equals", "right": "3"}]}
    assert problems(group, scope) == []


def test_equals_warns_about_a_value_outside_the_enum(scope):
    group = {"all": [{"left": "{{ trigger.channel }}", "op": "equals", "right": "SMS"}]}
    assert problems(group, scope) == [
        Problem(
            "/run_if/all/0/right",
            'trigger.channel is one of "email", "sms"; "SMS" never matches',
            "warning",
        )
    ]


def test_open_paths_in_conditions_are_warnings(scope):
    group = {
        "all": [
            {
                "left": "{{ steps.find.data.data[0].attributes.properties.vip }}",
                "op": "is_true",
            }
        ]
    }
    assert [p.severity for p in problems(group, scope)] == ["warning"]


def test_the_pointer_prefix_is_the_callers(scope):
    group = {"all": [{"left": "{{ trigger.emial }}", "op": "exists"}]}
    assert validate_condition(group, scope, "/steps/1/run_if")[0].pointer == (
        "/steps/1/run_if/all/0/left"
    )
