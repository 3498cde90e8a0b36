"""Profiles over real HTTP: round trips, list membership, duplicates, validation, upserts."""

from __future__ import annotations

from typing import Any


def profile_body(email: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": {"email": email, **attributes}}}


def members(api, list_id: str) -> list[str]:
    return [p["id"] for p in api.all(f"/api/lists/{list_id}/profiles")]


def test_a_profile_round_trips_through_a_list(api, new_profile):
    profile = new_profile("ada@example.com", first_name="Ada", properties={"plan": "pro"})
    fetched = api.get(f"/api/profiles/{profile['id']}").json()["data"]
    assert fetched["attributes"]["first_name"] == "Ada"
    assert fetched["attributes"]["properties"] == {"plan": "pro"}
    assert len(profile["id"]) == 26  # a ULID, like Klaviyo's profile ids

    newsletter = api.create("list", {"name": "Newsletter"})
    added = api.post(
        f"/api/lists/{newsletter['id']}/relationships/profiles",
        {"data": [{"type": "profile", "id": profile["id"]}]},
    )
    assert added.status_code == 204
    assert added.content == b""
    assert members(api, newsletter["id"]) == [profile["id"]]
    lists = api.get(f"/api/profiles/{profile['id']}/lists").json()["data"]
    assert [item["id"] for item in lists] == [newsletter["id"]]
    ids = api.get(f"/api/lists/{newsletter['id']}/relationships/profiles").json()["data"]
    assert ids == [{"type": "profile", "id": profile["id"]}]

    removed = api.delete(
        f"/api/lists/{newsletter['id']}/relationships/profiles",
        {"data": [{"type": "profile", "id": profile["id"]}]},
    )
    assert removed.status_code == 204
    assert members(api, newsletter["id"]) == []


def test_a_duplicate_identifier_is_409_with_the_existing_profile_id(api, new_profile):
    first = new_profile("grace@example.com")
    again = api.post("/api/profiles", profile_body("Grace@Example.com"))
    assert again.status_code == 409
    error = again.json()["errors"][0]
    assert error["code"] == "duplicate_profile"
    assert error["status"] == 409
    assert error["meta"]["duplicate_profile_id"] == first["id"]

    other = new_profile("linus@example.com", external_id="X-1")
    patched = api.patch(
        f"/api/profiles/{other['id']}",
        {
            "data": {
                "type": "profile",
                "id": other["id"],
                "attributes": {"email": "grace@example.com"},
            }
        },
    )
    assert patched.status_code == 409
    assert patched.json()["errors"][0]["meta"]["duplicate_profile_id"] == first["id"]


def test_bodies_are_validated_with_a_pointer_to_the_member(api):
    wrong_type = api.post(
        "/api/profiles", {"data": {"type": "profile", "attributes": {"email": 42}}}
    )
    assert wrong_type.status_code == 400
    error = wrong_type.json()["errors"][0]
    assert error["source"]["pointer"] == "/data/attributes/email"
    assert "not of type" in error["detail"]

    missing = api.post("/api/lists", {"data": {"type": "list", "attributes": {}}})
    assert missing.json()["errors"][0]["source"]["pointer"] == "/data/attributes/name"

    bad_email = api.post("/api/profiles", profile_body("not-an-email"))
    assert bad_email.status_code == 400
    assert bad_email.json()["errors"][0]["source"]["pointer"] == "/data/attributes/email"

    bad_phone = api.post(
        "/api/profiles",
        {"data": {"type": "profile", "attributes": {"phone_number": "555-1234"}}},
    )
    assert bad_phone.json()["errors"][0]["source"]["pointer"] == "/data/attributes/phone_number"

    nothing = api.post(
        "/api/profiles", {"data": {"type": "profile", "attributes": {"first_name": "X"}}}
    )
    assert nothing.status_code == 400

    not_json = api.request("POST", "/api/profiles", headers=api.headers())
    assert not_json.status_code == 400


def test_an_update_merges_properties_and_applies_patch_properties(api, new_profile):
    profile = new_profile("max@example.com", properties={"color": "blue", "tags": ["a"]})
    body = {
        "data": {
            "type": "profile",
            "id": profile["id"],
            "attributes": {"last_name": "Planck", "properties": {"size": "M"}},
            "meta": {"patch_properties": {"append": {"tags": "b"}, "unset": "color"}},
        }
    }
    response = api.patch(f"/api/profiles/{profile['id']}", body)
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["last_name"] == "Planck"
    assert attributes["properties"] == {"size": "M", "tags": ["a", "b"]}

    wrong_id = api.patch(
        f"/api/profiles/{profile['id']}",
        {"data": {"type": "profile", "id": "OTHER", "attributes": {}}},
    )
    assert wrong_id.status_code == 400


def test_profile_import_creates_then_updates(api):
    body = {
        "data": {
            "type": "profile",
            "attributes": {"email": "rosa@example.com", "first_name": "Rosa"},
        }
    }
    created = api.post("/api/profile-import", body)
    assert created.status_code == 201
    body["data"]["attributes"]["first_name"] = "Rosalind"
    updated = api.post("/api/profile-import", body)
    assert updated.status_code == 200
    assert updated.json()["data"]["id"] == created.json()["data"]["id"]
    assert updated.json()["data"]["attributes"]["first_name"] == "Rosalind"


def test_merging_moves_memberships_and_deletes_the_sources(api, new_profile):
    keep = new_profile("keep@example.com")
    gone = new_profile("gone@example.com", first_name="Gone", phone_number="+15005550006")
    vip = api.create("list", {"name": "VIP"})
    api.post(
        f"/api/lists/{vip['id']}/relationships/profiles",
        {"data": [{"type": "profile", "id": gone["id"]}]},
    )
    body = {
        "data": {
            "type": "profile-merge",
            "id": keep["id"],
            "relationships": {"profiles": {"data": [{"type": "profile", "id": gone["id"]}]}},
        }
    }
    merged = api.post("/api/profile-merge", body)
    assert merged.status_code == 201, merged.text
    assert api.get(f"/api/profiles/{gone['id']}").status_code == 404
    kept = api.get(f"/api/profiles/{keep['id']}").json()["data"]["attributes"]
    assert kept["first_name"] == "Gone"
    assert kept["phone_number"] == "+15005550006"
    assert members(api, vip["id"]) == [keep["id"]]


def test_subscriptions_and_suppressions_live_in_the_profile(api, new_profile):
    newsletter = api.create("list", {"name": "Newsletter"})
    body = {
        "data": {
            "type": "profile-subscription-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {
                            "type": "profile",
                            "attributes": {
                                "email": "sub@example.com",
                                "subscriptions": {
                                    "email": {"marketing": {"consent": "SUBSCRIBED"}}
                                },
                            },
                        }
                    ]
                }
            },
            "relationships": {"list": {"data": {"type": "list", "id": newsletter["id"]}}},
        }
    }
    response = api.post("/api/profile-subscription-bulk-create-jobs", body)
    assert response.status_code == 202
    [member] = api.all(f"/api/lists/{newsletter['id']}/profiles")
    params = {"additional-fields[profile]": "subscriptions"}
    marketing = api.get(f"/api/profiles/{member['id']}", params=params).json()["data"][
        "attributes"
    ]["subscriptions"]["email"]["marketing"]
    assert marketing["consent"] == "SUBSCRIBED"
    assert marketing["can_receive_email_marketing"] is True
    assert (
        "subscriptions" not in api.get(f"/api/profiles/{member['id']}").json()["data"]["attributes"]
    )

    suppress = {
        "data": {
            "type": "profile-suppression-bulk-create-job",
            "attributes": {
                "profiles": {
                    "data": [{"type": "profile", "attributes": {"email": "sub@example.com"}}]
                }
            },
        }
    }
    job = api.post("/api/profile-suppression-bulk-create-jobs", suppress)
    assert job.status_code == 202
    assert job.json()["data"]["attributes"]["total_count"] == 1
    marketing = api.get(f"/api/profiles/{member['id']}", params=params).json()["data"][
        "attributes"
    ]["subscriptions"]["email"]["marketing"]
    assert marketing["can_receive_email_marketing"] is False
    assert marketing["suppression"][0]["reason"] == "USER_SUPPRESSED"
    suppressed = api.get(
        "/api/profiles",
        params={
            "filter": "equals(subscriptions.email.marketing.suppression.reason,'USER_SUPPRESSED')"
        },
    )
    assert [p["id"] for p in suppressed.json()["data"]] == [member["id"]]


def test_a_deletion_request_removes_the_profile_and_its_events(api, new_profile):
    profile = new_profile("forget.me@example.com")
    event = {
        "data": {
            "type": "event",
            "attributes": {
                "properties": {"page": "/"},
                "metric": {"data": {"type": "metric", "attributes": {"name": "Viewed Page"}}},
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": "forget.me@example.com"}}
                },
            },
        }
    }
    assert api.post("/api/events", event).status_code == 202
    assert len(api.all("/api/events")) == 1
    body = {
        "data": {
            "type": "data-privacy-deletion-job",
            "attributes": {
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": "forget.me@example.com"}}
                }
            },
        }
    }
    assert api.post("/api/data-privacy-deletion-jobs", body).status_code == 202
    assert api.get(f"/api/profiles/{profile['id']}").status_code == 404
    assert api.all("/api/events") == []
