"""Klaviyo system webhooks: registered in the account on enable, verified on every delivery.

Arming calls `KLAVIYO_CREATE_WEBHOOK` with the workflow's own URL (`/hooks/klaviyo/<token>/`)
and a generated secret; disarming calls `KLAVIYO_DELETE_WEBHOOK`. A delivery is accepted only
when `Klaviyo-Signature` is the hex HMAC-SHA256 of the raw body followed by the
`Klaviyo-Timestamp` value (compared in constant time), the timestamp is within
KLAVIYO_WEBHOOK_MAX_AGE seconds of now, and `Klaviyo-Webhook-Id` equals both
`meta.klaviyo_webhook_id` and the id Klaviyo gave this workflow's webhook
(https://developers.klaviyo.com/en/docs/working_with_system_webhooks). Each item of `data[]`
starts one run with its `payload` as the trigger data, once per `external_id`.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from builder.engine.triggers import Trigger
from builder.models import Run, TriggerState
from builder.triggers.base import (
    Started,
    TriggerArmError,
    connection_of,
    refused_item,
    runs_from_items,
    signature_matches,
)
from integrations.access import client_for
from integrations.klaviyo.actions import ActionResult, tier_for
from integrations.klaviyo.catalog import get_action
from integrations.klaviyo.catalog.requests import render, validate_params
from integrations.klaviyo.catalog.types import InvalidInput
from integrations.klaviyo.errors import KlaviyoError
from integrations.models import Connection
from integrations.services import connection_run_action

NO_WEBHOOK_ACCESS = (
    "This Klaviyo account cannot use webhooks (Klaviyo offers them on some plans only, and an "
    "OAuth connection needs the webhooks:write scope). Use a Klaviyo polling trigger instead: "
    "it starts the same runs, a minute or so later."
)


def klaviyo_webhook_url(state: TriggerState) -> str:
    """Where Klaviyo posts this workflow's deliveries, as Klaviyo reaches the app (SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + reverse("klaviyo_webhook_inbound", args=[state.token])


def _refusal(what: str, error: str | None, status: int | None) -> TriggerArmError:
    if status in (401, 403):
        return TriggerArmError(NO_WEBHOOK_ACCESS + f" (Klaviyo said: {error})")
    return TriggerArmError(f"Klaviyo refused to {what}: {error}")


