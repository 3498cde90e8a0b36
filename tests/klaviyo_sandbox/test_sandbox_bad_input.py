"""Hostile input to the sandbox API is a 400 in Klaviyo's error format, never a 500: deep
nesting, huge numbers, overflowing cursors, NUL characters and lone surrogates (PostgreSQL refuses
them), ids too long for their column, date-times outside the UTC calendar, and values stored as
given that later reads compute with. (OAuth: test_sandbox_oauth_bad_input.py.)

These go through Django's test client (no live server), so they are quick and run on whichever
database the suite runs on; run them on PostgreSQL too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from integrations.klaviyo_sandbox.api.query import MAX_OFFSET
from integrations.klaviyo_sandbox.services import sandbox_account_create

REVISION = "2026-07-15"
JSON_API = "application/vnd.api+json"

Send = Callable[..., Any]


@pytest.fixture
def send(db) -> Send:
    """Return `send(method, path, query=None, body=None)` calling the sandbox API with a key.

    `body` is sent as given when it is text, else as JSON. Answers are never raised: a server
    error is a 500 response, so the tests can say what they got.
    """
    _, key = sandbox_account_create(name="Hostile Input Store", seed=False)
    client = Client(
        raise_request_exception=False,
        headers={"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION},
    )

    def call(method: str, path: str, query: dict[str, str] | None = None, body: Any = None):
        url = f"/sandbox/klaviyo{path}" + (f"?{urlencode(query)}" if query else "")
        if body is None:
            return client.generic(method, url)
        data = body if isinstance(body, str) else json.dumps(body)
        # surrogatepass: a test may send a lone surrogate, as a broken client could
        return client.generic(
            method, url, data=data.encode("utf-8", "surrogatepass"), content_type=JSON_API
        )

    return call


ANY_PATH = object()


def refused(response: Any, **source: Any) -> dict[str, Any]:
    """Assert the answer is Klaviyo's 400 `invalid` naming `source`; return the error.

    `source` names the parameter or pointer; ANY_PATH accepts any value of it.
    """
    assert response.status_code == 400, response.content[:500]
    [error] = response.json()["errors"]
    assert error["code"] == "invalid"
    assert error["source"].keys() == source.keys()
    for key, value in source.items():
        assert value is ANY_PATH or error["source"][key] == value, error
    return error


@pytest.mark.parametrize(
    "text",
    [
        "not(" * 2000 + "equals(email,'a@example.com')" + ")" * 2000,
        "any(email," + "[" * 2000 + "'a@example.com'" + "]" * 2000 + ")",
    ],
    ids=["not", "lists"],
)
def test_a_filter_nested_2000_deep_is_a_400(send, text):
    error = refused(send("GET", "/api/profiles", {"filter": text}), parameter="filter")
    assert "nested more than 32 levels" in error["detail"]


def test_a_5000_digit_number_in_a_filter_is_a_400(send):
    answer = send("GET", "/api/profiles", {"filter": f"greater-than(created,{'9' * 5000})"})
    assert "out of range" in refused(answer, parameter="filter")["detail"]


def cursor_for(offset: Any) -> str:
    """Return a page cursor in the sandbox's format for any offset (even one it never issues)."""
    raw = json.dumps({"o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("offset", [2**31, 2**63 - 1, 10**30, -1, 1.5, "7"])
def test_a_page_cursor_past_what_a_database_integer_holds_is_a_400(send, offset):
    answer = send("GET", "/api/profiles", {"page[cursor]": cursor_for(offset)})
    assert refused(answer, parameter="page[cursor]")["detail"] == "Invalid page cursor."


@pytest.mark.parametrize("decoded", [b"[" * 5000, b"\xff\xfe", b'{"o": 1e999}'])
def test_a_page_cursor_that_decodes_to_hostile_json_is_a_400(send, decoded):
    cursor = base64.urlsafe_b64encode(decoded).decode()
    refused(send("GET", "/api/profiles", {"page[cursor]": cursor}), parameter="page[cursor]")


def test_the_largest_cursor_still_pages(send):
    answer = send("GET", "/api/profiles", {"page[cursor]": cursor_for(MAX_OFFSET)})
    assert answer.status_code == 200
    assert answer.json()["data"] == []


def profile(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": {"email": "ada@example.com", **attributes}}}


def test_a_body_nested_5000_deep_is_a_400(send):
    answer = send("POST", "/api/profiles", body="[" * 5000 + "]" * 5000)
    assert "nested more than 64 levels" in refused(answer, pointer="/")["detail"]


def test_a_member_nested_past_64_levels_is_a_400_naming_it(send):
    deep: Any = "bottom"
    for _ in range(70):
        deep = {"x": deep}
    error = refused(send("POST", "/api/profiles", body=profile(properties=deep)), pointer=ANY_PATH)
    assert error["source"]["pointer"].startswith("/data/attributes/properties/x/x/")


def test_free_form_members_may_nest_deeply_within_the_limit(send):
    deep: Any = "bottom"
    for _ in range(50):
        deep = {"x": deep}
    assert send("POST", "/api/profiles", body=profile(properties=deep)).status_code == 201


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({"first_name": "a\x00b"}, "/data/attributes/first_name"),
        ({"properties": {"tags": ["ok", "a\x00b"]}}, "/data/attributes/properties/tags/1"),
        ({"properties": {"a\x00b": 1}}, "/data/attributes/properties/a\x00b"),
    ],
    ids=["string", "list item", "member name"],
)
def test_nul_anywhere_in_a_body_is_a_400_naming_the_member(send, attributes, pointer):
    error = refused(send("POST", "/api/profiles", body=profile(**attributes)), pointer=pointer)
    assert "NUL" in error["detail"]


def test_a_lone_surrogate_in_a_body_is_a_400(send):
    body = json.dumps(profile(first_name="PLACEHOLDER")).replace("PLACEHOLDER", "\\ud800")
    answer = send("POST", "/api/profiles", body=body)
    assert "surrogate" in refused(answer, pointer="/data/attributes/first_name")["detail"]


@pytest.mark.parametrize(
    "number",
    ["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, "2" * 20],
    ids=["NaN", "Infinity", "-Infinity", "1e400", "5000 digits", "20 digits"],
)
def test_numbers_no_database_column_holds_are_a_400(send, number):
    body = json.dumps(profile(properties={"n": 0})).replace('"n": 0', f'"n": {number}')
    error = refused(send("POST", "/api/profiles", body=body), pointer="/")
    assert error["detail"].startswith("The request body is not accepted: ")


def test_the_largest_numbers_are_stored(send):
    properties = {"big": 2**63 - 1, "small": -(2**63), "huge": 1.5e308}
    answer = send("POST", "/api/profiles", body=profile(properties=properties))
    assert answer.status_code == 201, answer.content
    assert answer.json()["data"]["attributes"]["properties"] == properties


def test_nul_in_a_path_parameter_is_a_400(send):
    refused(send("GET", "/api/profiles/a%00b"), parameter="id")


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/profiles", {"filter": "equals(email,'a\x00b')"}),
        ("/api/profiles", {"sort\x00": "email"}),
        ("/client/subscriptions", {"company_id": "AbC\x00"}),
    ],
    ids=["filter", "name", "company_id"],
)
def test_nul_in_a_query_parameter_is_a_400(send, path, query):
    name = next(iter(query))
    refused(send("GET" if path.startswith("/api") else "POST", path, query), parameter=name)


