"""Sample values for schemas, so the validator can check a step's input before its run."""

from __future__ import annotations

from datetime import datetime

import pytest

from builder.engine.placeholders import placeholder, with_placeholders
from integrations.klaviyo.catalog import all_actions, get_action, validate_params


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "x"),
        ({"type": "string", "format": "email"}, "a0@example.com"),
        ({"type": "string", "format": "uri"}, "https://example.com/0"),
        ({"type": "string", "format": "date"}, "2025-01-01"),
        ({"type": "string", "minLength": 3}, "xxx"),
        ({"type": "string", "enum": ["draft", "live"]}, "draft"),
        ({"type": ["string", "null"], "enum": [None, "sms"]}, "sms"),
        ({"const": "profile"}, "profile"),
        ({"type": "integer"}, 1),
        ({"type": "integer", "minimum": 5, "maximum": 9}, 5),
        ({"type": "integer", "maximum": 0}, 0),
        ({"type": "integer", "exclusiveMinimum": 1}, 2),
        ({"type": "number", "minimum": 0.5}, 1),
        ({"type": "boolean"}, True),
        ({"type": "null"}, None),
        ({"type": ["null", "integer"]}, 1),
        ({"anyOf": [{"type": "null"}, {"type": "string", "format": "email"}]}, "a0@example.com"),
        ({"type": "array", "items": {"type": "string"}}, ["x"]),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 3}, [1, 2, 3]),
        (
            {"type": "array", "items": {"type": "string"}, "minItems": 2, "uniqueItems": True},
            ["x", "x1"],
        ),
        (
            {
                "type": "object",
                "properties": {"a": {"type": "integer"}, "b": {}},
                "required": ["a"],
            },
            {"a": 1},
        ),
        ({}, "x"),
        (None, "x"),
    ],
)
def test_placeholder_gives_a_sample_of_the_schemas_type(schema, expected):
    assert placeholder(schema) == expected


def test_a_date_time_placeholder_is_an_iso_time():
    assert datetime.fromisoformat(placeholder({"type": "string", "format": "date-time"}))


def test_a_patterned_string_uses_its_example():
    assert placeholder({"type": "string", "pattern": "^[0-9]+$", "examples": ["42"]}) == "42"


def test_an_object_fills_the_fields_an_anyof_branch_requires():
    action = get_action("KLAVIYO_ADD_PROFILE_TO_LIST")
    assert placeholder(action.input_schema) == {"list_id": "x", "profile_ids": ["x"]}


def test_every_actions_input_placeholder_is_valid_input():
    for action in all_actions().values():
        validate_params(action, placeholder(action.input_schema))


def test_with_placeholders_puts_samples_of_each_field_in_place_of_references():
    action = get_action("KLAVIYO_ADD_PROFILE_TO_LIST")
    value = {
        "list_id": "list-{{ trigger.list }}",
        "profile_ids": ["{{ steps.find.data.data[0].id }}", "{{ steps.other.data.id }}"],
    }
    sampled = with_placeholders(value, action.input_schema)
    assert sampled == {"list_id": "list-x0", "profile_ids": ["x", "x1"]}
    validate_params(action, sampled)


def test_with_placeholders_uses_the_fields_format_for_text_with_references():
    action = get_action("KLAVIYO_ADD_PROFILE_TO_LIST")
    value = {"list_id": "L1", "emails": ["{{ trigger.user }}@{{ trigger.domain }}"]}
    sampled = with_placeholders(value, action.input_schema)
    assert sampled == {"list_id": "L1", "emails": ["a0@example.com"]}
    validate_params(action, sampled)


def test_with_placeholders_keeps_literals_and_applies_escapes():
    schema = {"type": "object", "properties": {"a": {"type": "string"}, "n": {"type": "integer"}}}
    assert with_placeholders({"a": r"\{{ not a reference }}", "n": 3}, schema) == {
        "a": "{{ not a reference }}",
        "n": 3,
    }


def test_with_placeholders_gives_a_sample_for_unparsable_text():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    assert with_placeholders({"n": "{{ trigger.n | nope }}"}, schema) == {"n": 1}


def test_with_placeholders_types_a_lone_reference_like_its_field():
    action = get_action("KLAVIYO_GET_PROFILES")
    sampled = with_placeholders(
        {"page_size": "{{ trigger.size }}", "fetch_all": "{{ trigger.all }}"}, action.input_schema
    )
    assert sampled == {"page_size": 1, "fetch_all": True}
    validate_params(action, sampled)


def test_variants_of_formatted_strings_stay_valid():
    for variant in (0, 59, 61, 3601):
        sample = placeholder({"type": "string", "format": "date-time"}, variant=variant)
        assert datetime.fromisoformat(sample)
    samples = {placeholder({"type": "string", "format": "email"}, variant=n) for n in range(3)}
    assert len(samples) == 3
