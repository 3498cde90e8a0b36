"""Lists over real HTTP: cursor pagination, filters, sorting, sparse fieldsets, includes."""

from __future__ import annotations

import pytest


@pytest.fixture
def people(api, new_profile):
    """Five profiles with distinct names, ages (a number property) and creation order."""
    rows = [
        ("ada@example.com", "Ada", "Lovelace", 36),
        ("alan@example.com", "Alan", "Turing", 41),
        ("grace@example.org", "Grace", "Hopper", 85),
        ("linus@example.org", "Linus", "Torvalds", 54),
        ("margaret@example.net", "Margaret", "Hamilton", 87),
    ]
    return [
        new_profile(email, first_name=first, last_name=last, properties={"age": age})
        for email, first, last, age in rows
    ]


def test_pages_follow_links_next_to_the_end_honouring_page_size(api, people):
    first = api.get("/api/profiles", params={"page[size]": 2}).json()
    assert len(first["data"]) == 2
    assert "page%5Bcursor%5D=" in first["links"]["next"]
    assert "page%5Bsize%5D=2" in first["links"]["next"]
    seen, pages, document = [], 0, first
    while True:
        pages += 1
        seen += [p["id"] for p in document["data"]]
        if not document["links"].get("next"):
            break
        document = api.get(document["links"]["next"]).json()
    assert pages == 3
    assert seen == [p["id"] for p in people]
    assert "prev" in document["links"]

    assert api.get("/api/profiles", params={"page[size]": 101}).status_code == 400
    assert api.get("/api/lists", params={"page[size]": 11}).status_code == 400  # lists: max 10
    bad_cursor = api.get("/api/profiles", params={"page[cursor]": "not-ours"})
    assert bad_cursor.status_code == 400
    assert bad_cursor.json()["errors"][0]["source"]["parameter"] == "page[cursor]"


def emails(api, expression: str, path: str = "/api/profiles") -> list[str]:
    response = api.get(path, params={"filter": expression})
    assert response.status_code == 200, response.text
    return [p["attributes"]["email"] for p in response.json()["data"]]


def test_each_filter_operator(api, people):
    assert emails(api, "equals(email,'ada@example.com')") == ["ada@example.com"]
    assert emails(api, 'any(email,["ada@example.com","linus@example.org"])') == [
        "ada@example.com",
        "linus@example.org",
    ]
    assert emails(api, f'equals(id,"{people[1]["id"]}")') == ["alan@example.com"]
    tags = api.create("tag", {"name": "Launch"}, path="/api/tags")
    api.create("tag", {"name": "Lunch"}, path="/api/tags")

    def names(expr: str) -> list[str]:
        found = api.get("/api/tags", params={"filter": expr}).json()["data"]
        return [t["attributes"]["name"] for t in found]

    assert names("contains(name,'unc')") == ["Launch", "Lunch"]
    assert names("starts-with(name,'La')") == [tags["attributes"]["name"]]
    assert names("ends-with(name,'nch')") == ["Launch", "Lunch"]


