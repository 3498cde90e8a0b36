"""Push tokens, back-in-stock subscriptions and images (uploaded, never fetched).

The sandbox never downloads an image URL (tests stay offline and a sandbox must not be a way to
make the server fetch arbitrary URLs): an imported image keeps the URL it was given. An uploaded
file is kept in the database and served at `/sandbox/klaviyo/media/<public key>/<image id>`.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from typing import Any
from urllib.parse import urlsplit

from django.urls import reverse

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.handlers import events
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.api.relations import body_related_id
from integrations.klaviyo_sandbox.api.validation import validate_body
from integrations.klaviyo_sandbox.models import SandboxResource

MAX_IMAGE_BYTES = 5 * 1024 * 1024  # Klaviyo's upload limit
IMAGE_FORMATS = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "gif": "gif", "webp": "webp"}


def _token_attributes(attrs: dict[str, Any], call: Call) -> dict[str, Any]:
    return {
        "token": attrs["token"],
        "platform": attrs["platform"],
        "vendor": attrs.get("vendor"),
        "enablement_status": attrs.get("enablement_status") or "AUTHORIZED",
        "background": attrs.get("background") or "AVAILABLE",
        "recorded_date": call.now.isoformat(timespec="seconds"),
        "metadata": attrs.get("device_metadata") or {},
    }


def create_push_token(call: Call) -> Reply:
    """Answer POST /api/push-tokens and /client/push-tokens: upsert the profile's token; 202."""
    attrs = call.attributes
    pointer = "/data/attributes/profile/data/attributes"
    profile = events.event_profile(call.account, attrs["profile"]["data"], pointer)
    existing = store.of_type(call.account, "push-token").filter(attributes__token=attrs["token"])
    token = existing.first()
    values = _token_attributes(attrs, call)
    if token is None:
        store.create(
            call.account, "push-token", values, relationships={"profile": profile.resource_id}
        )
    else:
        token.attributes = values
        token.relationships = {"profile": profile.resource_id}
        store.save(token)
    return Reply(202)


def unregister_client_push_token(call: Call) -> Reply:
    """Answer POST /client/push-token-unregister: forget the token; 202 even if it was unknown."""
    store.of_type(call.account, "push-token").filter(
        attributes__token=call.attributes["token"]
    ).delete()
    return Reply(202)


def create_back_in_stock_subscription(call: Call) -> Reply:
    """Answer POST back-in-stock subscriptions (server and client): the variant must exist; 202."""
    pointer = "/data/relationships/variant/data/id"
    variant_id = body_related_id(call.data, "variant")
    variant = store.require(call.account, "catalog-variant", variant_id, pointer=pointer)
    target = call.attributes.get("profile") or {}
    if not target.get("data"):
        raise invalid("A profile is required.", pointer="/data/attributes/profile")
    profile_pointer = "/data/attributes/profile/data/attributes"
    profile = events.event_profile(call.account, target["data"], profile_pointer)
    store.create(
        call.account,
        "back-in-stock-subscription",
        {"channels": call.attributes["channels"]},
        relationships={"variant": variant.resource_id, "profile": profile.resource_id},
    )
    return Reply(202)


def _format(name: str) -> str:
    extension = posixpath.splitext(name)[1].lstrip(".").lower()
    return IMAGE_FORMATS.get(extension, extension or "jpeg")


def upload_image_from_url(call: Call) -> Reply:
    """Answer POST /api/images: record the image at `import_from_url` (not downloaded); 201."""
    url = call.attributes["import_from_url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid(
            "import_from_url must be an http(s) URL.", pointer="/data/attributes/import_from_url"
        )
    name = call.attributes.get("name") or posixpath.basename(parts.path) or "image"
    attrs = {
        "name": name,
        "image_url": url,
        "format": _format(parts.path),
        "size": 0,
        "hidden": bool(call.attributes.get("hidden")),
    }
    return single(call, store.create(call.account, "image", attrs), 201)


def upload_image_from_file(call: Call) -> Reply:
    """Answer POST /api/image-upload: multipart `file` (or JSON with base64 `file`); 201."""
    request = call.request
    if request.content_type.startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid("'file' is a required property", pointer="/file")
        content = upload.read(MAX_IMAGE_BYTES + 1)
        name = request.POST.get("name") or upload.name or "upload"
        hidden = request.POST.get("hidden", "false").lower() == "true"
    else:
        body = call.body if isinstance(call.body, dict) else {}
        validate_body(call.op["id"], body)
        try:
            content = base64.b64decode(str(body["file"]), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid("'file' must be base64-encoded image data.", pointer="/file") from exc
        name = body.get("name") or "upload"
        hidden = bool(body.get("hidden"))
    if len(content) > MAX_IMAGE_BYTES:
        raise ApiError(413, "too_large", "Images can be at most 5 MB.", pointer="/file")
    kind = sniff(content)
    if kind is None:
        raise invalid("The file is not a JPEG, PNG, GIF or WebP image.", pointer="/file")
    image = store.create(
        call.account,
        "image",
        {"name": name, "format": kind, "size": len(content), "hidden": hidden},
        internal={"content": base64.b64encode(content).decode(), "content_type": f"image/{kind}"},
    )
    path = reverse("klaviyo_sandbox:media", args=[call.account.public_key, image.resource_id])
    image.attributes = {**image.attributes, "image_url": call.request.build_absolute_uri(path)}
    store.save(image, touch=False)
    return single(call, image, 201)


def sniff(content: bytes) -> str | None:
    """Return the image format the bytes start with (jpeg, png, gif, webp), or None.

    The declared file name is not trusted: only real images are stored and served.
    """
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "webp"
    return None


def image_bytes(image: SandboxResource) -> tuple[bytes, str] | None:
    """Return the stored bytes and content type of an uploaded image (None for URL imports)."""
    content = image.internal.get("content")
    if content is None:
        return None
    return base64.b64decode(content), image.internal.get("content_type", "application/octet-stream")
