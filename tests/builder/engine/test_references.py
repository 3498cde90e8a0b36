"""The mapping language's parser: good and bad syntax, positions, escapes, renames."""

from __future__ import annotations

import pytest

from builder.engine.references import (
    FILTERS,
    Filter,
    Reference,
    Template,
    TemplateSyntaxError,
    iter_references,
    parse_template,
    referenced_steps,
    rename_step,
)


def only_reference(text: str) -> Reference:
    template = parse_template(text)
    assert template.is_single_reference
    return template.references[0]


def syntax_error(text: str) -> TemplateSyntaxError:
    with pytest.raises(TemplateSyntaxError) as caught:
        parse_template(text)
    return caught.value


# --- good syntax --------------------------------------------------------------------------------


def test_it_parses_a_dotted_path_below_a_root():
    reference = only_reference("{{ trigger.email }}")
    assert (reference.root, reference.path, reference.filters) == ("trigger", ("email",), ())
    assert reference.source == "trigger.email"
    assert (reference.start, reference.end) == (0, 19)


def test_it_parses_a_step_path_with_indexes():
    reference = only_reference("{{ steps.find.data.data[0].id }}")
    assert reference.root == "steps"
    assert reference.path == ("find", "data", "data", 0, "id")
    assert reference.step_key == "find"
    assert reference.dotted == "steps.find.data.data[0].id"


def test_it_accepts_no_whitespace_inside_the_braces():
    assert only_reference("{{item.id}}").path == ("id",)


def test_it_accepts_newlines_and_tabs_inside_the_braces():
    assert only_reference("{{\n\ttrigger.email\n}}").source == "trigger.email"


@pytest.mark.parametrize("root", ["trigger", "item", "item_index", "run"])
def test_every_root_may_stand_alone(root):
    reference = only_reference(f"{{{{ {root} }}}}")
    assert (reference.root, reference.path) == (root, ())
    assert reference.step_key is None


def test_it_parses_run_fields():
    assert only_reference("{{ run.started_at }}").path == ("started_at",)


def test_it_parses_negative_indexes():
    assert only_reference("{{ trigger.tags[-1] }}").path == ("tags", -1)


def test_it_parses_quoted_keys_in_either_quotes():
    assert only_reference('{{ item["$value"] }}').path == ("$value",)
    assert only_reference("{{ item['weird key'] }}").path == ("weird key",)


def test_quoted_keys_take_escapes():
    assert only_reference(r'{{ item["say \"hi\"\n"] }}').path == ('say "hi"\n',)


def test_it_allows_spaces_inside_brackets():
    assert only_reference('{{ trigger.tags[ 0 ][ "x" ] }}').path == ("tags", 0, "x")


def test_names_may_hold_hyphens():
    reference = only_reference("{{ steps.find.data.data[0].relationships.push-tokens }}")
    assert reference.path[-1] == "push-tokens"


def test_dotted_spells_odd_keys_in_brackets_with_double_quotes():
    assert only_reference("{{ item['weird key'][-1].ok }}").dotted == 'item["weird key"][-1].ok'


def test_a_step_key_may_be_quoted():
    assert only_reference('{{ steps["find"].data }}').step_key == "find"


def test_it_parses_a_filter_without_arguments():
    reference = only_reference("{{ steps.find.data.data | length }}")
    assert reference.filters == (Filter("length"),)
    assert reference.dotted == "steps.find.data.data"


def test_it_parses_chained_filters_with_arguments():
    reference = only_reference('{{ trigger.name | default("friend") | upper }}')
    assert reference.filters == (Filter("default", ("friend",)), Filter("upper"))
    assert reference.source == 'trigger.name | default("friend") | upper'


def test_filter_arguments_are_literals_of_every_kind():
    assert only_reference("{{ trigger.a | default(1) }}").filters[0].args == (1,)
    assert only_reference("{{ trigger.a | default(-2.5) }}").filters[0].args == (-2.5,)
    assert only_reference("{{ trigger.a | default(1e3) }}").filters[0].args == (1000.0,)
    assert only_reference("{{ trigger.a | default(true) }}").filters[0].args == (True,)
    assert only_reference("{{ trigger.a | default(null) }}").filters[0].args == (None,)
    assert only_reference("{{ trigger.a | default('x') }}").filters[0].args == ("x",)


def test_join_takes_an_optional_separator():
    assert only_reference("{{ trigger.tags | join }}").filters == (Filter("join"),)
    assert only_reference('{{ trigger.tags | join(", ") }}').filters == (Filter("join", (", ",)),)


def test_a_closing_brace_inside_quotes_does_not_end_the_reference():
    assert only_reference('{{ trigger.a | default("}}") }}').filters[0].args == ("}}",)


