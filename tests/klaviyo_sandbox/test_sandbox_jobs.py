"""Jobs report queued -> processing -> complete and apply their effect; campaigns progress."""

from __future__ import annotations

import time

import pytest


@pytest.fixture(autouse=True)
def quick_jobs(settings):
    """Jobs take under a second to complete in these tests (long enough to see them queued)."""
    settings.KLAVIYO_SANDBOX_JOB_SECONDS = 0.8


def wait_complete(api, path: str) -> dict:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        job = api.get(path).json()["data"]
        if job["attributes"]["status"] == "complete":
            return job
        time.sleep(0.1)
    raise AssertionError(f"{path} never completed")


def item(external_id: str, title: str, price: float) -> dict:
    return {
        "type": "catalog-item",
        "attributes": {
            "external_id": external_id,
            "title": title,
            "description": f"{title}.",
            "url": f"https://shop.example.com/{external_id}",
            "price": price,
        },
    }


def test_a_catalog_item_bulk_create_job_completes_and_creates_the_items(api):
    existing = api.post("/api/catalog-items", {"data": item("MUG-1", "Mug", 12.0)})
    assert existing.status_code == 201
    assert existing.json()["data"]["id"] == "$custom:::$default:::MUG-1"
    body = {
        "data": {
            "type": "catalog-item-bulk-create-job",
            "attributes": {
                "items": {
                    "data": [
                        item("TEE-1", "Tee", 25.0),
                        item("MUG-1", "Mug again", 9.0),
                        item("CAP-1", "Cap", 19.0),
                    ]
                }
            },
        }
    }
    answer = api.post("/api/catalog-item-bulk-create-jobs", body)
    assert answer.status_code == 202, answer.text
    job = answer.json()["data"]
    assert job["attributes"]["status"] in ("queued", "processing")
    assert job["attributes"]["total_count"] == 3
    done = wait_complete(api, f"/api/catalog-item-bulk-create-jobs/{job['id']}")
    assert done["attributes"]["completed_count"] == 2
    assert done["attributes"]["failed_count"] == 1
    assert done["attributes"]["errors"][0]["source"]["pointer"].startswith(
        "/data/attributes/items/data/1"
    )
    titles = sorted(i["attributes"]["title"] for i in api.all("/api/catalog-items"))
    assert titles == ["Cap", "Mug", "Tee"]
    listed = api.get(
        "/api/catalog-item-bulk-create-jobs", params={"filter": "equals(status,'complete')"}
    )
    assert [j["id"] for j in listed.json()["data"]] == [job["id"]]

    delete = {
        "data": {
            "type": "catalog-item-bulk-delete-job",
            "attributes": {
                "items": {"data": [{"type": "catalog-item", "id": "$custom:::$default:::TEE-1"}]}
            },
        }
    }
    deleting = api.post("/api/catalog-item-bulk-delete-jobs", delete).json()["data"]
    wait_complete(api, f"/api/catalog-item-bulk-delete-jobs/{deleting['id']}")
    assert sorted(i["attributes"]["title"] for i in api.all("/api/catalog-items")) == ["Cap", "Mug"]


def test_variants_belong_to_items_and_categories_link_items(api):
    api.post("/api/catalog-items", {"data": item("BOOT-1", "Boot", 150.0)})
    item_id = "$custom:::$default:::BOOT-1"
    variant = {
        "data": {
            "type": "catalog-variant",
            "attributes": {
                "external_id": "BOOT-1-9",
                "title": "Boot 9",
                "description": "Boot",
                "sku": "BOOT-1-9",
                "inventory_quantity": 4,
                "price": 150.0,
                "url": "https://shop.example.com/boot",
            },
            "relationships": {"item": {"data": {"type": "catalog-item", "id": item_id}}},
        }
    }
    assert api.post("/api/catalog-variants", variant).status_code == 201
    assert [v["id"] for v in api.all(f"/api/catalog-items/{item_id}/variants")] == [
        "$custom:::$default:::BOOT-1-9"
    ]
    category = api.post(
        "/api/catalog-categories",
        {
            "data": {
                "type": "catalog-category",
                "attributes": {"external_id": "SHOES", "name": "Shoes"},
            }
        },
    ).json()["data"]
    link = api.post(
        f"/api/catalog-items/{item_id}/relationships/categories",
        {"data": [{"type": "catalog-category", "id": category["id"]}]},
    )
    assert link.status_code == 204
    assert [i["id"] for i in api.all(f"/api/catalog-categories/{category['id']}/items")] == [
        item_id
    ]
    in_category = f"equals(category.id,'{category['id']}')"
    found = api.get("/api/catalog-items", params={"filter": in_category}).json()["data"]
    assert [i["id"] for i in found] == [item_id]
    of_item = api.get("/api/catalog-variants", params={"filter": f"equals(item.id,'{item_id}')"})
    assert len(of_item.json()["data"]) == 1
    assert api.delete(f"/api/catalog-items/{item_id}").status_code == 204
    assert api.get("/api/catalog-variants/$custom:::$default:::BOOT-1-9").status_code == 404


