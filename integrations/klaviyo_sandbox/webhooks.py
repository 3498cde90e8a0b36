"""System webhooks: topics from the account's metrics, and signed deliveries of new events.

As at Klaviyo (https://developers.klaviyo.com/en/docs/working_with_system_webhooks), topics are
dynamic: besides the fixed ones every account has (`seed.data.WEBHOOK_TOPICS`) there is one per
metric, `event:klaviyo.<metric name as a slug>`. When a request records events, each enabled
webhook subscribed to their topics gets one POST after the request commits:

    {"data": [{"topic", "external_id", "payload": {"data": <the event as GET /api/events/{id}>}}],
     "meta": {"klaviyo_account_id", "klaviyo_webhook_id", "timestamp"}}

signed with the webhook's secret: `Klaviyo-Signature` is the hex HMAC-SHA256 of the raw body
followed by the `Klaviyo-Timestamp` header. Deliveries are posted from daemon threads, because
the app serves the sandbox and the receiving URL from the same process: a request posting to its
own server synchronously could wait on itself. `wait_for_deliveries` lets tests wait for them.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, detached_call
from integrations.klaviyo_sandbox.api.errors import ApiError
from integrations.klaviyo_sandbox.api.jsonapi import resource_object
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

logger = logging.getLogger(__name__)

TOPIC_PREFIX = "event:klaviyo."
USER_AGENT = "Klaviyo-Sandbox-Webhooks/1.0 (Step Builder)"
TIMEOUT_SECONDS = 5.0
RETRY_DELAY_SECONDS = 1.0  # read at each retry, so a test may shorten it
LOOPBACK_NAMES = frozenset({"localhost"})
# Reserved names (RFC 2606, RFC 6761) are never contacted: the demo store's and the catalog
# examples' webhooks point at them, and a local sandbox should not post to the internet.
_RESERVED = re.compile(r"(^|\.)(example(\.(com|net|org))?|test|invalid)$")

_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()


# -- topics ------------------------------------------------------------------------------------


def metric_topic_id(metric_name: str) -> str:
    """Return the topic of a metric: "Placed Order" -> `event:klaviyo.placed_order`.

    The name is lower-cased and every run of other characters than a-z and 0-9 becomes one
    underscore (none at either end).
    """
    slug = re.sub(r"[^a-z0-9]+", "_", metric_name.lower()).strip("_")
    return TOPIC_PREFIX + (slug or "metric")


def metric_topic_create(*, account: SandboxAccount, metric_name: str) -> None:
    """Give the account the webhook topic of a metric, unless it has it already."""
    topic = metric_topic_id(metric_name)
    if store.get(account, "webhook-topic", topic) is not None:
        return
    with contextlib.suppress(ApiError):  # a 409: another request created it meanwhile
        store.create(account, "webhook-topic", {}, resource_id=topic)


def metric_topics_sync(*, account: SandboxAccount) -> None:
    """Give the account a webhook topic for each of its metrics (seeding writes metrics in bulk)."""
    names = store.of_type(account, "metric").values_list("attributes__name", flat=True)
    for name in names:
        if isinstance(name, str):
            metric_topic_create(account=account, metric_name=name)


# -- endpoints ---------------------------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    """Return whether a URL's host is this machine (127.0.0.0/8, ::1 or `localhost`)."""
    if not host:
        return False
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_problem(url: str) -> str | None:
    """Return why a webhook cannot post to `url`, or None when it can.

    Klaviyo demands https (see the create_webhook reference); the sandbox also takes plain http
    to a loopback host, so an app running on this machine can receive deliveries.
    """
    parts = urlsplit(url)
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return None
    return (
        "The endpoint URL must use https:// (plain http:// is accepted only for a loopback "
        "host: 127.0.0.1, localhost or ::1)."
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _contactable(url: str) -> bool:
    """Whether a delivery to `url` is sent: only to this app (SITE_URL) and to the origins in
    KLAVIYO_SANDBOX_WEBHOOK_TARGETS, so a sandbox user cannot make the server post to other
    services on its network (or to the internet)."""
    host = urlsplit(url).hostname or ""
    if endpoint_problem(url) is not None or not host or _RESERVED.search(host.lower()):
        return False
    allowed = [settings.SITE_URL, *getattr(settings, "KLAVIYO_SANDBOX_WEBHOOK_TARGETS", [])]
    return _origin(url) in {_origin(target) for target in allowed}


# -- building deliveries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One POST to one webhook: where, the exact body bytes and the headers (signature included)."""

    webhook_id: str
    url: str
    body: bytes
    headers: dict[str, str]


def signature(secret: str, body: bytes, timestamp: str) -> str:
    """Return Klaviyo's `Klaviyo-Signature`: hex HMAC-SHA256 of the body then the timestamp."""
    return hmac.new(secret.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def _topics(account: SandboxAccount, events: list[SandboxResource]) -> dict[str, str]:
    """Return `{event id: topic}` from the events' metrics."""
    metric_of = {e.resource_id: str(e.relationships.get("metric")) for e in events}
    metrics = store.many(account, "metric", metric_of.values())
    names = {m.resource_id: str(m.attributes.get("name") or "") for m in metrics}
    return {event_id: metric_topic_id(names.get(m, "")) for event_id, m in metric_of.items()}


def _item(call: Call, event: SandboxResource, topic: str) -> dict[str, Any]:
    return {
        "topic": topic,
        "external_id": event.resource_id,
        "payload": {"data": resource_object(call, event)},
    }


def _delivery(
    account: SandboxAccount,
    webhook: SandboxResource,
    items: list[dict[str, Any]],
    now: datetime | None,
) -> Delivery:
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    document = {
        "data": items,
        "meta": {
            "klaviyo_account_id": account.public_key,
            "klaviyo_webhook_id": webhook.resource_id,
            "timestamp": moment.isoformat(timespec="microseconds"),
        },
    }
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    stamp = formatdate(moment.timestamp(), usegmt=True)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Klaviyo-Webhook-Id": webhook.resource_id,
        "Klaviyo-Timestamp": stamp,
    }
    # Klaviyo requires a secret on create (WebhookCreateQuery); one stored without it (admin,
    # old rows) is sent unsigned rather than signed with an empty key.
    secret = (webhook.internal or {}).get("secret_key")
    if secret:
        headers["Klaviyo-Signature"] = signature(str(secret), body, stamp)
    return Delivery(
        webhook.resource_id, str(webhook.attributes.get("endpoint_url") or ""), body, headers
    )


def delivery_build(
    *,
    webhook: SandboxResource,
    events: list[SandboxResource],
    base_url: str,
    now: datetime | None = None,
) -> Delivery:
    """Return the delivery of `events` (all of them, in order) to `webhook`, without sending it.

    `base_url` is the sandbox's API root (`http://127.0.0.1:8000/sandbox/klaviyo`), for the
    events' links; `now` the delivery's timestamp (default: now).
    """
    account = webhook.account
    topics = _topics(account, events)
    call = detached_call(account, base_url)
    return _delivery(account, webhook, [_item(call, e, topics[e.resource_id]) for e in events], now)


def deliveries_build(
    *,
    account: SandboxAccount,
    events: list[SandboxResource],
    base_url: str,
    now: datetime | None = None,
) -> list[Delivery]:
    """Return the deliveries recording `events` in one request makes, without sending them.

    One per enabled webhook subscribed to at least one of their topics, holding those of the
    events (in order); none when the account has no such webhook.
    """
    if not events:
        return []
    webhooks = [
        w for w in store.of_type(account, "webhook") if w.attributes.get("enabled", True) is True
    ]
    if not webhooks:
        return []
    topics = _topics(account, events)
    call = detached_call(account, base_url)
    rendered: dict[str, dict[str, Any]] = {}
    deliveries = []
    for webhook in webhooks:
        wanted = set(webhook.relationships.get("webhook-topics") or [])
        chosen = [e for e in events if topics[e.resource_id] in wanted]
        if not chosen:
            continue
        for event in chosen:
            if event.resource_id not in rendered:
                rendered[event.resource_id] = _item(call, event, topics[event.resource_id])
        items = [rendered[e.resource_id] for e in chosen]
        deliveries.append(_delivery(account, webhook, items, now))
    return deliveries


# -- sending -----------------------------------------------------------------------------------


def should_retry(status: int | None, error: Exception | None) -> bool:
    """Return whether a failed attempt is worth one retry: no connection, a timeout, or a 5xx."""
    if error is not None:
        return isinstance(error, requests.ConnectionError | requests.Timeout)
    return status is not None and status >= 500


def _attempt(delivery: Delivery) -> tuple[int | None, Exception | None]:
    try:
        response = requests.post(
            delivery.url,
            data=delivery.body,
            headers=delivery.headers,
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,  # a redirect could lead anywhere; Klaviyo wants a 2xx
        )
    except requests.RequestException as exc:
        return None, exc
    response.close()
    return response.status_code, None


def delivery_send(delivery: Delivery) -> bool:
    """POST a delivery (one retry after RETRY_DELAY_SECONDS); return whether a 2xx came back.

    Never raise: failures are logged on `integrations.klaviyo_sandbox.webhooks`.
    """
    # The origin only: a URL's path may be all that authenticates it (an unsigned hook).
    where = _origin(delivery.url)
    if not _contactable(delivery.url):
        logger.info("Webhook %s: not posting to %s", delivery.webhook_id, where)
        return False
    for attempt in (1, 2):
        status, error = _attempt(delivery)
        logger.info(
            "Webhook %s: attempt %s to %s answered %s",
            delivery.webhook_id,
            attempt,
            where,
            status if error is None else repr(error),
        )
        if status is not None and 200 <= status < 300:
            return True
        if attempt == 1 and should_retry(status, error):
            time.sleep(RETRY_DELAY_SECONDS)
            continue
        break
    logger.warning(
        "Webhook %s: delivery to %s failed (%s)",
        delivery.webhook_id,
        where,
        status if error is None else repr(error),
    )
    return False


def _run(delivery: Delivery) -> None:
    try:
        delivery_send(delivery)
    except Exception:  # a thread has nobody to raise to
        logger.exception("Webhook %s: delivery crashed", delivery.webhook_id)
    finally:
        with _pending_lock:
            _pending.discard(threading.current_thread())


def deliveries_start(deliveries: Iterable[Delivery]) -> None:
    """Post each delivery from its own daemon thread (see `wait_for_deliveries`)."""
    for delivery in deliveries:
        thread = threading.Thread(
            target=_run,
            args=(delivery,),
            name=f"sandbox-webhook-{delivery.webhook_id}",
            daemon=True,
        )
        with _pending_lock:
            _pending.add(thread)
        thread.start()


def deliveries_enqueue(
    *, account: SandboxAccount, events: list[SandboxResource], base_url: str
) -> None:
    """After the current transaction commits, build and start the deliveries of `events`.

    Rolled-back events are never announced. Errors are logged, never raised: the request that
    recorded the events has already succeeded.
    """
    if not events:
        return

    def send() -> None:
        try:
            deliveries_start(deliveries_build(account=account, events=events, base_url=base_url))
        except Exception:
            logger.exception("Could not build webhook deliveries for account %s", account.pk)

    transaction.on_commit(send)


def wait_for_deliveries(timeout: float = 10.0) -> bool:
    """Wait until every delivery started so far has finished; return False on `timeout` seconds.

    Deliveries start before the recording request answers, so after a response a test can call
    this and then look at what its receiver got.
    """
    deadline = time.monotonic() + timeout
    while True:
        with _pending_lock:
            threads = list(_pending)
        if not threads:
            return True
        for thread in threads:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            thread.join(remaining)
