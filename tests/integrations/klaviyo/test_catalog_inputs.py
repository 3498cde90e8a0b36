"""Input validation, request building and composite actions, without any HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.klaviyo.catalog import (
    InvalidInput,
    KlaviyoRequest,
    NeedsExecute,
    build_request,
    execute,
    get_action,
)
from integrations.klaviyo.catalog.composites import COMPOSITES


class Recorder:
    """A fake `send`: records every request and answers from a small script of Klaviyo data."""

    def __init__(self, known: dict[str, str] | None = None) -> None:
        self.known = known or {}
        self.requests: list[KlaviyoRequest] = []

    def __call__(self, request: KlaviyoRequest) -> Any:
        self.requests.append(request)
        if request.operation_id == "get_profiles":
            return {
                "data": [
                    {"type": "profile", "id": pid, "attributes": {"email": email}}
                    for email, pid in self.known.items()
                    if f'"{email}"' in request.query["filter"]
                ]
            }
        if request.operation_id == "create_or_update_profile":
            email = request.body["data"]["attributes"]["email"]
            return {"data": {"type": "profile", "id": f"new-{email}", "attributes": {}}}
        return None

    def operations(self) -> list[str]:
        return [r.operation_id for r in self.requests]


def never_send(request: KlaviyoRequest) -> Any:
    raise AssertionError(f"nothing should be sent, but {request.method} {request.path} was")


def errors_of(key: str, params: dict[str, Any]) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as caught:
        execute(key, params, never_send)
    return caught.value.errors


def test_a_bad_email_is_reported_at_its_position():
    emails = ["a@example.com", "b@example.com", "c@example.com", "bob@"]
    errors = errors_of("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1", "emails": emails})
    assert errors == {"emails[3]": ["'bob@' is not a valid email"]}


@pytest.mark.parametrize(
    "email", ["bob@", "@example.com", "bob@example", "bob..smith@example.com", "bob smith@x.com"]
)
def test_emails_are_really_checked(email):
    assert "email" in errors_of("KLAVIYO_CREATE_PROFILE", {"email": email})


def test_a_missing_required_field_is_named():
    errors = errors_of("KLAVIYO_GET_LIST", {})
    assert errors == {"list_id": ["this field is required"]}


def test_a_wrong_type_is_explained():
    errors = errors_of("KLAVIYO_GET_PROFILES", {"page_size": "ten"})
    assert errors == {"page_size": ["expected integer, got string 'ten'"]}


def test_too_many_items_are_refused():
    profile_ids = [f"P{i}" for i in range(1001)]
    errors = errors_of("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1", "profile_ids": profile_ids})
    assert errors == {"profile_ids": ["too many items: 1001 (at most 1000)"]}


def test_unknown_fields_and_bad_choices_are_refused():
    errors = errors_of("KLAVIYO_GET_PROFILES", {"sort": "age", "colour": "red"})
    assert errors["colour"] == ["unknown field"]
    assert errors["sort"][0].startswith("'age' is not one of")


def test_either_emails_or_profile_ids_is_needed():
    errors = errors_of("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1"})
    assert errors == {"": ["provide one of: profile_ids, emails"]}


def test_a_shaped_id_is_checked():
    errors = errors_of("KLAVIYO_GET_CATALOG_ITEM", {"catalog_item_id": "SKU-1"})
    assert "does not have the expected shape" in errors["catalog_item_id"][0]


def test_invalid_input_reads_well_as_text():
    with pytest.raises(InvalidInput) as caught:
        build_request("KLAVIYO_GET_PROFILES", {"page_size": 0, "include": ["nope"]})
    text = str(caught.value)
    assert text.startswith("Invalid input for KLAVIYO_GET_PROFILES: ")
    assert "page_size" in text and "include[0]" in text
    assert {item["field"] for item in caught.value.as_list()} == {"page_size", "include[0]"}


def test_params_must_be_an_object():
    with pytest.raises(InvalidInput):
        build_request("KLAVIYO_GET_PROFILES", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_query_parameters_use_klaviyos_names():
    request = build_request(
        "KLAVIYO_GET_PROFILES",
        {
            "fields_profile": ["email", "first_name"],
            "page_size": 50,
            "page_cursor": "abc",
            "filter": 'equals(email,"a@example.com")',
        },
    )
    assert request.method == "GET" and request.path == "/api/profiles"
    assert request.query == {
        "fields[profile]": "email,first_name",
        "page[size]": "50",
        "page[cursor]": "abc",
        "filter": 'equals(email,"a@example.com")',
    }
    assert request.body is None and not request.client_side


def test_body_fields_flatten_json_api():
    request = build_request(
        "KLAVIYO_CREATE_EVENT",
        {
            "metric_name": "Placed Order",
            "email": "alice@example.com",
            "value": 9.99,
            "location": {"city": "Boston"},
        },
    )
    attributes = request.body["data"]["attributes"]
    assert request.body["data"]["type"] == "event"
    assert attributes["metric"] == {
        "data": {"type": "metric", "attributes": {"name": "Placed Order"}}
    }
    assert attributes["profile"]["data"] == {
        "type": "profile",
        "attributes": {"email": "alice@example.com", "location": {"city": "Boston"}},
    }
    assert attributes["properties"] == {}  # Klaviyo requires it; the seed promises a default


def test_relationships_become_ids():
    request = build_request(
        "KLAVIYO_CREATE_CATALOG_VARIANT",
        {
            "external_id": "V1",
            "title": "Blue",
            "description": "A blue one",
            "sku": "SKU-1",
            "inventory_quantity": 5,
            "price": 10,
            "url": "https://example.com/v1",
            "item_id": "$custom:::$default:::I1",
        },
    )
    relationships = request.body["data"]["relationships"]
    assert relationships == {
        "item": {"data": {"type": "catalog-item", "id": "$custom:::$default:::I1"}}
    }


def test_nested_lists_of_resources_are_flat_objects():
    request = build_request(
        "KLAVIYO_SPAWN_CREATE_VARIANTS_JOB",
        {
            "variants": [
                {
                    "external_id": "V1",
                    "title": "Blue",
                    "description": "A blue one",
                    "sku": "SKU-1",
                    "inventory_quantity": 5,
                    "price": 10,
                    "url": "https://example.com/v1",
                    "item_id": "$custom:::$default:::I1",
                }
            ]
        },
    )
    (variant,) = request.body["data"]["attributes"]["variants"]["data"]
    assert variant["type"] == "catalog-variant"
    assert variant["attributes"]["sku"] == "SKU-1"
    assert variant["relationships"]["item"]["data"]["type"] == "catalog-item"


def test_the_composite_registry_is_a_plain_dict():
    assert set(COMPOSITES) == {"add_profiles_to_list", "remove_profiles_from_list", "get_account"}
    assert get_action("KLAVIYO_ADD_PROFILE_TO_LIST").composite == "add_profiles_to_list"


def test_adding_by_profile_id_is_one_plain_request():
    request = build_request("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1", "profile_ids": ["P1"]})
    assert (request.method, request.path) == ("POST", "/api/lists/L1/relationships/profiles")
    assert request.body == {"data": [{"type": "profile", "id": "P1"}]}


def test_adding_by_email_needs_execute():
    with pytest.raises(NeedsExecute):
        build_request("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1", "emails": ["a@example.com"]})


def test_adding_by_email_looks_up_creates_then_posts():
    send = Recorder(known={"known@example.com": "P7"})
    data = execute(
        "KLAVIYO_ADD_PROFILE_TO_LIST",
        {
            "list_id": "L1",
            "emails": ["known@example.com", "New@Example.com"],
            "profile_ids": ["P1"],
        },
        send,
    )
    assert send.operations() == ["get_profiles", "create_or_update_profile", "add_profiles_to_list"]
    lookup, create, post = send.requests
    assert lookup.query["filter"] == 'any(email,["known@example.com","new@example.com"])'
    assert create.body["data"]["attributes"] == {"email": "new@example.com"}
    assert post.body["data"] == [
        {"type": "profile", "id": "P1"},
        {"type": "profile", "id": "P7"},
        {"type": "profile", "id": "new-new@example.com"},
    ]
    assert data == {
        "list_id": "L1",
        "profile_ids": ["P1", "P7", "new-new@example.com"],
        "created_profile_ids": ["new-new@example.com"],
    }


def test_lookups_go_100_emails_at_a_time():
    emails = [f"user{i}@example.com" for i in range(250)]
    send = Recorder(known={email: f"P{i}" for i, email in enumerate(emails)})
    execute("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": "L1", "emails": emails}, send)
    assert send.operations() == ["get_profiles"] * 3 + ["add_profiles_to_list"]
    assert len(send.requests[-1].body["data"]) == 250


def test_removing_by_email_skips_unknown_emails_and_creates_nothing():
    send = Recorder(known={"known@example.com": "P7"})
    data = execute(
        "KLAVIYO_REMOVE_PROFILE_FROM_LIST",
        {"list_id": "L1", "emails": ["known@example.com", "gone@example.com"]},
        send,
    )
    assert send.operations() == ["get_profiles", "remove_profiles_from_list"]
    assert send.requests[-1].method == "DELETE"
    assert send.requests[-1].body == {"data": [{"type": "profile", "id": "P7"}]}
    assert data["not_found_emails"] == ["gone@example.com"]


def test_removing_unknown_emails_only_sends_nothing_destructive():
    send = Recorder()
    data = execute(
        "KLAVIYO_REMOVE_PROFILE_FROM_LIST", {"list_id": "L1", "emails": ["x@example.com"]}, send
    )
    assert send.operations() == ["get_profiles"]
    assert data["profile_ids"] == []


def test_execute_returns_the_answer_of_a_plain_action():
    answer = {"data": {"type": "list", "id": "L9", "attributes": {"name": "VIP"}}}
    data = execute("KLAVIYO_CREATE_LIST", {"name": "VIP"}, lambda request: answer)
    assert data["data"]["id"] == "L9"


@pytest.mark.parametrize(
    "moment", ["2025-06-01T09:30:00", "2025-06-01T09:30:00Z", "2025-06-01T09:30:00.250+02:00"]
)
def test_a_date_time_needs_no_utc_offset(moment):
    """Klaviyo reads an offset-less time as UTC; refusing it would refuse valid input."""
    params = {"email": "a@example.com", "metric_name": "Viewed Product", "time": moment}
    request = build_request("KLAVIYO_CREATE_EVENT", params)
    assert request.body["data"]["attributes"]["time"] == moment


@pytest.mark.parametrize("moment", ["2025-06-01", "2025-13-01T09:30:00", "June 1st", "09:30"])
def test_a_date_time_must_still_be_one(moment):
    params = {"email": "a@example.com", "metric_name": "Viewed Product", "time": moment}
    with pytest.raises(InvalidInput) as refused:
        build_request("KLAVIYO_CREATE_EVENT", params)
    assert refused.value.errors == {"time": [f"{moment!r} is not a valid date-time"]}


@pytest.mark.parametrize(
    ("image", "valid"),
    [
        ("https://example.com/a.png", True),
        ("data:image/png;base64,iVBORw0KGgo=", True),
        ("https://", False),
        ("example.com/a.png", False),
    ],
)
def test_image_uris_are_checked_by_a_uri_checker(image, valid):
    params = {"email": "a@example.com", "metric_name": "Viewed Product", "image": image}
    if valid:
        build_request("KLAVIYO_CREATE_EVENT", params)
    else:
        with pytest.raises(InvalidInput):
            build_request("KLAVIYO_CREATE_EVENT", params)
