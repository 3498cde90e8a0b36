"""Resolving a step's input against a run: types kept, text interpolated, filters, errors."""

from __future__ import annotations

import pytest

from builder.engine.mapping import ResolveError, resolve
from builder.engine.references import FILTERS, TemplateSyntaxError, parse_template

PROFILE = {"type": "profile", "id": "01P", "attributes": {"email": "ann@example.com", "age": 41}}


@pytest.fixture
def context() -> dict:
    """A run after a `find` step found one profile and a `none` step found nothing."""
    return {
        "trigger": {
            "email": "ann@example.com",
            "name": "Ann",
            "nickname": None,
            "blank": "",
            "tags": ["vip", "gold"],
            "points": 12,
            "ratio": 0.5,
            "opted_in": True,
            "address": {"city": "Oslo", "zip": "0150"},
            "mixed": ["a", 1, None, True],
            "nested": [["a"], {"b": 1}],
            "$value": 9.5,
            "weird key": "w",
        },
        "steps": {
            "find": {"successful": True, "error": None, "data": {"data": [PROFILE]}},
            "none": {"successful": True, "error": None, "data": {"data": []}},
            "broken": {"successful": False, "error": "Klaviyo said 404: not found", "data": None},
        },
        "item": {"id": "I1", "score": 3},
        "item_index": 2,
        "run": {"id": "R1", "started_at": "2025-01-01T09:00:00+00:00", "workflow_id": 7},
    }


def resolve_error(value, context) -> ResolveError:
    with pytest.raises(ResolveError) as caught:
        resolve(value, context)
    return caught.value


# --- types kept ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ trigger.email }}", "ann@example.com"),
        ("{{ trigger.points }}", 12),
        ("{{ trigger.ratio }}", 0.5),
        ("{{ trigger.opted_in }}", True),
        ("{{ trigger.nickname }}", None),
        ("{{ trigger.tags }}", ["vip", "gold"]),
        ("{{ trigger.address }}", {"city": "Oslo", "zip": "0150"}),
        ("{{ steps.find.data.data[0].id }}", "01P"),
        ("{{ steps.find.data.data[-1].attributes.age }}", 41),
        ("{{ steps.find.successful }}", True),
        ('{{ trigger["$value"] }}', 9.5),
        ("{{ trigger['weird key'] }}", "w"),
        ("{{ item.id }}", "I1"),
        ("{{ item_index }}", 2),
        ("{{ run.workflow_id }}", 7),
    ],
)
def test_a_lone_reference_keeps_the_type_of_its_value(context, template, expected):
    assert resolve(template, context) == expected


def test_a_resolved_list_is_a_copy_not_the_runs_own(context):
    tags = resolve("{{ trigger.tags }}", context)
    tags.append("changed")
    assert context["trigger"]["tags"] == ["vip", "gold"]


def test_resolve_walks_nested_inputs_and_keeps_literals(context):
    value = {
        "list_id": "L1",
        "profile_ids": ["{{ steps.find.data.data[0].id }}", "02P"],
        "properties": {"points": "{{ trigger.points }}", "source": "webhook"},
        "count": 3,
        "enabled": False,
        "nothing": None,
    }
    assert resolve(value, context) == {
        "list_id": "L1",
        "profile_ids": ["01P", "02P"],
        "properties": {"points": 12, "source": "webhook"},
        "count": 3,
        "enabled": False,
        "nothing": None,
    }


def test_resolve_does_not_change_its_input(context):
    value = {"a": ["{{ trigger.points }}"]}
    resolve(value, context)
    assert value == {"a": ["{{ trigger.points }}"]}


# --- text ---------------------------------------------------------------------------------------


def test_references_inside_text_are_interpolated(context):
    assert resolve("Hi {{ trigger.name }} ({{ trigger.email }})", context) == (
        "Hi Ann (ann@example.com)"
    )


def test_numbers_and_booleans_are_written_as_json_in_text(context):
    text = "{{ trigger.points }} {{ trigger.ratio }} {{ trigger.opted_in }}"
    assert resolve(text, context) == "12 0.5 true"


def test_null_is_written_as_nothing_in_text(context):
    assert resolve("[{{ trigger.nickname }}]", context) == "[]"


def test_lists_and_objects_are_written_as_compact_json_in_text(context):
    assert resolve("tags={{ trigger.tags }} at={{ trigger.address }}", context) == (
        'tags=["vip","gold"] at={"city":"Oslo","zip":"0150"}'
    )


