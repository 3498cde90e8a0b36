"""The sandbox's HTTP entry points: every `/api/...` and `/client/...` request, and media.

One request goes through the same checks as at Klaviyo, in order: route (404/405), text the
database cannot store (400, see `limits`), credentials (401/403), `revision` header (400), rate
limits (429) and injected faults (503), query parameters and body (400), then the operation's
handler. Every answer is JSON:API with an `X-Klaviyo-Req-Id` header.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from integrations.klaviyo_sandbox.api import engine, limits, ratelimit, store
from integrations.klaviyo_sandbox.api.auth import authenticate, check_revision
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.handlers.devices import image_bytes
from integrations.klaviyo_sandbox.api.query import parse_query
from integrations.klaviyo_sandbox.api.router import route
from integrations.klaviyo_sandbox.api.validation import validate_body
from integrations.klaviyo_sandbox.models import SandboxAccount

JSON_API = "application/vnd.api+json"
JSON_TYPES = ("application/vnd.api+json", "application/json", "")
READ_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_BODY_BYTES = 5 * 1024 * 1024

logger = logging.getLogger(__name__)


def _response(reply: Reply, request_id: str, extra: dict[str, str]) -> HttpResponse:
    body = b"" if reply.document is None else json.dumps(reply.document).encode()
    response = HttpResponse(body, status=reply.status, content_type=JSON_API)
    for name, value in {**extra, **reply.headers}.items():
        response[name] = value
    response["X-Klaviyo-Req-Id"] = request_id
    response["Cache-Control"] = "no-store"
    return response


def _body(request: HttpRequest, op: dict[str, Any]) -> Any:
    """Decode and validate the JSON body an operation takes (multipart is the handler's)."""
    spec = op["body"]
    if spec is None:
        return None
    content_type = request.content_type or ""
    if spec["multipart"] and content_type.startswith("multipart/"):
        limits.check_form(request.POST, request.FILES)
        return None
    # Klaviyo takes bulk payloads up to 5 MB, more than Django's DATA_UPLOAD_MAX_MEMORY_SIZE,
    # so the body is read here with Klaviyo's limit instead of through `request.body`.
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "The request body is larger than Klaviyo's 5 MB limit.")
    raw = request.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large", "The request body is larger than Klaviyo's 5 MB limit.")
    if content_type not in JSON_TYPES and not spec["multipart"]:
        raise ApiError(
            415, "unsupported_media_type", f"Send the body as {JSON_API}, not {content_type}."
        )
    if not raw.strip():
        if spec["required"]:
            raise invalid("A JSON:API request body is required.", pointer="/data")
        return None
    document = limits.load_json(raw)
    if not spec["multipart"]:
        validate_body(op["id"], document)
    return document


def _refused_by_django(exc: SuspiciousOperation) -> ApiError:
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, "too_large", str(exc))
    return invalid(str(exc))


def _base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("klaviyo_sandbox:root")).rstrip("/")


@csrf_exempt
def api(request: HttpRequest, area: str, rest: str) -> HttpResponse:
    """Answer one Klaviyo API request (`/api/...` or `/client/...`)."""
    request_id = str(uuid.uuid4())
    headers: dict[str, str] = {}
    try:
        op, params = route(request.method or "GET", f"/{area}/{rest}")
        limits.check_params(params, request.GET)
        principal = authenticate(request, op)
        check_revision(request)
        headers = ratelimit.take(principal.account, op)
        ratelimit.inject_faults(principal.account)
        call = Call(
            request=request,
            account=principal.account,
            op=op,
            params=params,
            query=parse_query(op, request.GET),
            body=_body(request, op),
            base_url=_base_url(request),
        )
        if request.method in READ_METHODS:
            reply = engine.run(call)
        else:
            with transaction.atomic():
                reply = engine.run(call)
    except ApiError as error:
        reply = Reply(error.status, error.document(), error.headers)
    except SuspiciousOperation as exc:
        # Django's own request limits (DATA_UPLOAD_MAX_NUMBER_FIELDS, ...): 400 outside too.
        error = _refused_by_django(exc)
        reply = Reply(error.status, error.document())
    except Exception:
        logger.exception("Sandbox failed on %s %s", request.method, request.path)
        error = ApiError(500, "error", "The sandbox failed to answer this request.")
        reply = Reply(500, error.document())
    return _response(reply, request_id, headers)


def media(request: HttpRequest, public_key: str, image_id: str) -> HttpResponse:
    """Serve an image uploaded to a sandbox account (public, like Klaviyo's image CDN)."""
    if limits.text_problem(public_key) or limits.text_problem(image_id):
        raise Http404("No such image")  # PostgreSQL refuses NUL even in a query
    account = SandboxAccount.objects.filter(public_key=public_key).first()
    image = store.get(account, "image", image_id) if account else None
    content = image_bytes(image) if image else None
    if content is None:
        raise Http404("No such image")
    data, content_type = content
    response = HttpResponse(data, content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    # Uploads are checked to be raster images; these headers keep any surprise inert anyway.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def root(request: HttpRequest) -> HttpResponse:
    """Describe the sandbox (its API base URL) for people who open it in a browser."""
    document = {
        "sandbox": "Klaviyo API emulator",
        "api_base_url": _base_url(request),
        "revision": "2026-07-15",
        "docs": "https://developers.klaviyo.com/en/reference/api_overview",
    }
    return HttpResponse(json.dumps(document), content_type="application/json")