def test_filters_print_as_written():
    assert str(Filter("default", ("a",))) == 'default("a")'
    assert str(Filter("join", (", ",))) == 'join(", ")'
    assert str(Filter("lower")) == "lower"


def test_text_around_references_is_kept_as_parts():
    template = parse_template("Hi {{ trigger.name }}, you have {{ trigger.count }} points")
    assert [type(part) for part in template.parts] == [str, Reference, str, Reference, str]
    assert template.parts[0] == "Hi "
    assert [ref.dotted for ref in template.references] == ["trigger.name", "trigger.count"]
    assert [(ref.start, ref.end) for ref in template.references] == [(3, 21), (32, 51)]


def test_surrounding_whitespace_makes_text_not_a_single_reference():
    template = parse_template(" {{ trigger.tags }}")
    assert not template.is_single_reference
    assert not template.is_literal


def test_text_without_braces_is_literal():
    template = parse_template("just text } { }}")
    assert template.is_literal
    assert template.parts == ("just text } { }}",)


def test_the_empty_string_has_no_parts():
    assert parse_template("") == Template(())


def test_a_backslash_escapes_double_braces():
    template = parse_template(r"write \{{ trigger.email }} literally")
    assert template.is_literal
    assert template.parts == ("write {{ trigger.email }} literally",)


def test_an_escape_sits_beside_real_references():
    template = parse_template(r"\{{ {{ trigger.a }} }}")
    assert template.parts[0] == "{{ "
    assert template.parts[1].dotted == "trigger.a"
    assert template.parts[2] == " }}"


def test_parsing_is_cached():
    assert parse_template("{{ trigger.cached }}") is parse_template("{{ trigger.cached }}")


# --- bad syntax ---------------------------------------------------------------------------------


def test_unclosed_braces_are_an_error_at_the_opening():
    error = syntax_error("Hi {{ trigger.email")
    assert str(error) == 'position 3: "{{" is not closed; add "}}" after the reference'
    assert error.position == 3


def test_an_unknown_filter_suggests_the_closest():
    error = syntax_error("{{ steps.x.data | lenght }}")
    assert str(error) == 'position 18: unknown filter "lenght"; did you mean "length"?'
    assert error.message == 'unknown filter "lenght"; did you mean "length"?'


def test_an_unknown_filter_lists_the_filters_when_nothing_is_close():
    assert syntax_error("{{ trigger.a | zzz }}").message == (
        'unknown filter "zzz"; filters are default, lower, upper, length, first, last, join, json'
    )


def test_an_unknown_root_suggests_the_closest():
    assert str(syntax_error("{{ trigerr.email }}")) == (
        'position 3: unknown name "trigerr"; did you mean "trigger"?'
    )


def test_an_unknown_root_lists_the_roots_when_nothing_is_close():
    assert syntax_error("{{ zzz }}").message == (
        'unknown name "zzz"; a reference starts with trigger, steps, item, item_index or run'
    )


def test_an_empty_reference_is_an_error():
    assert str(syntax_error("{{  }}")) == (
        "position 4: empty reference; write a name such as trigger.email between the braces"
    )


@pytest.mark.parametrize("text", ["{{ steps }}", "{{ steps[0].data }}"])
def test_steps_needs_a_step_key(text):
    assert syntax_error(text).message == ('"steps" needs a step key, e.g. steps.find_profile.data')


def test_a_dot_needs_a_name_after_it():
    error = syntax_error("{{ item.$value }}")
    assert error.position == 8
    assert error.message == (
        'expected a field name after "."; write ["odd key"] for names with spaces or other '
        "characters"
    )


@pytest.mark.parametrize(
    "text", ["{{ trigger.tags[1.5] }}", "{{ trigger.tags[] }}", "{{ trigger[name] }}"]
)
def test_brackets_need_a_whole_number_or_a_quoted_name(text):
    assert syntax_error(text).message == 'expected a whole number or a quoted name inside "[ ]"'


def test_an_unclosed_bracket_is_an_error():
    assert str(syntax_error("{{ trigger.tags[0 }}")) == 'position 18: unexpected "}"; expected "]"'


def test_spaces_inside_a_path_are_an_error():
    assert str(syntax_error("{{ trigger.first name }}")) == (
        'position 17: unexpected "name"; expected "|" or "}}"'
    )


def test_a_pipe_needs_a_filter_name():
    assert str(syntax_error("{{ trigger.a | }}")) == 'position 15: expected a filter name after "|"'


def test_unquoted_text_arguments_are_an_error():
    assert (
        syntax_error("{{ trigger.a | default(friend) }}").message == 'put text in quotes: "friend"'
    )


