"""System webhooks: topics from metrics, loopback endpoints, signed deliveries of new events.

A real HTTP receiver on 127.0.0.1 records what the sandbox posts; the sandbox itself is reached
over HTTP on the live server, like every sandbox test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from integrations.klaviyo_sandbox import webhooks
from integrations.klaviyo_sandbox.api import store

SECRET = "whsec_test_secret"
PLACED_ORDER = "event:klaviyo.placed_order"
OPENED_EMAIL = "event:klaviyo.opened_email"


class Receiver:
    """A tiny HTTP server recording every POST; answers `statuses` in turn, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Message, bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append((self.path, self.headers, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)
        self.thread.start()

    def at(self, path: str) -> list[tuple[Message, bytes]]:
        """Return the (headers, body) of the requests posted to `path`."""
        return [(headers, body) for p, headers, body in self.received if p == path]


@pytest.fixture
def receiver(settings) -> Iterator[Receiver]:
    found = Receiver()
    settings.KLAVIYO_SANDBOX_WEBHOOK_TARGETS = [found.url]
    yield found
    webhooks.wait_for_deliveries(10)
    found.server.shutdown()
    found.server.server_close()


def event_body(metric: str = "Placed Order", **properties: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": properties,
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {
                    "data": {"type": "profile", "attributes": {"email": "ada@example.com"}}
                },
            },
        }
    }


def record_event(api, metric: str = "Placed Order", **properties: Any) -> None:
    answer = api.post("/api/events", event_body(metric, **properties))
    assert answer.status_code == 202, answer.text


def webhook_body(url: str, topics: list[str], **attributes: Any) -> dict[str, Any]:
    return {
        "data": {
            "type": "webhook",
            "attributes": {
                "name": "Local",
                "endpoint_url": url,
                "secret_key": SECRET,
                **attributes,
            },
            "relationships": {
                "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in topics]}
            },
        }
    }


def make_webhook(api, url: str, topics: list[str]) -> dict[str, Any]:
    answer = api.post("/api/webhooks", webhook_body(url, topics))
    assert answer.status_code == 201, answer.text
    return answer.json()["data"]


def deliveries(receiver: Receiver, path: str) -> list[tuple[Message, bytes]]:
    assert webhooks.wait_for_deliveries(10)
    return receiver.at(path)


@pytest.fixture
def subscribed(api, receiver) -> dict[str, Any]:
    """A webhook posting Placed Order events to the receiver's `/hook` (the metric exists)."""
    record_event(api, order="first")
    return make_webhook(api, f"{receiver.url}/hook", [PLACED_ORDER])


def test_each_metric_brings_its_webhook_topic(api):
    assert api.get(f"/api/webhook-topics/{PLACED_ORDER}").status_code == 404
    record_event(api, metric="Placed Order")
    record_event(api, metric="Checkout: Started (v2)")

    topics = [t["id"] for t in api.all("/api/webhook-topics")]
    assert PLACED_ORDER in topics
    assert "event:klaviyo.checkout_started_v2" in topics
    assert OPENED_EMAIL in topics  # the fixed topics stay
    one = api.get(f"/api/webhook-topics/{PLACED_ORDER}")
    assert one.status_code == 200
    assert one.json()["data"]["id"] == PLACED_ORDER


def test_a_seeded_store_has_a_topic_per_metric(shop):
    topics = {t["id"] for t in shop.all("/api/webhook-topics")}
    assert {
        webhooks.metric_topic_id(m["attributes"]["name"]) for m in shop.all("/api/metrics")
    } <= topics
    assert {PLACED_ORDER, "event:klaviyo.viewed_product"} <= topics


def test_a_webhook_takes_plain_http_only_on_this_machine(api):
    record_event(api)
    for url in ("http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook"):
        assert api.post("/api/webhooks", webhook_body(url, [PLACED_ORDER])).status_code == 201

    refused = api.post("/api/webhooks", webhook_body("http://example.com/hook", [PLACED_ORDER]))
    assert refused.status_code == 400
    error = refused.json()["errors"][0]
    assert "https://" in error["detail"]
    assert error["source"]["pointer"] == "/data/attributes/endpoint_url"

    webhook = make_webhook(api, "https://hooks.example.com/k", [PLACED_ORDER])
    change = {"data": {"type": "webhook", "id": webhook["id"], "attributes": {}}}
    change["data"]["attributes"]["endpoint_url"] = "http://example.com/hook"
    assert api.patch(f"/api/webhooks/{webhook['id']}", change).status_code == 400
    change["data"]["attributes"]["endpoint_url"] = "http://127.0.0.1:9/hook"
    assert api.patch(f"/api/webhooks/{webhook['id']}", change).status_code == 200


def test_an_event_of_a_subscribed_topic_is_posted_once_and_signed(api, receiver, subscribed):
    record_event(api, order="second")

    [(headers, body)] = deliveries(receiver, "/hook")
    stamp = headers["Klaviyo-Timestamp"]
    expected = hmac.new(SECRET.encode(), body + stamp.encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["Klaviyo-Signature"], expected)
    assert headers["Content-Type"] == "application/json"
    assert "Sandbox" in headers["User-Agent"]

    document = json.loads(body)
    meta = document["meta"]
    assert headers["Klaviyo-Webhook-Id"] == meta["klaviyo_webhook_id"] == subscribed["id"]
    assert meta["klaviyo_account_id"] == api.public_key
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", meta["timestamp"])
    sent = datetime.fromisoformat(meta["timestamp"])
    assert parsedate_to_datetime(stamp) == sent.replace(microsecond=0)
    assert abs((datetime.now(UTC) - sent).total_seconds()) < 60

    [item] = document["data"]
    assert item["topic"] == PLACED_ORDER
    served = api.get(f"/api/events/{item['external_id']}")
    assert served.status_code == 200
    assert item["payload"]["data"] == served.json()["data"]
    assert item["payload"]["data"]["attributes"]["event_properties"] == {"order": "second"}


