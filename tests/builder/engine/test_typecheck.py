"""Build-time checks of references against the catalog's real input and output schemas."""

from __future__ import annotations

import pytest

from builder.engine.references import parse_template
from builder.engine.typecheck import Problem, Scope, check_value, infer
from integrations.klaviyo.catalog import get_action

GET_PROFILES = get_action("KLAVIYO_GET_PROFILES")
ADD_TO_LIST = get_action("KLAVIYO_ADD_PROFILE_TO_LIST")
PROFILE_ITEM = GET_PROFILES.output_schema["properties"]["data"]["properties"]["data"]["items"]

TRIGGER = {
    "type": "object",
    "properties": {
        "email": {"type": "string", "format": "email"},
        "name": {"type": ["string", "null"]},
        "count": {"type": "integer"},
        "amount": {"type": "number"},
        "flag": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "when": {"type": "string", "format": "date-time"},
        "plan": {"type": "string", "enum": ["draft", "live"]},
        "mode": {"type": "string", "enum": ["live", "paused"]},
        "state": {"type": "string", "enum": ["archived", "gone"]},
        "extra": {"type": "object"},
        "loose": {
            "type": "object",
            "properties": {"a": {"type": "string"}},
            "additionalProperties": True,
        },
        "scores": {"type": "object", "additionalProperties": {"type": "integer"}},
    },
}


@pytest.fixture
def scope() -> Scope:
    """The scope of step "add", after "find" (get profiles) and "drop" (delete a list)."""
    return Scope(
        trigger=TRIGGER,
        steps={
            "find": GET_PROFILES.output_schema,
            "drop": get_action("KLAVIYO_DELETE_LIST").output_schema,
        },
        later_steps={"add", "notify"},
        current="add",
    )


def infer_text(reference: str, scope: Scope):
    return infer(parse_template(f"{{{{ {reference} }}}}").references[0], scope)


def messages(reference: str, scope: Scope) -> list[str]:
    return [problem.message for problem in infer_text(reference, scope)[1]]


def types_of(schema: dict) -> set[str]:
    kind = schema["type"]
    return {kind} if isinstance(kind, str) else set(kind)


# --- infer: what a path stands for --------------------------------------------------------------


def test_a_profile_id_is_a_string(scope):
    schema, problems = infer_text("steps.find.data.data[0].id", scope)
    assert problems == []
    assert "string" in types_of(schema)


def test_a_profile_email_is_a_string(scope):
    schema, problems = infer_text("steps.find.data.data[0].attributes.email", scope)
    assert problems == []
    assert "string" in types_of(schema)


def test_the_output_envelope_is_known(scope):
    assert infer_text("steps.find.successful", scope)[0] == {
        "description": "Whether or not the action execution was successful or not",
        "type": "boolean",
    }


def test_a_link_keeps_its_format(scope):
    schema, _ = infer_text("steps.find.data.links.next", scope)
    assert schema["format"] == "uri"


def test_nullable_alternatives_are_looked_through(scope):
    schema, problems = infer_text("steps.find.data.data[0].attributes.location.latitude", scope)
    assert problems == []
    assert [branch["type"] for branch in schema["anyOf"]] == ["string", "number", "null"]


def test_a_field_found_in_any_alternative_of_an_anyof(scope):
    schema, problems = infer_text("steps.find.data.included[0].attributes.channel", scope)
    assert problems == []
    assert schema["enum"] == ["instagram", "sms", "whatsapp"]


def test_run_fields_are_known(scope):
    assert infer_text("run.started_at", scope) == ({"type": "string", "format": "date-time"}, [])
    assert infer_text("run.version", scope) == ({"type": "integer"}, [])


def test_an_object_whose_extra_fields_have_a_schema_gives_that_schema(scope):
    assert infer_text("trigger.scores.anything", scope) == ({"type": "integer"}, [])


def test_for_each_items_are_known(scope):
    scope.item = PROFILE_ITEM
    schema, problems = infer_text("item.attributes.first_name", scope)
    assert problems == [] and "string" in types_of(schema)
    assert infer_text("item_index", scope) == ({"type": "integer", "minimum": 0}, [])


# --- infer: errors, each with its message -------------------------------------------------------


def test_an_unknown_field_suggests_a_close_one_and_names_the_resource(scope):
    schema, problems = infer_text("steps.find.data.data[0].idd", scope)
    assert schema is None
    assert problems == [
        Problem(
            "",
            'steps.find.data.data[0].idd: "idd" is not a field of a profile; did you mean "id"?',
        )
    ]