def test_unclosed_quotes_are_an_error_at_the_quote():
    error = syntax_error('{{ trigger.a | default("friend) }}')
    assert (error.position, error.message) == (23, "text in quotes is not closed")


def test_an_unknown_escape_in_quotes_is_an_error():
    assert syntax_error(r'{{ item["a\q"] }}').message.startswith('unknown escape "\\q" in quotes')


def test_arguments_need_commas_between_them():
    assert syntax_error('{{ trigger.a | default("a" "b") }}').message == (
        'unexpected """; expected "," or ")"'
    )


def test_filters_check_how_many_arguments_they_take():
    assert syntax_error("{{ trigger.a | default }}").message == (
        'the filter "default" needs one value, e.g. default("friend")'
    )
    assert syntax_error('{{ trigger.a | default("a", "b") }}').message == (
        'the filter "default" takes one value, e.g. default("friend")'
    )
    assert syntax_error("{{ trigger.a | upper(1) }}").message == (
        'the filter "upper" takes no arguments'
    )


def test_join_takes_only_text():
    error = syntax_error("{{ trigger.tags | join(1) }}")
    assert (error.position, error.message) == (
        18,
        'the filter "join" takes text in quotes, e.g. join(", ")',
    )


def test_a_bad_second_reference_reports_its_own_position():
    assert syntax_error("{{ trigger.a }} and {{ trigger.b | nope }}").position == 35


def test_every_filter_has_a_usage_example_that_parses():
    for spec in FILTERS.values():
        parse_template(f"{{{{ trigger.a | {spec.usage} }}}}")


# --- walking values -----------------------------------------------------------------------------


def test_iter_references_yields_json_pointers_of_the_strings():
    value = {
        "list_id": "{{ trigger.list }}",
        "profile_ids": ["literal", "{{ steps.find.data.data[0].id }}"],
        "a/b~c": {"note": "{{ run.id }} and {{ item.id }}"},
        "count": 3,
    }
    found = [(pointer, ref.dotted) for pointer, ref in iter_references(value)]
    assert found == [
        ("/list_id", "trigger.list"),
        ("/profile_ids/1", "steps.find.data.data[0].id"),
        ("/a~1b~0c/note", "run.id"),
        ("/a~1b~0c/note", "item.id"),
    ]


def test_iter_references_starts_from_the_given_pointer():
    assert [p for p, _ in iter_references(["{{ item }}"], "/input")] == ["/input/0"]


def test_iter_references_tells_where_a_syntax_error_is():
    with pytest.raises(TemplateSyntaxError) as caught:
        list(iter_references({"emails": ["ok", "{{ trigger.email | lenght }}"]}))
    assert caught.value.pointer == "/emails/1"
    assert str(caught.value) == 'position 19: unknown filter "lenght"; did you mean "length"?'


def test_referenced_steps_names_every_step_used():
    value = {"a": "{{ steps.find.data }}", "b": ["{{ steps.add.data }} {{ trigger.x }}"], "c": "{{"}
    assert referenced_steps(value) == {"find", "add"}


# --- renaming steps -----------------------------------------------------------------------------


def test_rename_step_rewrites_only_that_steps_key():
    value = {
        "a": "{{ steps.find.data.data[0].id }}",
        "b": ["Hi {{steps.find.data.name|upper}}!", "{{ steps.finder.data }}"],
        "c": {"d": "{{ trigger.find }} {{ steps['find'].data }}"},
        "e": 7,
    }
    assert rename_step(value, "find", "lookup") == {
        "a": "{{ steps.lookup.data.data[0].id }}",
        "b": ["Hi {{steps.lookup.data.name|upper}}!", "{{ steps.finder.data }}"],
        "c": {"d": "{{ trigger.find }} {{ steps.lookup.data }}"},
        "e": 7,
    }


def test_rename_step_keeps_escapes_and_unparsable_text_as_written():
    assert rename_step(r"\{{ steps.find }} {{ steps.find }}", "find", "x") == (
        r"\{{ steps.find }} {{ steps.x }}"
    )
    assert (
        rename_step("{{ steps.find.data | nope }}", "find", "x") == "{{ steps.find.data | nope }}"
    )


def test_rename_step_quotes_a_key_that_is_not_a_name():
    assert rename_step("{{ steps.find.data }}", "find", "my step") == '{{ steps["my step"].data }}'


def test_rename_step_does_not_change_its_input():
    value = {"a": ["{{ steps.find.data }}"]}
    rename_step(value, "find", "x")
    assert value == {"a": ["{{ steps.find.data }}"]}
