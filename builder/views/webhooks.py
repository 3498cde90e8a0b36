"""Inbound webhooks: `POST /hooks/<token>/` starts a run of the workflow whose URL it is.

Checked in this order, each refusal with a JSON `{"detail"}` a sender can act on: an unknown or
disarmed URL 404; a body over WEBHOOK_MAX_BYTES 413; too many requests for this workflow 429; a
missing or wrong `X-Signature-SHA256` 401 (hex HMAC-SHA256 of the raw body, compared in constant
time); a body that is not JSON or does not fit the trigger's schema 400. Accepted: 202
`{"id", "url"}` with the queued run. Refusals are noted in the trigger's recent deliveries.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from builder import strictjson
from builder.engine.triggers import KLAVIYO_WEBHOOK, WEBHOOK
from builder.models import Run, TriggerEvent, TriggerState
from builder.services.runs import PayloadInvalid, RunNotStored, run_start
from builder.triggers import klaviyo
from builder.triggers.base import (
    armed_state,
    event_record,
    note_delivered,
    note_refused,
    published_trigger,
    published_version,
    signature_matches,
)

logger = logging.getLogger("builder.webhooks")

SIGNATURE_HEADER = "X-Signature-SHA256"
#: Headers never copied into trigger data, whatever the trigger asks for.
SECRET_HEADERS = {"authorization", "cookie", "x-signature-sha256", "proxy-authorization"}


@functools.cache
def _run_url_template() -> str:
    return reverse("run_detail", args=[0]).replace("/0/", "/{}/")


def run_url(run_id: int) -> str:
    """The run's page (reverse() once, not per delivery)."""
    return _run_url_template().format(run_id)


def _opened(request: HttpRequest, token: str, kind: str) -> tuple[Any, bytes, JsonResponse | None]:
    """The armed trigger of the URL and the body, or why not: 404, 413 or 429."""
    state = armed_state(token, kind)
    if state is None:
        missing = JsonResponse({"detail": "No enabled workflow has this webhook URL."}, status=404)
        return None, b"", missing
    limit = settings.WEBHOOK_MAX_BYTES
    body = read_body(request, limit)
    if body is None:
        return state, b"", _refuse(state, 413, f"The body is over the limit of {limit} bytes.")
    if over_rate(state.workflow_id):
        busy = "Too many requests for this workflow; try again in a minute."
        return state, b"", _refuse(state, 429, busy)
    return state, body, None


def _unavailable() -> JsonResponse:
    logger.exception("A webhook delivery could not be stored")
    answer = JsonResponse(
        {"detail": "The delivery could not be stored right now; send it again shortly."},
        status=503,
    )
    answer["Retry-After"] = "5"
    return answer


def _refuse(state: TriggerState, status: int, detail: str, **extra: Any) -> JsonResponse:
    if status != 429:  # a flood is not written down request by request
        note_refused(state)
        event_record(
            workflow=state.workflow, kind=TriggerEvent.Kind.DELIVERY, accepted=False,
            detail=f"{status}: {detail}",
        )  # fmt: skip
    return JsonResponse({"detail": detail, **extra}, status=status)


def over_rate(workflow_id: int) -> bool:
    """Count this request against the workflow's per-minute allowance; True when it is spent."""
    key = f"hook-rate:{workflow_id}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.WEBHOOK_MAX_PER_MINUTE


def _length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def read_body(request: HttpRequest, limit: int) -> bytes | None:
    """The raw body, or None when it is longer than `limit` (read no further than that)."""
    if _length(request) > limit:
        return None
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def inbound(request: HttpRequest, token: str) -> JsonResponse:
    state, body, refusal = _opened(request, token, WEBHOOK)
    if refusal is not None:
        return refusal
    trigger = published_trigger(state.workflow, state.published_at)
    if trigger is None or trigger.type != WEBHOOK:
        return JsonResponse({"detail": "No enabled workflow has this webhook URL."}, status=404)
    if trigger.settings.get("signing") != "none":
        signature = request.headers.get(SIGNATURE_HEADER, "")
        secret = state.secret.get("signing", "")
        if not signature:
            return _refuse(state, 401, f"The {SIGNATURE_HEADER} header is missing.")
        if not secret:
            return _refuse(
                state, 401, "This webhook has no signing secret yet: enable the workflow (or "
                "regenerate its URL) to get one.",
            )  # fmt: skip
        if not signature_matches(secret, body, signature):
            return _refuse(state, 401, f"The {SIGNATURE_HEADER} signature does not match.")
    try:
        document: Any = strictjson.loads(body) if body.strip() else {}
    except strictjson.JsonRefused as refused:
        return _refuse(state, 400, f"The body is not JSON the app accepts: {refused}.")
    payload = {
        "body": document,
        "query": {name: request.GET.get(name, "")[:1000] for name in list(request.GET)[:50]},
        "headers": {
            name: request.headers.get(name, "")[:1000]
            for name in trigger.settings.get("headers", [])
            if name not in SECRET_HEADERS and name in request.headers
        },
    }
    try:
        run = run_start(
            workflow=state.workflow, payload=payload, trigger=Run.Trigger.WEBHOOK, burst=True,
            version=published_version(state.workflow, state.published_at),
            delivery=f"202: {len(body)} bytes",
        )  # fmt: skip
    except PayloadInvalid as invalid:
        problems = [problem.to_dict() for problem in invalid.problems]
        detail = f"The body does not fit the trigger's schema: {invalid}"
        return _refuse(state, 400, detail, problems=problems)
    except (RunNotStored, DatabaseError):
        return _unavailable()
    note_delivered(state, run.created_at)
    return JsonResponse({"id": run.pk, "url": run_url(run.pk)}, status=202)


@csrf_exempt
@require_POST
def klaviyo_inbound(request: HttpRequest, token: str) -> JsonResponse:
    """A Klaviyo system webhook delivery (builder/triggers/klaviyo.py checks it).

    202 `{"runs": [{"id", "url"}], "duplicates"}`: one run per new item of `data[]`, none for
    an item delivered before. 401 for a missing or wrong signature, webhook id or timestamp.
    """
    state, body, refusal = _opened(request, token, KLAVIYO_WEBHOOK)
    if refusal is not None:
        return refusal
    try:
        webhook_id = klaviyo.check_headers(state, body, request.headers)
        try:
            document: Any = strictjson.loads(body)
        except strictjson.JsonRefused as refused:
            raise klaviyo.DeliveryRefused(400, f"The body is not JSON: {refused}.") from refused
        delivery = klaviyo.delivery_items(state, document, webhook_id)
    except klaviyo.DeliveryRefused as why:
        return _refuse(state, why.status, why.detail)
    try:
        started = klaviyo.deliver(state, delivery.items)
    except DatabaseError:  # Klaviyo delivers again later; items taken so far stay taken
        return _unavailable()
    runs = started.runs
    detail = f"{len(delivery.items)} item(s): {len(runs)} started"
    if started.duplicates:
        detail += f", {started.duplicates} delivered before (nothing started)"
    if started.refused:
        detail += f", {started.refused} whose data cannot be stored (see below)"
    if delivery.skipped:
        detail += f", {delivery.skipped} without a payload"
    event_record(
        workflow=state.workflow, kind=TriggerEvent.Kind.DELIVERY, accepted=True, detail=detail
    )
    TriggerState.objects.filter(pk=state.pk).update(last_found=len(runs))
    answer = {
        "runs": [{"id": run.pk, "url": run_url(run.pk)} for run in runs],
        "duplicates": started.duplicates,
    }
    return JsonResponse(answer, status=202)