def test_an_unknown_attribute_names_the_resources_attributes(scope):
    assert messages("steps.find.data.data[0].attributes.emial", scope) == [
        'steps.find.data.data[0].attributes.emial: "emial" is not a field of a profile\'s '
        'attributes; did you mean "email"?'
    ]


def test_an_unknown_field_of_an_unnamed_object(scope):
    assert messages("steps.find.data.data[0].attributes.location.cty", scope) == [
        'steps.find.data.data[0].attributes.location.cty: "cty" is not a field of this object; '
        'did you mean "city"?'
    ]


def test_an_unknown_field_of_a_step_output(scope):
    assert messages("steps.find.dta", scope) == [
        'steps.find.dta: "dta" is not a field of the output of step "find"; did you mean "data"?'
    ]


def test_an_unknown_field_without_a_close_one_lists_the_fields(scope):
    assert messages("steps.find.zzz", scope) == [
        'steps.find.zzz: "zzz" is not a field of the output of step "find"; '
        "its fields are data, error, successful"
    ]


def test_an_unknown_field_across_alternatives_suggests_from_all(scope):
    assert messages("steps.find.data.included[0].attributes.chanel", scope) == [
        'steps.find.data.included[0].attributes.chanel: "chanel" is not a field of this object; '
        'did you mean "channel"?'
    ]


def test_an_unknown_step(scope):
    assert messages("steps.nope", scope) == ['steps.nope: there is no step "nope"']
    assert messages("steps.nope.data.id", scope) == ['steps.nope.data.id: there is no step "nope"']


def test_an_unknown_step_suggests_a_close_one(scope):
    assert messages("steps.fnd.data", scope) == [
        'steps.fnd.data: there is no step "fnd"; did you mean "find"?'
    ]


def test_a_step_below_runs_after_this_one(scope):
    assert messages("steps.notify", scope) == [
        'steps.notify: step "notify" runs after this one, so its output is not there yet'
    ]


def test_a_step_below_runs_after_this_one_without_knowing_the_current_step(scope):
    scope.current = None
    assert messages("steps.add", scope) == [
        'steps.add: step "add" runs after this one, so its output is not there yet'
    ]


def test_a_step_cannot_use_its_own_output(scope):
    assert messages("steps.add.data", scope) == [
        'steps.add.data: step "add" is this step; it cannot use its own output'
    ]


def test_an_unknown_trigger_field(scope):
    assert messages("trigger.emial", scope) == [
        'trigger.emial: the trigger has no field "emial"; did you mean "email"?'
    ]


def test_an_unknown_run_field(scope):
    assert messages("run.foo", scope) == [
        'run.foo: the run has no field "foo"; its fields are id, started_at, workflow_id, version'
    ]


def test_item_without_for_each(scope):
    assert messages("item", scope) == ['item: this step has no "for each"']
    assert messages("item.id", scope) == ['item.id: this step has no "for each"']
    assert messages("item_index", scope) == [
        'item_index: this step has no "for each", so item_index is not set'
    ]


def test_an_unknown_field_of_a_for_each_item(scope):
    scope.item = PROFILE_ITEM
    assert messages("item.idd", scope) == [
        'item.idd: "idd" is not a field of a profile; did you mean "id"?'
    ]


def test_an_unknown_field_of_an_unnamed_item(scope):
    scope.item = {"type": "object", "properties": {"sku": {"type": "string"}}}
    assert messages("item.skus", scope) == [
        'item.skus: "skus" is not a field of the item; did you mean "sku"?'
    ]


def test_a_field_of_a_list_says_to_pick_an_item(scope):
    assert messages("steps.find.data.data.id", scope) == [
        "steps.find.data.data.id: data.data is a list; pick an item first, e.g. data.data[0].id"
    ]


def test_a_field_of_a_trigger_list_names_the_full_path(scope):
    assert messages("trigger.tags.first", scope) == [
        "trigger.tags.first: trigger.tags is a list; pick an item first, e.g. trigger.tags[0].first"
    ]


def test_a_field_of_a_scalar(scope):
    assert messages("steps.find.successful.x", scope) == [
        'steps.find.successful.x: successful is true/false, so it has no field "x"'
    ]
    assert messages("trigger.email.domain", scope) == [
        'trigger.email.domain: trigger.email is text, so it has no field "domain"'
    ]