def test_coupon_codes_in_bulk(api):
    coupon = api.post(
        "/api/coupons", {"data": {"type": "coupon", "attributes": {"external_id": "SAVE5"}}}
    )
    assert coupon.json()["data"]["id"] == "SAVE5"
    assert (
        api.post(
            "/api/coupons", {"data": {"type": "coupon", "attributes": {"external_id": "SAVE5"}}}
        ).status_code
        == 409
    )
    codes = [
        {
            "type": "coupon-code",
            "attributes": {"unique_code": code},
            "relationships": {"coupon": {"data": {"type": "coupon", "id": "SAVE5"}}},
        }
        for code in ("AAA111", "BBB222")
    ]
    job = api.post(
        "/api/coupon-code-bulk-create-jobs",
        {
            "data": {
                "type": "coupon-code-bulk-create-job",
                "attributes": {"coupon-codes": {"data": codes}},
            }
        },
    )
    assert job.status_code == 202
    wait_complete(api, f"/api/coupon-code-bulk-create-jobs/{job.json()['data']['id']}")
    found = api.get("/api/coupon-codes", params={"filter": "equals(coupon.id,'SAVE5')"}).json()[
        "data"
    ]
    assert sorted(c["attributes"]["unique_code"] for c in found) == ["AAA111", "BBB222"]
    assert {c["attributes"]["status"] for c in found} == {"UNASSIGNED"}


def test_a_campaign_goes_from_draft_to_sending_to_sent(api, new_profile):
    newsletter = api.create("list", {"name": "Newsletter"})
    for email in ("a@example.com", "b@example.com"):
        profile = new_profile(email)
        api.post(
            f"/api/lists/{newsletter['id']}/relationships/profiles",
            {"data": [{"type": "profile", "id": profile["id"]}]},
        )
    message = {
        "type": "campaign-message",
        "attributes": {
            "definition": {"channel": "email", "label": "Main", "content": {"subject": "Hello"}}
        },
    }
    body = {
        "data": {
            "type": "campaign",
            "attributes": {
                "name": "Launch",
                "audiences": {"included": [newsletter["id"]]},
                "campaign-messages": {"data": [message]},
            },
        }
    }
    created = api.post("/api/campaigns", body)
    assert created.status_code == 201, created.text
    campaign = created.json()["data"]
    assert campaign["attributes"]["status"] == "Draft"
    [message_id] = [m["id"] for m in api.all(f"/api/campaigns/{campaign['id']}/campaign-messages")]

    estimate = api.post(
        "/api/campaign-recipient-estimation-jobs",
        {"data": {"type": "campaign-recipient-estimation-job", "id": campaign["id"]}},
    )
    assert estimate.status_code == 202
    wait_complete(api, f"/api/campaign-recipient-estimation-jobs/{campaign['id']}")
    count = api.get(f"/api/campaign-recipient-estimations/{campaign['id']}").json()["data"][
        "attributes"
    ]
    assert count == {"estimated_recipient_count": 2}

    sent = api.post(
        "/api/campaign-send-jobs", {"data": {"type": "campaign-send-job", "id": campaign["id"]}}
    )
    assert sent.status_code == 202
    assert sent.json()["data"]["attributes"]["status"] == "queued"
    assert (
        api.get(f"/api/campaigns/{campaign['id']}").json()["data"]["attributes"]["status"]
        == "Sending"
    )
    wait_complete(api, f"/api/campaign-send-jobs/{campaign['id']}")
    done = api.get(f"/api/campaigns/{campaign['id']}").json()["data"]["attributes"]
    assert done["status"] == "Sent"
    assert done["send_time"]
    again = api.post(
        "/api/campaign-send-jobs", {"data": {"type": "campaign-send-job", "id": campaign["id"]}}
    )
    assert again.status_code == 400
    cancel = api.patch(
        f"/api/campaign-send-jobs/{campaign['id']}",
        {
            "data": {
                "type": "campaign-send-job",
                "id": campaign["id"],
                "attributes": {"action": "cancel"},
            }
        },
    )
    assert cancel.status_code == 400  # already sent
    assert api.get(f"/api/campaign-messages/{message_id}").status_code == 200


