"""Profiles: identifier rules, 409 duplicates, upserts, merges and deletion requests.

Klaviyo identifies a profile by `email`, `phone_number` (E.164) or `external_id`; creating a
second profile with a taken identifier answers 409 `duplicate_profile` with the existing id in
`errors[0].meta.duplicate_profile_id` (https://developers.klaviyo.com/en/reference/create_profile).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from django.db.models import Q

from integrations.klaviyo_sandbox.api import engine, store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxLink, SandboxResource

IDENTIFIERS = ("email", "phone_number", "external_id")
STORED = {
    "email",
    "phone_number",
    "external_id",
    "first_name",
    "last_name",
    "organization",
    "locale",
    "title",
    "image",
    "location",
    "properties",
}
MERGED = ("location", "properties")  # PATCH merges these objects key by key
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")


def clean(attributes: dict[str, Any], pointer: str = "/data/attributes") -> dict[str, Any]:
    """Return the storable profile attributes; raise 400 for a malformed email or phone."""
    out = {k: copy.deepcopy(v) for k, v in attributes.items() if k in STORED}
    email = out.get("email")
    if email is not None:
        email = str(email).strip().lower()
        if not _EMAIL.match(email):
            raise invalid(
                f"Invalid email address: {attributes['email']!r}.", pointer=f"{pointer}/email"
            )
        out["email"] = email
    phone = out.get("phone_number")
    if phone is not None:
        phone = re.sub(r"[\s().-]", "", str(phone))
        if not _PHONE.match(phone):
            raise invalid(
                f"Invalid phone number format: {attributes['phone_number']!r}; use E.164 "
                "(+15005550006).",
                pointer=f"{pointer}/phone_number",
            )
        out["phone_number"] = phone
    return out


def find(account: SandboxAccount, attributes: dict[str, Any]) -> SandboxResource | None:
    """Return the profile holding any of the identifiers in `attributes` (email first)."""
    for name in IDENTIFIERS:
        value = attributes.get(name)
        if value:
            match = store.of_type(account, "profile").filter(**{f"attributes__{name}": value})
            found = match.first()
            if found is not None:
                return found
    return None


def check_duplicate(
    account: SandboxAccount, attributes: dict[str, Any], exclude: str | None = None
) -> None:
    """Raise the 409 Klaviyo answers when another profile already has one of the identifiers."""
    query = Q()
    for name in IDENTIFIERS:
        if attributes.get(name):
            query |= Q(**{f"attributes__{name}": attributes[name]})
    if not query:
        return
    other = store.of_type(account, "profile").filter(query).exclude(resource_id=exclude).first()
    if other is not None:
        raise ApiError(
            409,
            "duplicate_profile",
            "A profile already exists with one of these identifiers.",
            title="Conflict.",
            meta={"duplicate_profile_id": other.resource_id},
        )


def require_identifier(attributes: dict[str, Any], pointer: str = "/data/attributes") -> None:
    """Raise 400 unless the attributes name at least one identifier."""
    if not any(attributes.get(name) for name in IDENTIFIERS):
        raise invalid(
            "One of email, phone_number or external_id is required to identify a profile.",
            pointer=pointer,
        )


def apply(profile: SandboxResource, changes: dict[str, Any], meta: dict[str, Any] | None) -> None:
    """Apply attribute changes (merging location/properties) and `meta.patch_properties`."""
    attrs = dict(profile.attributes)
    for name, value in changes.items():
        if name in MERGED and isinstance(value, dict) and isinstance(attrs.get(name), dict):
            attrs[name] = {**attrs[name], **value}
        else:
            attrs[name] = value
    patch = (meta or {}).get("patch_properties") or {}
    props = dict(attrs.get("properties") or {})
    for key, value in (patch.get("append") or {}).items():
        current = props.get(key)
        current = current if isinstance(current, list) else [] if current is None else [current]
        props[key] = current + (value if isinstance(value, list) else [value])
    for key, value in (patch.get("unappend") or {}).items():
        removed = value if isinstance(value, list) else [value]
        if isinstance(props.get(key), list):
            props[key] = [item for item in props[key] if item not in removed]
    unset = patch.get("unset") or []
    for key in [unset] if isinstance(unset, str) else unset:
        props.pop(key, None)
    if patch:
        attrs["properties"] = props
    profile.attributes = attrs


def upsert(
    account: SandboxAccount,
    attributes: dict[str, Any],
    *,
    profile_id: str | None = None,
    meta: dict[str, Any] | None = None,
    pointer: str = "/data/attributes",
) -> tuple[SandboxResource, bool]:
    """Create or update the profile the id or identifiers name; return `(profile, created)`."""
    changes = clean(attributes, pointer)
    if profile_id:
        profile = store.require(account, "profile", profile_id, pointer="/data/id")
    else:
        profile = find(account, changes)
    if profile is None:
        require_identifier(changes, pointer)
        profile = store.create(account, "profile", {})
        apply(profile, changes, meta)
        store.save(profile, touch=False)
        return profile, True
    check_duplicate(account, changes, exclude=profile.resource_id)
    apply(profile, changes, meta)
    store.save(profile)
    return profile, False


def create_profile(call: Call) -> Reply:
    """Answer POST /api/profiles: 201, or 409 with `duplicate_profile_id` for a taken identifier."""
    changes = clean(call.attributes)
    require_identifier(changes)
    check_duplicate(call.account, changes)
    profile = store.create(call.account, "profile", {})
    apply(profile, changes, (call.data or {}).get("meta"))
    store.save(profile, touch=False)
    return single(call, profile, 201)


def update_profile(call: Call) -> Reply:
    """Answer PATCH /api/profiles/{id}: merge changes; 409 if an identifier is someone else's."""
    engine.check_body_id(call)
    profile = store.require(call.account, "profile", call.id)
    changes = clean(call.attributes)
    check_duplicate(call.account, changes, exclude=profile.resource_id)
    apply(profile, changes, (call.data or {}).get("meta"))
    store.save(profile)
    return single(call, profile)