def test_an_index_into_an_object(scope):
    assert messages("steps.find.data.data[0].attributes[0]", scope) == [
        "steps.find.data.data[0].attributes[0]: data.data[0].attributes is an object, not a list"
    ]


def test_a_path_into_an_output_that_is_always_null(scope):
    assert messages("steps.drop.data.id", scope) == [
        "steps.drop.data.id: data is always empty (null)"
    ]


# --- infer: open objects warn -------------------------------------------------------------------


def test_a_path_into_an_object_without_properties_is_a_warning(scope):
    schema, problems = infer_text("steps.find.data.data[0].attributes.properties.vip", scope)
    assert schema is None
    assert problems == [
        Problem(
            "",
            "steps.find.data.data[0].attributes.properties.vip: cannot check beyond "
            'data.data[0].attributes.properties, which may hold any field; make sure "vip" '
            "exists",
            "warning",
        )
    ]


def test_a_path_into_an_open_trigger_is_a_warning(scope):
    scope.trigger = {}
    assert infer_text("trigger.email", scope)[1] == [
        Problem(
            "",
            "trigger.email: cannot check beyond trigger, which may hold any field; make sure "
            '"email" exists',
            "warning",
        )
    ]


def test_an_unlisted_field_of_an_object_with_additional_properties_is_a_warning(scope):
    assert infer_text("trigger.loose.a", scope) == ({"type": "string"}, [])
    assert [p.severity for p in infer_text("trigger.loose.b.c", scope)[1]] == ["warning"]
    assert [p.severity for p in infer_text("trigger.extra.b", scope)[1]] == ["warning"]


# --- infer: filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("steps.find.data.data | length", {"type": "integer", "minimum": 0}),
        ("trigger.name | lower", {"type": "string"}),
        ("trigger.name | upper", {"type": "string"}),
        ("trigger.tags | join", {"type": "string"}),
        ("steps.find.data.data | json", {"type": "string"}),
        ("trigger.tags | first", {"type": "string"}),
        ("trigger.tags | last", {"type": "string"}),
        ('trigger.name | default("friend")', {"type": "string"}),
        ("trigger.count | default(0)", {"type": "integer"}),
        ("trigger.amount | default(0)", {"type": "number"}),
        (
            'trigger.count | default("none")',
            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        ),
        ("trigger.extra.anything | length", {"type": "integer", "minimum": 0}),
        ("trigger.extra.anything | first", None),
    ],
)
def test_filters_give_their_result_type(scope, reference, expected):
    assert infer_text(reference, scope)[0] == expected


def test_first_gives_the_items_schema(scope):
    assert infer_text("steps.find.data.data | first", scope)[0] is PROFILE_ITEM


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("trigger.tags | upper", 'the filter "upper" needs text, but trigger.tags is a list'),
        (
            "steps.find.successful | length",
            'the filter "length" needs text, a list or an object, but steps.find.successful '
            "is true/false",
        ),
        ("trigger.email | first", 'the filter "first" needs a list, but trigger.email is text'),
        ("trigger.count | join", 'the filter "join" needs a list, but trigger.count is a number'),
        (
            "steps.find.data.data | join",
            'the filter "join" needs a list of texts or numbers, but steps.find.data.data is a '
            "list of objects",
        ),
        (
            "trigger.tags | length | lower",
            'the filter "lower" needs text, but trigger.tags | length is a number',
        ),
    ],
)
def test_filters_that_cannot_apply_are_errors(scope, reference, message):
    schema, problems = infer_text(reference, scope)
    assert schema is None
    dotted = parse_template(f"{{{{ {reference} }}}}").references[0].dotted
    assert [p.message for p in problems] == [f"{dotted}: {message}"]


# --- check_value: a step's input beside its schema ----------------------------------------------


def check(value, action, scope) -> list[Problem]:
    return check_value(value, action.input_schema, scope)


def test_a_profile_id_fits_a_list_of_profile_ids(scope):
    value = {"list_id": "L1", "profile_ids": ["{{ steps.find.data.data[0].id }}"]}
    assert check(value, ADD_TO_LIST, scope) == []


def test_a_lone_id_into_a_list_field_says_to_put_it_in_a_list(scope):
    value = {"list_id": "L1", "profile_ids": "{{ steps.find.data.data[0].id }}"}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem(
            "/profile_ids",
            "expected a list, but steps.find.data.data[0].id is text; put it in a list: "
            '["{{ steps.find.data.data[0].id }}"]',
        )
    ]


