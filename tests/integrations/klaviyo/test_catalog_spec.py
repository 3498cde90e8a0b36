"""Every action's requests match Klaviyo's official OpenAPI spec (read from ../shared).

For each action, a minimal input generated from its published input schema must build requests
whose path is the mapped spec operation and whose query and body validate against the spec.
Skipped, with the reason, when ../shared is not there (the app itself never needs it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from integrations.klaviyo.catalog import (
    KlaviyoRequest,
    all_actions,
    build_request,
    example_input,
    execute,
    get_action,
)
from integrations.klaviyo.catalog.examples import filled_value
from integrations.klaviyo.catalog.generate.spec import Spec
from integrations.klaviyo.catalog.generate.speccheck import SpecChecker, filter_problems

SHARED = Path(settings.BASE_DIR).parent / "shared"
SPEC_FILE = SHARED / "klaviyo" / "openapi-stable.json"
ACTIONS = list(all_actions().values())
# Klaviyo's spec lists these as `oneOf` branches that accept the same objects, so no value can
# ever validate strictly; Klaviyo itself accepts them. Fully filled inputs skip them.
AMBIGUOUS_IN_SPEC = {"send_options", "tracking_options"}

pytestmark = pytest.mark.skipif(
    not SPEC_FILE.exists(), reason=f"Klaviyo's OpenAPI spec is not at {SPEC_FILE}"
)


@pytest.fixture(scope="module")
def checker() -> SpecChecker:
    return SpecChecker(Spec.load(SPEC_FILE))


def plausible_answer(request: KlaviyoRequest) -> Any:
    """Answer like Klaviyo would, enough for composite handlers to carry on."""
    if request.operation_id == "get_profiles":
        filter_text = request.query.get("filter", "")
        emails = [part.strip('"[])') for part in filter_text.split(",")[1:]]
        return {
            "data": [
                {"type": "profile", "id": f"P{i}", "attributes": {"email": email}}
                for i, email in enumerate(emails)
                if email.startswith("known")
            ]
        }
    if request.operation_id == "create_or_update_profile":
        return {"data": {"type": "profile", "id": "NEW1", "attributes": {}}}
    return None if request.method == "DELETE" else {"data": []}


def sent_requests(action_key: str, params: dict[str, Any]) -> list[KlaviyoRequest]:
    sent: list[KlaviyoRequest] = []

    def send(request: KlaviyoRequest) -> Any:
        sent.append(request)
        return plausible_answer(request)

    execute(action_key, params, send)
    return sent


def variant_inputs(action) -> list[dict[str, Any]]:
    base = example_input(action)
    if not action.variant_field:
        return [base]
    return [{**base, action.variant_field: value} for value in action.variants]


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_the_minimal_input_builds_requests_the_spec_accepts(action, checker):
    for params in variant_inputs(action):
        requests = sent_requests(action.key, params)
        assert requests, action.key
        for request in requests:
            assert "{" not in request.path, request.path
            problems = checker.problems(request)
            assert problems == [], f"{action.key} {params}: {problems}"
        if not action.composite:
            (request,) = requests
            assert request.operation_id in action.operation_ids
            assert checker.operation_for(request.method, request.path).operation_id == (
                request.operation_id
            )


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: a.key)
def test_a_fully_filled_input_builds_requests_the_spec_accepts(action, checker):
    properties = action.input_schema["properties"]
    params = {
        name: filled_value(schema)
        for name, schema in properties.items()
        if name not in AMBIGUOUS_IN_SPEC and name != action.variant_field
    }
    values = properties[action.variant_field]["enum"] if action.variant_field else [None]
    for value in values:
        if value is not None:
            params[action.variant_field] = value
        for request in sent_requests(action.key, params):
            assert checker.problems(request) == [], action.key


@pytest.mark.parametrize("key", ["KLAVIYO_ADD_PROFILE_TO_LIST", "KLAVIYO_REMOVE_PROFILE_FROM_LIST"])
def test_every_request_of_a_composite_action_is_valid(key, checker):
    emails = ["known@example.com", "new@example.com"]
    params = {"list_id": "Y6nRLr", "emails": emails, "profile_ids": ["01GDDKASAP8TKDDA2GRZDSVP4H"]}
    requests = sent_requests(key, params)
    expected = {
        "KLAVIYO_ADD_PROFILE_TO_LIST": [
            "get_profiles",
            "create_or_update_profile",
            "add_profiles_to_list",
        ],
        "KLAVIYO_REMOVE_PROFILE_FROM_LIST": ["get_profiles", "remove_profiles_from_list"],
    }[key]
    assert [r.operation_id for r in requests] == expected
    for request in requests:
        assert checker.problems(request, [request.operation_id]) == []
    assert len(requests[-1].body["data"]) == (3 if key == "KLAVIYO_ADD_PROFILE_TO_LIST" else 2)


def test_path_parameters_are_url_quoted(checker):
    request = build_request(
        "KLAVIYO_GET_CATALOG_ITEM", {"catalog_item_id": "$custom:::$default:::SKU 1"}
    )
    assert request.path == "/api/catalog-items/%24custom%3A%3A%3A%24default%3A%3A%3ASKU%201"
    assert checker.problems(request) == []


def test_the_campaign_channel_and_an_extra_filter_combine(checker):
    request = build_request(
        "KLAVIYO_GET_CAMPAIGNS", {"channel": "sms", "filter": 'equals(status,"Draft")'}
    )
    assert request.query["filter"] == 'equals(messages.channel,"sms"),equals(status,"Draft")'
    assert checker.problems(request) == []


def test_the_metric_aggregate_timeframe_becomes_filters(checker):
    request = build_request(
        "KLAVIYO_QUERY_METRIC_AGGREGATES",
        {
            "metric_id": "Vatr8j",
            "measurements": ["count"],
            "timeframe": {"start": "2025-01-01T00:00:00Z", "end": "2025-02-01T00:00:00Z"},
        },
    )
    assert request.body["data"]["attributes"]["filter"] == [
        "greater-or-equal(datetime,2025-01-01T00:00:00Z)",
        "less-than(datetime,2025-02-01T00:00:00Z)",
    ]
    assert checker.problems(request) == []


def test_unsubscribing_plain_emails_builds_profile_objects(checker):
    request = build_request(
        "KLAVIYO_UNSUBSCRIBE_PROFILES_BULK",
        {"list_id": "Y6nRLr", "emails": ["a@example.com", "b@example.com"]},
    )
    profiles = request.body["data"]["attributes"]["profiles"]["data"]
    assert [p["attributes"]["email"] for p in profiles] == ["a@example.com", "b@example.com"]
    assert profiles[0]["type"] == "profile"
    assert request.body["data"]["relationships"]["list"]["data"] == {"type": "list", "id": "Y6nRLr"}
    assert checker.problems(request) == []


def test_a_related_resource_picks_the_operation(checker):
    request = build_request(
        "KLAVIYO_CREATE_TAG_RELATIONSHIPS",
        {"tag_id": "T1", "related_resource": "flows", "resource_ids": ["F1", "F2"]},
    )
    assert request.path == "/api/tags/T1/relationships/flows"
    assert request.body == {"data": [{"type": "flow", "id": "F1"}, {"type": "flow", "id": "F2"}]}
    assert checker.problems(request, ["tag_flows"]) == []


def test_patch_bodies_repeat_the_path_id(checker):
    request = build_request("KLAVIYO_UPDATE_LIST", {"list_id": "Y6nRLr", "name": "VIP"})
    assert request.body == {"data": {"type": "list", "id": "Y6nRLr", "attributes": {"name": "VIP"}}}
    assert checker.problems(request) == []


def test_client_side_requests_are_flagged(checker):
    action = get_action("KLAVIYO_CREATE_CLIENT_SUBSCRIPTION")
    request = build_request(action, example_input(action))
    assert request.client_side and request.query["company_id"]
    assert checker.problems(request) == []


def test_image_upload_is_multipart(checker):
    action = get_action("KLAVIYO_UPLOAD_IMAGE_FROM_FILE")
    request = build_request(action, {**example_input(action), "name": "logo"})
    assert request.body is None and request.form == {"name": "logo"}
    assert request.files["file"].content.startswith(b"\x89PNG")
    assert request.files["file"].content_type == "image/png"
    assert checker.problems(request) == []


def test_the_filter_checker_rejects_implausible_filters():
    allowed = {"email": {"operators": {"single": ["equals"], "list": ["any"]}}}
    assert filter_problems('equals(email,"a@example.com")', allowed) == []
    assert filter_problems('any(email,["a@example.com"])', allowed) == []
    assert filter_problems("equals(name,'x')", allowed)
    assert filter_problems("email = x", allowed)
    assert filter_problems('less-than(email,"x")', allowed)