def create_or_update_profile(call: Call) -> Reply:
    """Answer POST /api/profile-import: upsert by id or identifiers; 201 when created, else 200."""
    data = call.data or {}
    profile, created = upsert(
        call.account, call.attributes, profile_id=data.get("id"), meta=data.get("meta")
    )
    return single(call, profile, 201 if created else 200)


def merge_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-merge: fold the listed profiles into `data.id` and delete them."""
    data = call.data
    account = call.account
    destination = store.require(account, "profile", data["id"], pointer="/data/id")
    sources = []
    listed = data["relationships"]["profiles"].get("data") or []
    if not listed:
        raise invalid(
            "Name at least one profile to merge.", pointer="/data/relationships/profiles/data"
        )
    for index, item in enumerate(listed):
        pointer = f"/data/relationships/profiles/data/{index}/id"
        source = store.require(account, "profile", item["id"], pointer=pointer)
        if source.resource_id != destination.resource_id:
            sources.append(source)
    for source in sources:
        attrs = dict(destination.attributes)
        for name, value in source.attributes.items():
            if attrs.get(name) in (None, "", {}, []):
                attrs[name] = value
            elif name in MERGED and isinstance(value, dict):
                attrs[name] = {**value, **attrs[name]}
        destination.attributes = attrs
        _move_profile_data(account, source.resource_id, destination.resource_id)
        store.delete(source)
    store.save(destination)
    return single(call, destination, call.op["status"])


def _move_profile_data(account: SandboxAccount, old: str, new: str) -> None:
    for kind in ("event", "push-token", "coupon-code", "back-in-stock-subscription"):
        for item in store.of_type(account, kind).filter(relationships__profile=old):
            item.relationships = {**item.relationships, "profile": new}
            store.save(item, touch=False)
    links = SandboxLink.objects.filter(account=account, dst_type="profile", dst_id=old)
    for link in links:
        store.link_add(
            account, link.src_type, [link.src_id], link.rel, "profile", [new], at=link.created
        )
    links.delete()


def delete_profile_data(profile: SandboxResource) -> None:
    """Delete a profile with its events, push tokens and memberships (privacy deletion)."""
    account = profile.account
    for kind in ("event", "push-token", "back-in-stock-subscription"):
        store.of_type(account, kind).filter(relationships__profile=profile.resource_id).delete()
    store.delete(profile)


def request_profile_deletion(call: Call) -> Reply:
    """Answer POST /api/data-privacy-deletion-jobs: delete the profile if it exists; always 202."""
    target = call.attributes["profile"]["data"]
    found = None
    if target.get("id"):
        found = store.get(call.account, "profile", str(target["id"]))
    if found is None:
        found = find(
            call.account,
            clean(target.get("attributes") or {}, "/data/attributes/profile/data/attributes"),
        )
    if found is not None:
        delete_profile_data(found)
    return Reply(202)
