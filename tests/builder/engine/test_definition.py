"""Reading the workflow format: every problem named by step and field, nothing raised."""

from __future__ import annotations

import pytest

from builder.engine.definition import FORMAT, parse_definition


def doc(**overrides):
    document = {
        "format": FORMAT,
        "name": "Welcome VIPs",
        "trigger": {
            "type": "manual",
            "input_schema": {"type": "object", "properties": {"email": {"type": "string"}}},
        },
        "steps": [{"key": "find", "action": "KLAVIYO_GET_PROFILES", "connection": "Sandbox"}],
    }
    document.update(overrides)
    return document


def messages(document):
    return {(p.step, p.field): p.message for p in parse_definition(document)[1]}


def test_a_good_document_reads_back_the_same():
    definition, problems = parse_definition(doc())
    assert problems == []
    again, _ = parse_definition(definition.to_document())
    assert again == definition
    assert definition.to_document()["steps"][0] == {
        "key": "find",
        "action": "KLAVIYO_GET_PROFILES",
        "connection": "Sandbox",
        "input": {},
    }


@pytest.mark.parametrize("document", [None, [], "workflow", 3, {"steps": "no"}])
def test_anything_at_all_is_read_without_raising(document):
    definition, problems = parse_definition(document)
    assert problems
    assert definition.steps == ()


def test_keys_must_be_slugs_and_unique():
    found = messages(
        doc(
            steps=[
                {"key": "Find Profile", "action": "A"},
                {"key": "a", "action": "A"},
                {"key": "a", "action": "A"},
                {"key": "trigger", "action": "A"},
            ]
        )  # fmt: skip
    )
    assert "starts with a lowercase letter" in found[("step 1", "/key")]
    assert found[("a", "/key")] == "Two steps are called 'a'; keys are unique."
    assert found[("trigger", "/key")] == "'trigger' is a reserved word; choose another key."


@pytest.mark.parametrize(
    ("on_error", "ok"),
    [("stop", True), ("continue", True), ({"retry": 3}, True), ({"retry": 0}, False),
     ({"retry": 11}, False), ("retry", False), ({"retry": True}, False)],
)  # fmt: skip
def test_on_error(on_error, ok):
    found = messages(doc(steps=[{"key": "a", "action": "A", "on_error": on_error}]))
    assert (("a", "/on_error") not in found) is ok


def test_for_each_takes_a_reference_or_an_object_with_limits():
    shorthand, problems = parse_definition(
        doc(steps=[{"key": "a", "action": "A", "for_each": "{{ steps.find.data.data }}"}])
    )
    assert problems == []
    assert shorthand.steps[0].for_each.items == "{{ steps.find.data.data }}"
    assert shorthand.steps[0].for_each.in_flight == 1
    found = messages(
        doc(
            steps=[
                {
                    "key": "a",
                    "action": "A",
                    "for_each": {"items": "{{ x }}", "max_items": 0, "in_flight": 99},
                }
            ]
        )  # fmt: skip
    )
    assert "from 1 to 10000" in found[("a", "/for_each/max_items")]
    assert "from 1 to 10" in found[("a", "/for_each/in_flight")]


def test_the_trigger_schema_must_be_json_schema_of_an_object():
    found = messages(doc(trigger={"type": "manual", "input_schema": {"type": "array"}}))
    assert "JSON Schema of an object" in found[(None, "/trigger/input_schema")]
    found = messages(
        doc(trigger={"type": "manual", "input_schema": {"type": "object", "required": "email"}})
    )
    assert any(field.startswith("/trigger/input_schema") for _, field in found)
    found = messages(doc(trigger={"type": "carrier_pigeon"}))
    assert "Unknown trigger type 'carrier_pigeon'" in found[(None, "/trigger/type")]


def test_unknown_fields_and_formats_are_named():
    found = messages(doc(format="other/2", colour="blue"))
    assert "Unknown format 'other/2'" in found[(None, "/format")]
    assert found[(None, "/colour")] == "Unknown field 'colour'."
    found = messages(doc(steps=[{"key": "a", "action": "A", "retry": 3}]))
    assert found[("a", "/retry")] == "Unknown step field 'retry'."


def test_a_name_is_required():
    assert messages(doc(name="  "))[(None, "/name")] == "Give the workflow a name."


@pytest.mark.parametrize(
    "timeout, ok", [(30, True), (1.5, True), (0, False), (-5, False), ("60", False),
                    (True, False), (8 * 24 * 3600, False)],
)  # fmt: skip
def test_a_step_timeout_is_a_number_of_seconds_up_to_a_week(timeout, ok):
    step = {"key": "find", "action": "KLAVIYO_GET_PROFILES", "timeout_seconds": timeout}
    definition, problems = parse_definition(doc(steps=[step]))
    if ok:
        assert problems == []
        assert definition.steps[0].timeout_seconds == timeout
        assert definition.to_document()["steps"][0]["timeout_seconds"] == timeout
    else:
        assert (
            "timeout_seconds is a number of seconds from 1 to"
            in messages(doc(steps=[step]))[("find", "/timeout_seconds")]
        )
        assert definition.steps[0].timeout_seconds is None
