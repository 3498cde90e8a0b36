"""The catalog registry: every action is there, typed, findable and JSON-friendly."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator

from integrations.klaviyo.catalog import (
    UnknownAction,
    all_actions,
    categories,
    example_input,
    get_action,
    list_actions,
)
from integrations.klaviyo.catalog.examples import generate_input
from integrations.klaviyo.catalog.validation import make_validator

ACTIONS = list(all_actions().values())
SIDE_EFFECTS = {"read", "write", "destructive", "send", "consent"}
TIERS = {"XS", "S", "M", "L", "XL"}


def test_it_offers_225_actions():
    assert len(ACTIONS) == 225
    assert all(re.fullmatch(r"KLAVIYO_[A-Z0-9_]+", a.key) for a in ACTIONS)


def test_it_loads_the_catalog_once():
    assert get_action("KLAVIYO_GET_PROFILE") is get_action("KLAVIYO_GET_PROFILE")
    assert all_actions() is all_actions()


def test_get_action_accepts_the_key_in_any_case_and_without_prefix():
    assert get_action("add_profile_to_list").key == "KLAVIYO_ADD_PROFILE_TO_LIST"
    assert get_action("KLAVIYO_ADD_PROFILE_TO_LIST").title == "Add Profile To List"


def test_an_unknown_key_raises_a_key_error_naming_close_matches():
    with pytest.raises(KeyError) as caught:
        get_action("KLAVIYO_ADD_PROFILES_TO_LIST")
    assert isinstance(caught.value, UnknownAction)
    assert "KLAVIYO_ADD_PROFILE_TO_LIST" in str(caught.value)
    assert "Unknown Klaviyo action" in str(caught.value)


def test_searching_list_finds_add_profile_to_list_first():
    found = list_actions(query="list")
    assert found[0].title.lower().find("list") >= 0
    assert "KLAVIYO_ADD_PROFILE_TO_LIST" in [a.key for a in found]


def test_search_is_case_insensitive_and_needs_every_word():
    keys = [a.key for a in list_actions(query="PROFILE list ADD")]
    assert keys[0] == "KLAVIYO_ADD_PROFILE_TO_LIST"
    assert list_actions(query="no-such-words-anywhere") == []


def test_search_covers_descriptions_and_categories():
    assert "KLAVIYO_GET_LIST" in [a.key for a in list_actions(query="profile_count")]
    assert {a.category for a in list_actions(query="reporting")} >= {"Reporting"}


def test_filtering_by_category():
    profiles = list_actions(category="profiles")
    assert profiles and {a.category for a in profiles} == {"Profiles"}
    assert list_actions(category="Data Privacy")[0].key == "KLAVIYO_REQUEST_PROFILE_DELETION"
    assert sum(len(list_actions(category=c)) for c in categories()) == 225


def test_every_action_is_fully_described():
    for a in ACTIONS:
        assert a.title and a.description and a.category, a.key
        assert a.method in {"GET", "POST", "PATCH", "DELETE"}, a.key
        assert a.path.startswith(("/api/", "/client/")), a.key
        assert a.side_effect in SIDE_EFFECTS, a.key
        assert a.rate_limit.tier in TIERS and a.rate_limit.burst > 0, a.key
        assert a.scopes or a.client_side, a.key
        assert a.client_side == a.path.startswith("/client/"), a.key
        assert a.templates(), a.key


def test_side_effects_follow_the_rules():
    assert get_action("KLAVIYO_GET_PROFILES").side_effect == "read"
    assert get_action("KLAVIYO_DELETE_LIST").side_effect == "destructive"
    assert get_action("KLAVIYO_CREATE_CAMPAIGN_SEND_JOB").side_effect == "send"
    for key in ("SUBSCRIBE", "UNSUBSCRIBE", "SUPPRESS", "UNSUPPRESS"):
        assert get_action(f"KLAVIYO_{key}_PROFILES").side_effect == "consent"
    assert get_action("KLAVIYO_CREATE_LIST").side_effect == "write"
    assert get_action("KLAVIYO_QUERY_FLOW_VALUES").side_effect == "read"


def test_rate_limits_come_with_their_tier():
    limit = get_action("KLAVIYO_ADD_PROFILE_TO_LIST").rate_limit
    assert (limit.tier, limit.burst, limit.steady, limit.daily) == ("M", 10, 150, None)
    assert get_action("KLAVIYO_CREATE_SEGMENT").rate_limit.daily == 100
    assert get_action("KLAVIYO_GET_PROFILES").rate_limit.tier == "L"
    assert get_action("KLAVIYO_CREATE_EVENT").rate_limit.tier == "XL"
    assert get_action("KLAVIYO_GET_ACCOUNTS").rate_limit.tier == "XS"


def test_pagination_is_flagged():
    assert get_action("KLAVIYO_GET_PROFILES").paginates
    assert not get_action("KLAVIYO_GET_PROFILE").paginates


def test_to_dict_is_json_with_everything_a_listing_needs():
    data = json.loads(json.dumps([a.to_dict() for a in ACTIONS]))
    wanted = {"key", "title", "category", "method", "path", "scopes", "rate_limit"}
    wanted |= {"side_effect", "input_schema", "output_schema"}
    assert all(wanted <= set(entry) for entry in data)
    variants = get_action("KLAVIYO_GET_TAG_RELATIONSHIPS").to_dict()
    assert variants["path"] == "/api/tags/{id}/relationships/{related_resource}"
    assert variants["variants"]["tag-group"]["path"] == "/api/tags/{id}/relationships/tag-group"


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_schemas_are_valid_json_schema_2020_12(action):
    Draft202012Validator.check_schema(action.input_schema)
    Draft202012Validator.check_schema(action.output_schema)
    assert action.output_schema["required"] == ["successful", "error", "data"]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_field_names_are_flat_unique_and_short(action):
    properties = action.input_schema["properties"]
    for name, schema in properties.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", name), name
        assert len(name) <= 64, name
        description = schema.get("description", "")
        assert description and "\n" not in description, name
    assert set(action.required_fields) <= set(properties)
    assert action.input_schema["additionalProperties"] is False


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_every_example_is_valid(action):
    validator = make_validator(action.input_schema)
    assert list(validator.iter_errors(example_input(action))) == []
    assert list(validator.iter_errors(generate_input(action.input_schema))) == []
    for name, schema in action.input_schema["properties"].items():
        field_validator = make_validator(schema)
        for example in schema.get("examples", []):
            assert list(field_validator.iter_errors(example)) == [], name


def test_path_parameters_are_named_after_what_they_identify():
    assert "list_id" in get_action("KLAVIYO_GET_LIST").input_schema["properties"]
    assert "catalog_item_id" in get_action("KLAVIYO_GET_CATALOG_ITEM").required_fields
    assert "job_id" in get_action("KLAVIYO_GET_BULK_PROFILE_IMPORT_JOB_ERRORS").required_fields
    for a in ACTIONS:
        assert "id" not in a.input_schema["properties"], a.key


def test_syntax_fields_carry_an_example():
    for a in ACTIONS:
        for name, schema in a.input_schema["properties"].items():
            syntax = name in ("filter", "sort", "timeframe") or name.startswith("fields_")
            if syntax:
                assert schema.get("examples"), f"{a.key}.{name}"
    catalog_id = get_action("KLAVIYO_GET_CATALOG_ITEM").input_schema["properties"]
    assert catalog_id["catalog_item_id"]["examples"][0].startswith("$custom:::$default:::SAMPLE-")


def test_output_data_is_typed_from_the_answer():
    data = get_action("KLAVIYO_GET_PROFILES").output_schema["properties"]["data"]
    item = data["properties"]["data"]["items"]
    assert item["properties"]["attributes"]["properties"]["email"]["type"] == ["string", "null"]
    single = get_action("KLAVIYO_CREATE_LIST").output_schema["properties"]["data"]
    assert single["properties"]["data"]["properties"]["id"]["type"] == "string"
    empty = get_action("KLAVIYO_DELETE_LIST").output_schema["properties"]["data"]
    assert empty["type"] == "null"


def test_costly_parameters_have_stricter_limits():
    limit = get_action("KLAVIYO_GET_LIST").rate_limit
    assert limit.for_query({}) is limit
    strict = limit.for_query({"additional-fields[list]": "profile_count"})
    assert (strict.tier, strict.burst, strict.steady) == ("XS", 1, 15)
    profile = get_action("KLAVIYO_GET_PROFILE").rate_limit
    assert profile.for_query({"include": "conversations,lists"}).burst == 1


def test_every_example_names_ids_of_its_own():
    # Shared ids would let one action's example delete what another's reads; the two exceptions
    # are fixed for every account (a webhook topic) or replaced by the client (company_id).
    owners: dict[str, set[str]] = {}
    for a in ACTIONS:
        example = example_input(a)
        for name, schema in a.input_schema["properties"].items():
            if not name.endswith(("_id", "_ids")) or name not in example:
                continue
            if schema.get("examples"):
                assert schema["examples"][0] == example[name], f"{a.key}.{name}"
            if name == "company_id":
                continue
            values = example[name] if isinstance(example[name], list) else [example[name]]
            for value in values:
                owners.setdefault(value, set()).add(a.key)
    shared = {value: keys for value, keys in owners.items() if len(keys) > 1}
    assert shared == {
        "event:klaviyo.sent_sms": {"KLAVIYO_CREATE_WEBHOOK", "KLAVIYO_GET_WEBHOOK_TOPIC"}
    }


def test_the_loaded_catalog_is_the_data_files_and_stays_so_after_use():
    """Repeated schema parts are shared between actions: using them must not change them."""
    from integrations.klaviyo.catalog import build_request, validate_params
    from integrations.klaviyo.catalog.registry import DATA_DIR

    for action in ACTIONS:  # what a run does with every action: check an input, build its request
        params = example_input(action)
        validate_params(action, params)
        if not action.composite:
            build_request(action, params)
        generate_input(action.input_schema)
    on_disk = {
        entry["key"]: entry
        for path in sorted(DATA_DIR.glob("*.json"))
        for entry in json.loads(path.read_text(encoding="utf-8"))["actions"]
    }
    for action in ACTIONS:
        assert action.input_schema == on_disk[action.key]["input_schema"], action.key
        assert action.output_schema == on_disk[action.key]["output_schema"], action.key
        assert action.request == on_disk[action.key].get("request"), action.key