def test_surrounding_spaces_make_a_lone_reference_text(context):
    assert resolve(" {{ trigger.points }}", context) == " 12"


def test_escaped_braces_come_out_literally(context):
    assert resolve(r"\{{ trigger.name }} is {{ trigger.name }}", context) == (
        "{{ trigger.name }} is Ann"
    )


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ('{{ trigger.name | default("friend") }}', "Ann"),
        ('{{ trigger.nickname | default("friend") }}', "friend"),
        ('{{ trigger.blank | default("friend") }}', "friend"),
        ("{{ trigger.missing | default(0) }}", 0),
        ("{{ steps.none.data.data[0].id | default(null) }}", None),
        ("{{ steps.later.data | default(false) }}", False),
        ("{{ trigger.points | default(0) }}", 12),
        ("{{ trigger.name | lower }}", "ann"),
        ("{{ trigger.name | upper }}", "ANN"),
        ('{{ trigger.nickname | default("friend") | upper }}', "FRIEND"),
        ("{{ trigger.name | length }}", 3),
        ("{{ trigger.tags | length }}", 2),
        ("{{ trigger.address | length }}", 2),
        ("{{ steps.none.data.data | length }}", 0),
        ("{{ trigger.tags | first }}", "vip"),
        ("{{ trigger.tags | last }}", "gold"),
        ("{{ steps.find.data.data | first }}", PROFILE),
        ('{{ steps.none.data.data | first | default("none") }}', "none"),
        ("{{ trigger.tags | join }}", "vip,gold"),
        ('{{ trigger.tags | join(", ") }}', "vip, gold"),
        ('{{ trigger.mixed | join(" ") }}', "a 1  true"),
        ("{{ trigger.address | json }}", '{"city":"Oslo","zip":"0150"}'),
        ("{{ trigger.name | json }}", '"Ann"'),
        ("{{ trigger.nickname | json }}", "null"),
    ],
)
def test_each_filter(context, template, expected):
    assert resolve(template, context) == expected


def test_filters_inside_text(context):
    assert resolve('{{ trigger.tags | length }} tags: {{ trigger.tags | join("/") }}', context) == (
        "2 tags: vip/gold"
    )


def test_every_parsed_filter_resolves(context):
    for name in FILTERS:
        template = f"{{{{ trigger.tags | {FILTERS[name].usage} }}}}"
        if name in ("lower", "upper"):
            template = f"{{{{ trigger.name | {name} }}}}"
        resolve(template, context)


# --- errors -------------------------------------------------------------------------------------


def test_an_index_into_an_empty_list_says_the_list_is_empty(context):
    error = resolve_error("{{ steps.none.data.data[0].id }}", context)
    assert str(error) == "steps.none.data.data[0].id: the list steps.none.data.data is empty"
    assert error.reference.dotted == "steps.none.data.data[0].id"
    assert error.message == "the list steps.none.data.data is empty"


def test_an_index_out_of_range_says_how_many_items_there_are(context):
    assert str(resolve_error("{{ trigger.tags[5] }}", context)) == (
        "trigger.tags[5]: the list trigger.tags has 2 items, so there is no [5]"
    )
    assert str(resolve_error("{{ steps.find.data.data[-2] }}", context)) == (
        "steps.find.data.data[-2]: the list steps.find.data.data has 1 item, so there is no [-2]"
    )


def test_a_missing_field_suggests_a_close_one(context):
    assert str(resolve_error("{{ steps.find.data.data[0].idd }}", context)) == (
        'steps.find.data.data[0].idd: there is no field "idd" in steps.find.data.data[0]; '
        'did you mean "id"?'
    )


def test_a_missing_field_without_a_close_one(context):
    assert str(resolve_error("{{ trigger.zzz }}", context)) == (
        'trigger.zzz: there is no field "zzz" in trigger'
    )


def test_a_field_of_a_list_says_to_pick_an_item(context):
    assert str(resolve_error("{{ steps.find.data.data.id }}", context)) == (
        "steps.find.data.data.id: steps.find.data.data is a list; pick an item first, "
        "e.g. steps.find.data.data[0].id"
    )


def test_an_index_into_an_object_says_it_is_not_a_list(context):
    assert str(resolve_error("{{ trigger.address[0] }}", context)) == (
        "trigger.address[0]: trigger.address is an object, not a list; pick a field by name, "
        "e.g. trigger.address.id"
    )