def test_more_query_parameters_than_django_takes_is_a_400(send):
    query = {f"fields[x{i}]": "y" for i in range(1001)}
    answer = send("GET", "/api/profiles", query)
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["code"] == "invalid"


def test_nul_in_a_media_url_is_a_404(db):
    answer = Client(raise_request_exception=False).get("/sandbox/klaviyo/media/AB%00C/1")
    assert answer.status_code == 404


# -- Ids made from the body: a resource id column holds 255 characters ------------------------

LONG = "X" * 300


def catalog_item(external_id: str) -> dict[str, Any]:
    attributes = {
        "external_id": external_id,
        "title": "Mug",
        "description": "A mug.",
        "url": "https://shop.example.com/mug",
    }
    return {"type": "catalog-item", "attributes": attributes}


def test_an_external_id_too_long_for_an_id_is_a_400(send):
    answer = send("POST", "/api/catalog-items", body={"data": catalog_item(LONG)})
    error = refused(answer, pointer="/data/attributes/external_id")
    assert "at most 255 characters" in error["detail"]
    coupon = {"data": {"type": "coupon", "attributes": {"external_id": LONG}}}
    refused(send("POST", "/api/coupons", body=coupon), pointer="/data/attributes/external_id")


def test_a_bulk_job_reports_an_external_id_too_long_as_a_failed_entry(send, settings):
    settings.KLAVIYO_SANDBOX_JOB_SECONDS = 0  # complete at once, with its errors
    entries = [catalog_item("MUG-1"), catalog_item(LONG)]
    body = {
        "data": {
            "type": "catalog-item-bulk-create-job",
            "attributes": {"items": {"data": entries}},
        }
    }
    answer = send("POST", "/api/catalog-item-bulk-create-jobs", body=body)
    assert answer.status_code == 202, answer.content
    job = send("GET", f"/api/catalog-item-bulk-create-jobs/{answer.json()['data']['id']}")
    attributes = job.json()["data"]["attributes"]
    assert (attributes["total_count"], attributes["failed_count"]) == (2, 1)
    [failure] = attributes["errors"]
    assert failure["source"]["pointer"] == "/data/attributes/items/data/1/attributes/external_id"


def test_a_coupon_code_too_long_for_an_id_is_a_400(send):
    coupon = {"data": {"type": "coupon", "attributes": {"external_id": "SAVE5"}}}
    assert send("POST", "/api/coupons", body=coupon).status_code == 201
    code = {
        "data": {
            "type": "coupon-code",
            "attributes": {"unique_code": LONG},
            "relationships": {"coupon": {"data": {"type": "coupon", "id": "SAVE5"}}},
        }
    }
    answer = send("POST", "/api/coupon-codes", body=code)
    refused(answer, pointer="/data/attributes/unique_code")