def test_a_campaign_send_can_be_cancelled_or_reverted(api):
    vip = api.create("list", {"name": "VIP"})
    message = {"type": "campaign-message", "attributes": {"definition": {"channel": "email"}}}
    attributes = {
        "name": "Flash sale",
        "audiences": {"included": [vip["id"]]},
        "campaign-messages": {"data": [message]},
    }
    body = {"data": {"type": "campaign", "attributes": attributes}}
    campaign = api.post("/api/campaigns", body).json()["data"]
    send = {"data": {"type": "campaign-send-job", "id": campaign["id"]}}
    assert api.post("/api/campaign-send-jobs", send).status_code == 202
    revert = {
        "data": {
            "type": "campaign-send-job",
            "id": campaign["id"],
            "attributes": {"action": "revert"},
        }
    }
    assert api.patch(f"/api/campaign-send-jobs/{campaign['id']}", revert).status_code == 204
    assert (
        api.get(f"/api/campaigns/{campaign['id']}").json()["data"]["attributes"]["status"]
        == "Draft"
    )
    assert api.post("/api/campaign-send-jobs", send).status_code == 202
    cancel = {
        "data": {
            "type": "campaign-send-job",
            "id": campaign["id"],
            "attributes": {"action": "cancel"},
        }
    }
    assert api.patch(f"/api/campaign-send-jobs/{campaign['id']}", cancel).status_code == 204
    assert (
        api.get(f"/api/campaigns/{campaign['id']}").json()["data"]["attributes"]["status"]
        == "Cancelled"
    )
    assert (
        api.get(f"/api/campaign-send-jobs/{campaign['id']}").json()["data"]["attributes"]["status"]
        == "cancelled"
    )


def test_a_bulk_profile_import_upserts_adds_to_lists_and_keeps_row_errors(api, new_profile):
    known = new_profile("known@example.com", first_name="Old")
    imports = api.create("list", {"name": "Imported"})
    rows = [
        {"type": "profile", "attributes": {"email": "known@example.com", "first_name": "New"}},
        {"type": "profile", "attributes": {"email": "fresh@example.com"}},
        {"type": "profile", "attributes": {"email": "broken"}},
    ]
    body = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": rows}},
            "relationships": {"lists": {"data": [{"type": "list", "id": imports["id"]}]}},
        }
    }
    answer = api.post("/api/profile-bulk-import-jobs", body)
    assert answer.status_code == 202, answer.text
    job = wait_complete(api, f"/api/profile-bulk-import-jobs/{answer.json()['data']['id']}")
    assert (job["attributes"]["completed_count"], job["attributes"]["failed_count"]) == (2, 1)
    [error] = api.get(f"/api/profile-bulk-import-jobs/{job['id']}/import-errors").json()["data"]
    assert error["attributes"]["source"]["pointer"].endswith("/attributes/email")
    assert (
        api.get(f"/api/profiles/{known['id']}").json()["data"]["attributes"]["first_name"] == "New"
    )
    assert len(api.all(f"/api/lists/{imports['id']}/profiles")) == 2
    assert len(api.get(f"/api/profile-bulk-import-jobs/{job['id']}/profiles").json()["data"]) == 2