class KlaviyoWebhookArmer:
    """Registers the workflow's webhook with Klaviyo, and removes it."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None:
        workflow = state.workflow
        connection = connection_of(workflow, trigger)
        registered = state.cursor.get("registered") or {}
        wanted = {"connection": connection.pk, "topics": sorted(trigger.settings["topics"])}
        if state.armed and state.external_id and registered == wanted:
            return  # the same webhook still serves the new version
        if state.external_id:
            self.disarm(state)
        secret = secrets.token_urlsafe(32)
        result = _create_webhook(
            connection,
            {
                "name": f"Step Builder: {workflow.name}"[:100],
                "description": f"Starts runs of the workflow “{workflow.name}” in Step Builder.",
                "endpoint_url": klaviyo_webhook_url(state),
                "secret_key": secret,
                "webhook_topic_ids": wanted["topics"],
            },
        )
        if not result.successful:
            raise _refusal("register the webhook", result.error, result.http_status)
        state.external_id = str(((result.data or {}).get("data") or {}).get("id") or "")
        state.secret = {**state.secret, "klaviyo": secret}
        state.cursor = {**state.cursor, "registered": wanted}

    def disarm(self, state: TriggerState) -> None:
        webhook_id = state.external_id
        trigger = Trigger("klaviyo_webhook", {"connection": _registered_connection(state)})
        state.external_id = ""
        state.secret = {k: v for k, v in state.secret.items() if k != "klaviyo"}
        state.cursor = {k: v for k, v in state.cursor.items() if k != "registered"}
        if not webhook_id:
            return
        try:
            connection = connection_of(state.workflow, trigger)
        except TriggerArmError as error:
            raise TriggerArmError(
                f"The webhook {webhook_id} could not be removed from Klaviyo ({error}); remove it "
                "in Klaviyo's settings."
            ) from error
        result = connection_run_action(
            connection=connection, key="KLAVIYO_DELETE_WEBHOOK", params={"webhook_id": webhook_id}
        )
        if not result.successful and result.http_status != 404:
            raise TriggerArmError(
                f"The webhook {webhook_id} could not be removed from Klaviyo ({result.error}); "
                "remove it in Klaviyo's settings."
            )


def _create_webhook(connection: Connection, params: dict[str, Any]) -> ActionResult:
    """KLAVIYO_CREATE_WEBHOOK; an http endpoint only for the sandbox (the app's own address).

    Klaviyo delivers to https addresses only, and the catalog checks that. The sandbox accepts
    a loopback http address too, so the embedded default's loop runs on one machine: its
    request is checked with an https stand-in for the address, then sent as it is.
    """
    key = "KLAVIYO_CREATE_WEBHOOK"
    url = params["endpoint_url"]
    if url.startswith("https://"):
        return connection_run_action(connection=connection, key=key, params=params)
    if connection.kind != Connection.Kind.SANDBOX:
        raise TriggerArmError(
            f"Klaviyo delivers webhooks to https addresses only, and this app's address is {url}: "
            "set SITE_URL to its public https address, or use a Klaviyo polling trigger."
        )
    action = get_action(key)
    try:
        validate_params(action, {**params, "endpoint_url": "https://sandbox.invalid/hook"})
        request = render(action, params)
        response = client_for(connection).send_request(request, tier=tier_for(action, request))
    except InvalidInput as error:
        return ActionResult(False, error.message, None, invalid_input=error)
    except KlaviyoError as error:
        return ActionResult.failed(error)
    return ActionResult(True, None, response.data, http_status=response.status)


def _registered_connection(state: TriggerState) -> str:
    pk = (state.cursor.get("registered") or {}).get("connection")
    found = Connection.objects.filter(pk=pk, workspace_id=state.workflow.workspace_id).first()
    return found.name if found else ""


# --- deliveries ---------------------------------------------------------------------------------


class DeliveryRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def parse_timestamp(value: str) -> datetime | None:
    """Read `Klaviyo-Timestamp`: an HTTP date (as Klaviyo sends it), ISO 8601 or Unix seconds."""
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Delivery:
    items: list[tuple[str, Any]]
    skipped: int = 0


def delivery_items(state: TriggerState, document: Any, header_id: str) -> Delivery:
    """Check the body against the registered webhook and return its (external id, payload)s.

    Raise DeliveryRefused (400 or 401) when it is not this workflow's webhook's delivery.
    """
    if not isinstance(document, dict) or not isinstance(document.get("data"), list):
        raise DeliveryRefused(400, 'A Klaviyo delivery is an object with a "data" list.')
    meta = document.get("meta") if isinstance(document.get("meta"), dict) else {}
    if str(meta.get("klaviyo_webhook_id") or "") != header_id:
        raise DeliveryRefused(
            401, "meta.klaviyo_webhook_id does not match the Klaviyo-Webhook-Id header."
        )
    delivery = Delivery([])
    for item in document["data"]:
        payload = item.get("payload") if isinstance(item, dict) else None
        external_id = item.get("external_id") if isinstance(item, dict) else None
        if not isinstance(payload, dict):
            delivery.skipped += 1
            continue
        if not isinstance(external_id, str | int) or not str(external_id):
            inner = payload.get("data") if isinstance(payload.get("data"), dict) else payload
            # No id: the item's content stands for it, so a redelivery is still known.
            external_id = (
                inner.get("id")
                or hashlib.sha256(
                    json.dumps(item, sort_keys=True, default=str).encode()
                ).hexdigest()
            )
        delivery.items.append((f"event:{external_id}", payload))
    return delivery


def check_headers(state: TriggerState, body: bytes, headers: Any) -> str:
    """Verify id, timestamp and signature; return the webhook id, or raise DeliveryRefused."""
    webhook_id = headers.get("Klaviyo-Webhook-Id", "")
    stamp = headers.get("Klaviyo-Timestamp", "")
    signature = headers.get("Klaviyo-Signature", "")
    secret = state.secret.get("klaviyo", "")
    if not (webhook_id and stamp and signature):
        raise DeliveryRefused(
            401, "Klaviyo-Webhook-Id, Klaviyo-Timestamp and Klaviyo-Signature are required."
        )
    if not secret or not state.external_id or webhook_id != state.external_id:
        raise DeliveryRefused(401, "Klaviyo-Webhook-Id is not the webhook registered for this URL.")
    if not signature_matches(secret, body, signature, suffix=stamp.encode()):
        raise DeliveryRefused(401, "The Klaviyo-Signature does not match the body and timestamp.")
    moment = parse_timestamp(stamp)
    if moment is None:
        raise DeliveryRefused(401, "Klaviyo-Timestamp is not a time.")
    age = abs((timezone.now() - moment).total_seconds())
    if age > settings.KLAVIYO_WEBHOOK_MAX_AGE:
        raise DeliveryRefused(
            401,
            f"Klaviyo-Timestamp is {int(age)} s away from now (at most "
            f"{settings.KLAVIYO_WEBHOOK_MAX_AGE} s): a replayed or delayed delivery.",
        )
    return webhook_id


def deliver(state: TriggerState, items: list[tuple[str, Any]]) -> Started:
    """Start one run per new item (items seen before start nothing)."""
    return runs_from_items(
        workflow=state.workflow, items=items, trigger_kind=Run.Trigger.KLAVIYO_WEBHOOK,
        on_refused=refused_item(state.workflow),
    )  # fmt: skip