# -- Date-times past the ends of the UTC calendar (years 1 to 9999) ---------------------------

OUTSIDE_UTC = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]


def event(**attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                "profile": {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}},
                "properties": {},
                **attributes,
            },
        }
    }


@pytest.mark.parametrize("moment", OUTSIDE_UTC)
def test_a_date_time_outside_the_utc_calendar_is_a_400(send, moment):
    answer = send("POST", "/api/events", body=event(time=moment))
    assert "not a valid date-time" in refused(answer, pointer="/data/attributes/time")["detail"]


@pytest.mark.parametrize("moment", OUTSIDE_UTC)
def test_a_filter_date_time_outside_the_utc_calendar_is_a_400(send, moment):
    answer = send("GET", "/api/profiles", {"filter": f"greater-than(created,{moment})"})
    assert "not a valid date-time" in refused(answer, parameter="filter")["detail"]


def test_the_ends_of_the_calendar_are_date_times(send):
    for moment in ("0001-01-01T00:00:00", "9999-12-31T23:59:59+00:00"):
        assert send("POST", "/api/events", body=event(time=moment)).status_code == 202


# -- Values stored as given and computed with later -------------------------------------------


@pytest.mark.parametrize("value", ["abc", [1], {"amount": 1}, True], ids=repr)
def test_a_non_numeric_event_value_counts_as_zero_in_reports(send, value):
    answer = send("POST", "/api/events", body=event(properties={"$value": value}))
    assert answer.status_code == 202, answer.content
    ada = send("GET", "/api/profiles", {"additional-fields[profile]": "predictive_analytics"})
    assert ada.status_code == 200, ada.content
    analytics = ada.json()["data"][0]["attributes"]["predictive_analytics"]
    assert analytics["historic_clv"] == 0
    [metric] = send("GET", "/api/metrics").json()["data"]
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": metric["id"],
                "measurements": ["sum_value", "count"],
                "interval": "month",
                "filter": [
                    "greater-or-equal(datetime,2026-01-01T00:00:00)",
                    "less-than(datetime,2027-01-01T00:00:00)",
                ],
            },
        }
    }
    report = send("POST", "/api/metric-aggregates", body=body)
    assert report.status_code == 200, report.content
    [row] = report.json()["data"]["attributes"]["data"]
    assert sum(row["measurements"]["count"]) == 1
    assert sum(row["measurements"]["sum_value"]) == 0


def segment_with(condition: dict[str, Any]) -> dict[str, Any]:
    definition = {"condition_groups": [{"conditions": [condition]}]}
    return {"data": {"type": "segment", "attributes": {"name": "Edge", "definition": definition}}}


@pytest.mark.parametrize("operator", ["in-the-last", "at-least"])
def test_a_segment_over_more_weeks_than_the_calendar_holds_still_answers(send, operator):
    moment = {"type": "date", "operator": operator, "unit": "week", "quantity": 2**62}
    condition = {"type": "profile-property", "property": "properties['joined']", "filter": moment}
    joined = profile(properties={"joined": "2024-05-01T00:00:00"})
    assert send("POST", "/api/profiles", body=joined).status_code == 201
    created = send("POST", "/api/segments", body=segment_with(condition))
    assert created.status_code == 201, created.content
    members = send("GET", f"/api/segments/{created.json()['data']['id']}/profiles")
    assert members.status_code == 200, members.content
    # in the last 2**62 weeks: always; at least 2**62 weeks ago: never
    assert len(members.json()["data"]) == (1 if operator == "in-the-last" else 0)


@pytest.mark.parametrize("index", ["9" * 5000, "²"], ids=["5000 digits", "superscript two"])
def test_a_template_variable_with_a_strange_list_index_renders_empty(send, index):
    html = f"<p>{{{{ items.{index} }}}}!</p>"
    template = {
        "data": {
            "type": "template",
            "attributes": {"name": "T", "editor_type": "CODE", "html": html},
        }
    }
    created = send("POST", "/api/templates", body=template)
    assert created.status_code == 201, created.content
    render = {
        "data": {
            "type": "template",
            "id": created.json()["data"]["id"],
            "attributes": {"context": {"items": ["a", "b"]}},
        }
    }
    answer = send("POST", "/api/template-render", body=render)
    assert answer.status_code == 201, answer.content
    assert answer.json()["data"]["attributes"]["html"] == "<p>!</p>"


@pytest.mark.parametrize("interval", ["hour", "day", "week", "month"])
def test_a_report_at_the_end_of_the_calendar_is_a_400(send, interval):
    send("POST", "/api/events", body=event(properties={}))
    [metric] = send("GET", "/api/metrics").json()["data"]
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": metric["id"],
                "measurements": ["count"],
                "interval": interval,
                "timezone": "Pacific/Kiritimati",
                "filter": [
                    "greater-or-equal(datetime,9999-12-30T00:00:00)",
                    "less-than(datetime,9999-12-31T23:59:59)",
                ],
            },
        }
    }
    answer = send("POST", "/api/metric-aggregates", body=body)
    assert "outside" in refused(answer, pointer="/data/attributes/filter")["detail"]