def test_date_time_and_number_comparisons_on_the_demo_store(shop):
    everyone = shop.all("/api/profiles", {"page[size]": 100})
    created = sorted(p["attributes"]["created"] for p in everyone)
    middle = created[len(created) // 2]
    later = shop.all(
        "/api/profiles", {"filter": f"greater-than(created,{middle})", "page[size]": 100}
    )
    assert len(later) == sum(1 for c in created if c > middle) > 0
    earlier = shop.all(
        "/api/profiles", {"filter": f"less-than(created,'{middle}')", "page[size]": 100}
    )
    assert len(earlier) == sum(1 for c in created if c < middle) > 0

    events = shop.all("/api/events", {"page[size]": 1000, "sort": "timestamp"})
    stamps = [e["attributes"]["timestamp"] for e in events]
    assert stamps == sorted(stamps)
    pivot = stamps[len(stamps) // 3]
    at_least = shop.all(
        "/api/events", {"filter": f"greater-or-equal(timestamp,{pivot})", "page[size]": 1000}
    )
    at_most = shop.all(
        "/api/events", {"filter": f"less-or-equal(timestamp,{pivot})", "page[size]": 1000}
    )
    assert len(at_least) == sum(1 for s in stamps if s >= pivot)
    assert len(at_most) == sum(1 for s in stamps if s <= pivot)


def test_numbers_booleans_null_dates_and_and(api, people):
    def segment_names(expr: str) -> list[str]:
        found = api.get("/api/segments", params={"filter": expr}).json()["data"]
        return sorted(p["attributes"]["name"] for p in found)

    segment = {
        "condition_groups": [
            {
                "conditions": [
                    {
                        "type": "profile-property",
                        "property": "properties['age']",
                        "filter": {"type": "numeric", "operator": "greater-than", "value": 50},
                    }
                ]
            }
        ]
    }
    api.create("segment", {"name": "Seniors", "definition": segment, "is_starred": True})
    api.create("segment", {"name": "Everyone", "definition": segment})
    assert segment_names("equals(is_starred,true)") == ["Seniors"]
    assert segment_names("equals(is_starred,false)") == ["Everyone"]
    assert segment_names("and(equals(is_starred,false),equals(name,'Everyone'))") == ["Everyone"]
    assert segment_names("equals(is_starred,false),equals(name,'Seniors')") == []
    assert segment_names("greater-than(created,2000-01-01T00:00:00Z)") == ["Everyone", "Seniors"]

    metrics_filter = "greater-or-equal(timestamp,0),less-or-equal(timestamp,99999999999)"
    assert api.get("/api/events", params={"filter": metrics_filter}).status_code == 200
    assert api.get("/api/events", params={"filter": "equals(profile_id,null)"}).status_code == 200


def test_bad_filters_are_400_with_the_reason(api):
    for expression in (
        "equals(email,'a'",  # unclosed
        "equals(email 'a')",  # no comma
        "nope(email,'a')",  # unknown operator
        "equals(email,unquoted)",  # bare words must be quoted
        "equals(first_name,'Ada')",  # not a filterable field of profiles
        "contains(email,'a')",  # operator not allowed on email
        "greater-than(created,'yesterday')",  # not a date-time
        "and()",
    ):
        response = api.get("/api/profiles", params={"filter": expression})
        assert response.status_code == 400, expression
        error = response.json()["errors"][0]
        assert error["source"]["parameter"] == "filter"
        assert error["detail"]


def test_sort_ascending_and_descending(api, people):
    def ordered(sort: str) -> list[str]:
        found = api.get("/api/profiles", params={"sort": sort}).json()["data"]
        return [p["attributes"]["email"] for p in found]

    by_email = sorted(p["attributes"]["email"] for p in people)
    assert ordered("email") == by_email
    assert ordered("-email") == list(reversed(by_email))
    assert api.get("/api/profiles", params={"sort": "first_name"}).status_code == 400


def test_sparse_fieldsets(api, people):
    params = {"fields[profile]": "email,location.city"}
    person = api.get(f"/api/profiles/{people[0]['id']}", params=params).json()["data"]
    assert person["attributes"] == {"email": "ada@example.com"}
    bad = api.get("/api/profiles", params={"fields[profile]": "shoe_size"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"]["parameter"] == "fields[profile]"


def test_include_adds_related_resources(api, new_profile):
    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"sku": "A1"},
                "value": 12.5,
                "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": "buyer@example.com"}}
                },
            },
        }
    }
    assert api.post("/api/events", event).status_code == 202
    document = api.get("/api/events", params={"include": "metric,profile"}).json()
    [item] = document["data"]
    assert item["attributes"]["event_properties"] == {"sku": "A1", "$value": 12.5}
    metric_id = item["relationships"]["metric"]["data"]["id"]
    included = {(r["type"], r["id"]): r for r in document["included"]}
    assert included[("metric", metric_id)]["attributes"]["name"] == "Placed Order"
    profile_id = item["relationships"]["profile"]["data"]["id"]
    assert included[("profile", profile_id)]["attributes"]["email"] == "buyer@example.com"
    assert api.get("/api/events", params={"include": "coupons"}).status_code == 400

    by_metric = api.get("/api/events", params={"filter": f"equals(metric_id,'{metric_id}')"})
    assert len(by_metric.json()["data"]) == 1


def test_campaigns_require_a_channel_filter_like_klaviyo(api):
    missing = api.get("/api/campaigns")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["source"]["parameter"] == "filter"
    assert (
        api.get("/api/campaigns", params={"filter": "equals(messages.channel,'email')"}).status_code
        == 200
    )