def test_a_list_of_profiles_into_a_list_of_ids_is_an_error(scope):
    value = {"list_id": "L1", "profile_ids": "{{ steps.find.data.data }}"}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem(
            "/profile_ids",
            "expected a list of texts, but steps.find.data.data is a list of objects",
        )
    ]


def test_a_list_into_a_text_field_says_to_pick_an_item(scope):
    value = {"list_id": "{{ trigger.tags }}", "profile_ids": ["{{ trigger.tags }}"]}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem(
            "/list_id",
            "expected text, but trigger.tags is a list; pick one item, e.g. trigger.tags[0]",
        ),
        Problem(
            "/profile_ids/0",
            "expected text, but trigger.tags is a list; pick one item, e.g. trigger.tags[0]",
        ),
    ]


def test_a_number_into_a_text_field_is_an_error(scope):
    value = {"list_id": "{{ steps.find.data.data | length }}"}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem("/list_id", "expected text, but steps.find.data.data | length is a number")
    ]


def test_text_into_a_number_field_is_an_error(scope):
    assert check({"page_size": "{{ trigger.email }}"}, GET_PROFILES, scope) == [
        Problem("/page_size", "expected a whole number, but trigger.email is text")
    ]


def test_an_integer_fits_a_whole_number_field(scope):
    assert check({"page_size": "{{ trigger.count }}"}, GET_PROFILES, scope) == []
    assert check({"page_size": "{{ trigger.tags | length }}"}, GET_PROFILES, scope) == []


def test_a_decimal_number_into_a_whole_number_field_is_a_warning(scope):
    assert check({"page_size": "{{ trigger.amount }}"}, GET_PROFILES, scope) == [
        Problem(
            "/page_size", "expected a whole number, but trigger.amount may have decimals", "warning"
        )
    ]


def test_an_integer_fits_a_number_field(scope):
    action = get_action("KLAVIYO_CREATE_CATALOG_VARIANT")
    assert (
        check(
            {"price": "{{ trigger.count }}", "inventory_quantity": "{{ trigger.amount }}"},
            action,
            scope,
        )
        == []
    )


def test_true_false_fits_a_boolean_field(scope):
    assert check({"fetch_all": "{{ trigger.flag }}"}, GET_PROFILES, scope) == []
    assert check({"fetch_all": "{{ trigger.name }}"}, GET_PROFILES, scope) == [
        Problem("/fetch_all", "expected true or false, but trigger.name is text")
    ]


def test_anything_fits_a_field_without_a_type(scope):
    schema = {"type": "object", "properties": {"anything": {}}}
    assert check_value({"anything": "{{ steps.find.data }}"}, schema, scope) == []


def test_a_value_that_may_be_of_another_type_is_a_warning(scope):
    value = {"list_id": "{{ steps.find.data.data[0].attributes.location.latitude }}"}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem(
            "/list_id",
            "expected text, but steps.find.data.data[0].attributes.location.latitude may be "
            "a number",
            "warning",
        )
    ]


def test_text_with_references_is_text(scope):
    value = {"list_id": "list-{{ trigger.count }}"}
    assert check(value, ADD_TO_LIST, scope) == []
    assert check({"page_size": "{{ trigger.count }} per page"}, GET_PROFILES, scope) == [
        Problem("/page_size", "expected a whole number, but this is text")
    ]


def test_spaces_around_a_lone_reference_make_text_and_say_so(scope):
    assert check({"page_size": " {{ trigger.count }} "}, GET_PROFILES, scope) == [
        Problem(
            "/page_size",
            "expected a whole number, but this is text; remove the spaces around {{ }} to "
            "pass the value itself",
        )
    ]


def test_a_list_written_into_text_is_a_warning(scope):
    assert check({"list_id": "ids: {{ trigger.tags }}"}, ADD_TO_LIST, scope) == [
        Problem(
            "/list_id",
            "trigger.tags is a list; it will be written into the text as JSON "
            "(add | json to say so)",
            "warning",
        )
    ]
    assert check({"list_id": "ids: {{ trigger.tags | json }}"}, ADD_TO_LIST, scope) == []


def test_an_email_field_takes_an_email_without_a_warning(scope):
    action = get_action("KLAVIYO_CREATE_PROFILE")
    assert check({"email": "{{ trigger.email }}"}, action, scope) == []