def test_client_events_are_delivered_too(api, receiver, subscribed):
    headers = {"revision": "2026-07-15", "Content-Type": "application/vnd.api+json"}
    answer = api.post(
        "/client/events",
        event_body(order="from the browser"),
        params={"company_id": api.public_key},
        headers=headers,
    )
    assert answer.status_code == 202, answer.text

    [(_, body)] = deliveries(receiver, "/hook")
    [item] = json.loads(body)["data"]
    assert item["payload"]["data"]["attributes"]["event_properties"] == {
        "order": "from the browser"
    }


def test_a_bulk_create_is_one_delivery_with_its_events_in_order(api, receiver, subscribed):
    events = [
        {"type": "event", "attributes": event_body(order=n)["data"]["attributes"]}
        for n in (1, 2, 3)
    ]
    for event in events:
        del event["attributes"]["profile"]
    entry = {
        "type": "event-bulk-create",
        "attributes": {
            "profile": {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}},
            "events": {"data": events},
        },
    }
    body = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": [entry]}},
        }
    }
    answer = api.post("/api/event-bulk-create-jobs", body)
    assert answer.status_code == 202, answer.text

    [(_, delivered)] = deliveries(receiver, "/hook")
    items = json.loads(delivered)["data"]
    orders = [i["payload"]["data"]["attributes"]["event_properties"]["order"] for i in items]
    assert orders == [1, 2, 3]
    assert len({i["external_id"] for i in items}) == 3


def test_a_repeated_unique_id_is_not_announced_again(api, receiver, subscribed):
    body = event_body(order="once")
    body["data"]["attributes"]["unique_id"] = "order-1"
    assert api.post("/api/events", body).status_code == 202
    assert api.post("/api/events", body).status_code == 202

    assert len(deliveries(receiver, "/hook")) == 1


def test_unsubscribed_disabled_and_deleted_webhooks_get_nothing(api, receiver, subscribed):
    record_event(api, metric="Opened Email")
    make_webhook(api, f"{receiver.url}/other-topic", [OPENED_EMAIL])
    disabled = make_webhook(api, f"{receiver.url}/disabled", [PLACED_ORDER])
    change = {"data": {"type": "webhook", "id": disabled["id"], "attributes": {"enabled": False}}}
    assert api.patch(f"/api/webhooks/{disabled['id']}", change).status_code == 200
    deleted = make_webhook(api, f"{receiver.url}/deleted", [PLACED_ORDER])
    assert api.delete(f"/api/webhooks/{deleted['id']}").status_code == 204

    record_event(api, order="watched")

    assert webhooks.wait_for_deliveries(10)
    assert [path for path, _, _ in receiver.received] == ["/hook"]


def test_a_receiver_answering_500_is_retried_once(api, receiver, subscribed, monkeypatch, caplog):
    monkeypatch.setattr(webhooks, "RETRY_DELAY_SECONDS", 0.01)
    receiver.statuses = [500]
    record_event(api, order="retried")

    first, second = deliveries(receiver, "/hook")
    assert first[1] == second[1]
    assert first[0]["Klaviyo-Signature"] == second[0]["Klaviyo-Signature"]

    receiver.received.clear()
    receiver.statuses = [500, 500, 500]
    with caplog.at_level("WARNING", logger="integrations.klaviyo_sandbox.webhooks"):
        record_event(api, order="given up")
        assert len(deliveries(receiver, "/hook")) == 2
    assert "failed" in caplog.text


def test_deliveries_can_be_built_without_sending(api):
    record_event(api, order="built")
    account = api.account
    [event] = store.of_type(account, "event")
    webhook = store.create(
        account,
        "webhook",
        {"name": "Bench", "endpoint_url": "http://127.0.0.1:9/", "enabled": True},
        relationships={"webhook-topics": [PLACED_ORDER]},
        internal={"secret_key": SECRET},
    )
    moment = datetime(2026, 4, 14, 3, 50, 12, 345678, tzinfo=UTC)
    base = "http://testserver/sandbox/klaviyo"

    [built] = webhooks.deliveries_build(account=account, events=[event], base_url=base, now=moment)
    assert built == webhooks.delivery_build(
        webhook=webhook, events=[event], base_url=base, now=moment
    )
    assert built.url == "http://127.0.0.1:9/"
    assert built.headers["Klaviyo-Timestamp"] == "Tue, 14 Apr 2026 03:50:12 GMT"
    assert built.headers["Klaviyo-Signature"] == webhooks.signature(
        SECRET, built.body, "Tue, 14 Apr 2026 03:50:12 GMT"
    )
    document = json.loads(built.body)
    assert document["meta"]["timestamp"] == "2026-04-14T03:50:12.345678+00:00"
    assert document["data"][0]["payload"]["data"]["links"]["self"] == (
        f"{base}/api/events/{event.resource_id}/"
    )
    assert b" " not in built.body.split(b'"payload"')[0]  # compact separators

    webhook.internal = {}
    unsigned = webhooks.delivery_build(webhook=webhook, events=[event], base_url=base)
    assert "Klaviyo-Signature" not in unsigned.headers


def test_deliveries_go_only_to_the_app_and_the_allowed_origins(api, receiver, settings):
    """A sandbox user cannot make the server post to another service on its own machine."""
    record_event(api, order="first")
    make_webhook(api, f"{receiver.url}/hook", [PLACED_ORDER])
    settings.KLAVIYO_SANDBOX_WEBHOOK_TARGETS = []  # the receiver is just another local port now
    record_event(api, order="second")
    assert deliveries(receiver, "/hook") == []