def test_an_index_into_text_says_it_is_not_a_list(context):
    assert str(resolve_error("{{ trigger.name[0] }}", context)) == (
        "trigger.name[0]: trigger.name is text, not a list, so it has no item [0]"
    )


def test_a_field_of_a_scalar_says_what_the_value_is(context):
    assert str(resolve_error("{{ trigger.points.value }}", context)) == (
        'trigger.points.value: trigger.points is a number, so it has no field "value"'
    )


def test_a_field_of_null_says_it_is_empty(context):
    assert str(resolve_error("{{ trigger.nickname.first }}", context)) == (
        'trigger.nickname.first: trigger.nickname is empty (null), so it has no field "first"'
    )


def test_a_path_into_a_failed_step_says_the_step_failed(context):
    assert str(resolve_error("{{ steps.broken.data.data }}", context)) == (
        'steps.broken.data.data: steps.broken.data is empty (null), so it has no field "data" '
        '(step "broken" failed: Klaviyo said 404: not found)'
    )


def test_a_step_without_output_was_skipped_or_has_not_run(context):
    assert str(resolve_error("{{ steps.later.data }}", context)) == (
        'steps.later.data: step "later" has no output; it was skipped or has not run yet'
    )


def test_item_outside_a_for_each_is_an_error(context):
    del context["item"], context["item_index"]
    assert str(resolve_error("{{ item.id }}", context)) == (
        'item.id: this step has no "for each", so there is no item'
    )
    assert str(resolve_error("{{ item_index }}", context)) == (
        'item_index: this step has no "for each", so there is no item_index'
    )


def test_lower_and_upper_need_text(context):
    assert str(resolve_error("{{ trigger.points | upper }}", context)) == (
        'trigger.points: the filter "upper" needs text, but trigger.points is a number'
    )
    assert str(resolve_error("{{ trigger.nickname | lower }}", context)) == (
        'trigger.nickname: the filter "lower" needs text, but trigger.nickname is empty (null)'
    )


def test_length_needs_text_a_list_or_an_object(context):
    assert str(resolve_error("{{ trigger.opted_in | length }}", context)) == (
        'trigger.opted_in: the filter "length" needs text, a list or an object, '
        "but trigger.opted_in is true/false"
    )


def test_first_and_last_need_a_non_empty_list(context):
    assert str(resolve_error("{{ steps.none.data.data | first }}", context)) == (
        "steps.none.data.data: the list steps.none.data.data is empty"
    )
    assert str(resolve_error("{{ trigger.name | last }}", context)) == (
        'trigger.name: the filter "last" needs a list, but trigger.name is text'
    )


def test_join_needs_a_list_of_scalars(context):
    assert str(resolve_error("{{ trigger.nested | join }}", context)) == (
        'trigger.nested: the filter "join" needs a list of texts or numbers, '
        "but item 0 of trigger.nested is a list"
    )
    assert str(resolve_error("{{ trigger.address | join }}", context)) == (
        'trigger.address: the filter "join" needs a list, but trigger.address is an object'
    )


def test_a_filter_error_names_the_filters_before_it(context):
    assert str(resolve_error("{{ trigger.tags | length | upper }}", context)) == (
        'trigger.tags: the filter "upper" needs text, but trigger.tags | length is a number'
    )


def test_a_missing_path_stays_missing_through_other_filters(context):
    assert str(resolve_error("{{ trigger.zzz | upper | length }}", context)) == (
        'trigger.zzz: there is no field "zzz" in trigger'
    )


def test_a_default_before_the_missing_point_does_not_help(context):
    error = resolve_error('{{ steps.none.data.data | default("x") | first }}', context)
    assert error.message == 'the list steps.none.data.data | default("x") is empty'


def test_an_error_inside_text_is_raised_too(context):
    assert resolve_error("Hi {{ trigger.zzz }}", context).reference.dotted == "trigger.zzz"


def test_syntax_errors_are_raised_as_such(context):
    with pytest.raises(TemplateSyntaxError):
        resolve("{{ trigger.name | nope }}", context)


def test_resolve_errors_are_value_errors(context):
    assert isinstance(resolve_error("{{ trigger.zzz }}", context), ValueError)


def test_the_parse_cache_is_shared_with_the_parser(context):
    resolve("{{ trigger.cache_probe | default(1) }}", context)
    info = parse_template.cache_info()
    resolve("{{ trigger.cache_probe | default(1) }}", context)
    assert parse_template.cache_info().hits == info.hits + 1
