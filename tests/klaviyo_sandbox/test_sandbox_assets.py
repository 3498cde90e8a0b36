"""Images, webhooks, tags, flows, push tokens and back-in-stock subscriptions over HTTP."""

from __future__ import annotations

import base64

import requests

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def test_images_from_a_url_are_recorded_and_uploads_are_served(api):
    body = {
        "data": {
            "type": "image",
            "attributes": {"import_from_url": "https://cdn.example.com/hero.png"},
        }
    }
    imported = api.post("/api/images", body)
    assert imported.status_code == 201
    assert imported.json()["data"]["attributes"]["image_url"] == "https://cdn.example.com/hero.png"
    assert imported.json()["data"]["attributes"]["format"] == "png"

    headers = {k: v for k, v in api.headers().items() if k != "Content-Type"}
    uploaded = requests.post(
        api.url("/api/image-upload"),
        files={"file": ("dot.png", PNG, "image/png")},
        data={"name": "Dot"},
        headers=headers,
        timeout=30,
    )
    assert uploaded.status_code == 201, uploaded.text
    image = uploaded.json()["data"]["attributes"]
    assert (image["name"], image["format"], image["size"]) == ("Dot", "png", len(PNG))
    served = requests.get(image["image_url"], timeout=30)
    assert served.content == PNG
    assert served.headers["Content-Type"] == "image/png"

    page = requests.post(
        api.url("/api/image-upload"),
        files={"file": ("x.png", b"<html><script>alert(1)</script></html>", "image/png")},
        headers=headers,
        timeout=30,
    )
    assert page.status_code == 400
    assert page.json()["errors"][0]["source"]["pointer"] == "/file"


def test_webhooks_need_https_and_known_topics_and_keep_their_secret(api):
    topic = {"type": "webhook-topic", "id": "event:klaviyo.opened_email"}
    attributes = {"name": "Hook", "endpoint_url": "https://hooks.example.com/k", "secret_key": "s3"}
    body = {
        "data": {
            "type": "webhook",
            "attributes": attributes,
            "relationships": {"webhook-topics": {"data": [topic]}},
        }
    }
    created = api.post("/api/webhooks", body)
    assert created.status_code == 201, created.text
    webhook = created.json()["data"]
    assert "secret_key" not in webhook["attributes"]
    assert webhook["attributes"]["enabled"] is True
    topics = api.get(f"/api/webhooks/{webhook['id']}", params={"include": "webhook-topics"})
    assert [t["id"] for t in topics.json()["included"]] == ["event:klaviyo.opened_email"]

    body["data"]["attributes"] = {**attributes, "endpoint_url": "http://insecure.example.com"}
    assert api.post("/api/webhooks", body).status_code == 400
    body["data"]["attributes"] = attributes
    body["data"]["relationships"]["webhook-topics"]["data"] = [{"type": "webhook-topic", "id": "x"}]
    assert api.post("/api/webhooks", body).status_code == 404


def test_tags_live_in_groups_and_tag_other_resources(api):
    tag = api.create("tag", {"name": "Promo"})
    [default] = api.all("/api/tag-groups")
    assert default["attributes"]["default"] is True
    assert tag["relationships"]["tag-group"]["data"]["id"] == default["id"]
    assert (
        api.post(
            "/api/tags", {"data": {"type": "tag", "attributes": {"name": "Promo"}}}
        ).status_code
        == 409
    )
    assert api.delete(f"/api/tag-groups/{default['id']}").status_code == 400

    season = api.create("tag-group", {"name": "Season", "exclusive": True}, path="/api/tag-groups")
    group = {"tag-group": {"data": {"type": "tag-group", "id": season["id"]}}}
    summer = api.create("tag", {"name": "Summer"}, relationships=group)
    newsletter = api.create("list", {"name": "Newsletter"})
    tagged = api.post(
        f"/api/tags/{summer['id']}/relationships/lists",
        {"data": [{"type": "list", "id": newsletter["id"]}]},
    )
    assert tagged.status_code == 204
    assert [t["id"] for t in api.all(f"/api/lists/{newsletter['id']}/tags")] == [summer["id"]]
    assert api.delete(f"/api/tag-groups/{season['id']}").status_code == 204
    assert api.get(f"/api/tags/{summer['id']}").status_code == 404
    assert api.all(f"/api/lists/{newsletter['id']}/tags") == []


def test_flow_status_changes_and_deletion_takes_the_actions(shop):
    flow = shop.all("/api/flows")[0]
    actions = shop.all(f"/api/flows/{flow['id']}/flow-actions")
    assert actions
    update = {"data": {"type": "flow", "id": flow["id"], "attributes": {"status": "draft"}}}
    assert (
        shop.patch(f"/api/flows/{flow['id']}", update).json()["data"]["attributes"]["status"]
        == "draft"
    )
    update["data"]["attributes"]["status"] = "paused"
    assert shop.patch(f"/api/flows/{flow['id']}", update).status_code == 400
    assert shop.delete(f"/api/flows/{flow['id']}").status_code == 204
    assert shop.get(f"/api/flow-actions/{actions[0]['id']}").status_code == 404


def test_push_tokens_and_back_in_stock_from_the_client_side(shop):
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    params = {"company_id": shop.public_key}
    profile = {"data": {"type": "profile", "attributes": {"email": "app.user@example.com"}}}
    token = {
        "data": {
            "type": "push-token",
            "attributes": {
                "token": "tok-1",
                "platform": "ios",
                "vendor": "apns",
                "profile": profile,
            },
        }
    }
    assert (
        shop.post("/client/push-tokens", token, params=params, headers=headers).status_code == 202
    )
    [person] = shop.get(
        "/api/profiles", params={"filter": "equals(email,'app.user@example.com')"}
    ).json()["data"]
    tokens = shop.get(f"/api/profiles/{person['id']}/relationships/push-tokens").json()["data"]
    assert len(tokens) == 1
    unregister = {
        "data": {
            "type": "push-token-unregister",
            "attributes": {"token": "tok-1", "platform": "ios", "profile": profile},
        }
    }
    assert (
        shop.post(
            "/client/push-token-unregister", unregister, params=params, headers=headers
        ).status_code
        == 202
    )
    assert shop.get(f"/api/profiles/{person['id']}/relationships/push-tokens").json()["data"] == []

    variant = shop.all("/api/catalog-variants", {"page[size]": 1})[0]
    subscription = {
        "data": {
            "type": "back-in-stock-subscription",
            "attributes": {"channels": ["EMAIL"], "profile": profile},
            "relationships": {
                "variant": {"data": {"type": "catalog-variant", "id": variant["id"]}}
            },
        }
    }
    assert (
        shop.post(
            "/client/back-in-stock-subscriptions", subscription, params=params, headers=headers
        ).status_code
        == 202
    )
    subscription["data"]["relationships"]["variant"]["data"]["id"] = "$custom:::$default:::NOPE"
    assert shop.post("/api/back-in-stock-subscriptions", subscription).status_code == 404