def test_an_email_field_warns_when_the_text_cannot_be_checked(scope):
    action = get_action("KLAVIYO_CREATE_PROFILE")
    assert check({"email": "{{ steps.find.data.data[0].attributes.email }}"}, action, scope) == [
        Problem(
            "/email",
            "cannot check that steps.find.data.data[0].attributes.email is an email address; "
            "make sure it is",
            "warning",
        )
    ]


def test_a_date_time_into_an_email_field_is_a_warning(scope):
    action = get_action("KLAVIYO_CREATE_PROFILE")
    assert check({"email": "{{ trigger.when }}"}, action, scope) == [
        Problem("/email", "expected an email address, but trigger.when is a date-time", "warning")
    ]


def test_a_date_time_fits_a_date_time_field(scope):
    action = get_action("KLAVIYO_CREATE_COUPON_CODE")
    assert check({"expires_at": "{{ run.started_at }}"}, action, scope) == []


def test_an_enum_field_warns_about_free_text(scope):
    action = get_action("KLAVIYO_UPDATE_FLOW_STATUS")
    assert check({"status": "{{ trigger.name }}"}, action, scope) == [
        Problem(
            "/status",
            'cannot check that trigger.name is one of "draft", "manual", "live"; make sure it is',
            "warning",
        )
    ]


def test_an_enum_field_takes_a_value_from_a_narrower_enum(scope):
    action = get_action("KLAVIYO_UPDATE_FLOW_STATUS")
    assert check({"status": "{{ trigger.plan }}"}, action, scope) == []


def test_an_enum_field_warns_about_values_it_does_not_take(scope):
    action = get_action("KLAVIYO_UPDATE_FLOW_STATUS")
    assert check({"status": "{{ trigger.mode }}"}, action, scope) == [
        Problem(
            "/status",
            'trigger.mode may be "paused", which is not one of "draft", "manual", "live"',
            "warning",
        )
    ]


def test_an_enum_field_rejects_an_enum_with_no_common_value(scope):
    action = get_action("KLAVIYO_UPDATE_FLOW_STATUS")
    assert check({"status": "{{ trigger.state }}"}, action, scope) == [
        Problem(
            "/status",
            'expected one of "draft", "manual", "live", '
            'but trigger.state is one of "archived", "gone"',
        )
    ]


def test_a_value_that_is_always_null_is_a_warning(scope):
    assert check({"list_id": "{{ steps.drop.data }}"}, ADD_TO_LIST, scope) == [
        Problem("/list_id", "steps.drop.data is always empty (null)", "warning")
    ]


def test_path_errors_come_without_a_type_error_and_carry_the_pointer(scope):
    value = {"list_id": "L1", "profile_ids": ["x", "{{ steps.find.data.data[0].idd }}"]}
    assert check(value, ADD_TO_LIST, scope) == [
        Problem(
            "/profile_ids/1",
            'steps.find.data.data[0].idd: "idd" is not a field of a profile; did you mean "id"?',
        )
    ]


def test_every_reference_in_a_text_is_checked(scope):
    problems = check({"list_id": "{{ trigger.emial }}-{{ steps.notify.data }}"}, ADD_TO_LIST, scope)
    assert [p.message.split(":")[0] for p in problems] == ["trigger.emial", "steps.notify.data"]


def test_syntax_errors_become_problems_at_their_pointer(scope):
    assert check({"list_id": "{{ trigger.email | lenght }}"}, ADD_TO_LIST, scope) == [
        Problem("/list_id", 'position 19: unknown filter "lenght"; did you mean "length"?')
    ]


def test_fields_the_schema_does_not_list_still_have_their_paths_checked(scope):
    assert check({"nope": "{{ trigger.emial }}"}, ADD_TO_LIST, scope)[0].pointer == "/nope"


def test_literals_and_pointer_prefixes(scope):
    assert check({"list_id": "L1", "profile_ids": ["a", "b"]}, ADD_TO_LIST, scope) == []
    problems = check_value({"x": "{{ trigger.emial }}"}, {}, scope, "/steps/2/input")
    assert problems[0].pointer == "/steps/2/input/x"


def test_keys_are_escaped_in_pointers(scope):
    assert check_value({"a/b": "{{ trigger.emial }}"}, {}, scope)[0].pointer == "/a~1b"


def test_open_paths_stay_warnings_in_a_step(scope):
    value = {"list_id": "{{ steps.find.data.data[0].attributes.properties.list }}"}
    assert [p.severity for p in check(value, ADD_TO_LIST, scope)] == ["warning"]
