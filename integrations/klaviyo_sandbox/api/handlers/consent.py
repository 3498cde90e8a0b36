"""Subscriptions and suppressions, stored in the profile's `attributes.subscriptions`.

The stored shape is the one Klaviyo serves with `additional-fields[profile]=subscriptions`
(https://developers.klaviyo.com/en/reference/get_profile): per channel, `consent`
(`SUBSCRIBED`, `UNSUBSCRIBED`, `NEVER_SUBSCRIBED`), `can_receive_*`, timestamps and, for email,
`suppression` / `list_suppressions`.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.handlers import jobs, profiles
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.api.relations import related_ids
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

CAN_RECEIVE = {
    ("email", "marketing"): "can_receive_email_marketing",
    ("sms", "marketing"): "can_receive_sms_marketing",
    ("sms", "transactional"): "can_receive_sms_transactional",
    ("mobile_push", "marketing"): "can_receive_push_marketing",
}


def _channel(
    consent: str = "NEVER_SUBSCRIBED", can: bool = False, key: str = "can_receive"
) -> dict[str, Any]:
    return {key: can, "consent": consent, "consent_timestamp": None, "last_updated": None}


def default_subscriptions() -> dict[str, Any]:
    """Return the subscriptions of a profile that never gave or refused consent."""
    email = _channel(key="can_receive_email_marketing")
    email.update(method=None, method_detail="", custom_method_detail=None, double_optin=None)
    email.update(suppression=[], list_suppressions=[])
    sms = _channel(key="can_receive_sms_marketing")
    sms.update(method=None, method_detail="")
    sms_transactional = _channel(key="can_receive_sms_transactional")
    sms_transactional.update(method=None, method_detail="")
    push = {"can_receive_push_marketing": False, "consent": "NEVER_SUBSCRIBED"}
    push["consent_timestamp"] = None
    return {
        "email": {"marketing": email},
        "sms": {"marketing": sms, "transactional": sms_transactional},
        "mobile_push": {"marketing": push},
        "whatsapp": {"marketing": _channel(), "transactional": _channel()},
    }


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def subscriptions_of(profile: SandboxResource, call: Call | None = None) -> dict[str, Any]:
    """Return the full served subscriptions of a profile (defaults + what was recorded)."""
    return _deep_merge(default_subscriptions(), profile.attributes.get("subscriptions") or {})


def set_consent(
    profile: SandboxResource,
    channel: str,
    purpose: str,
    consent: str,
    now: datetime,
    *,
    method: str = "API",
    detail: str | None = None,
) -> None:
    """Record `consent` for one channel/purpose on the profile (not yet saved)."""
    subs = subscriptions_of(profile)
    entry = subs.setdefault(channel, {}).setdefault(purpose, {})
    entry.update(consent=consent, consent_timestamp=iso(now), last_updated=iso(now))
    key = CAN_RECEIVE.get((channel, purpose), "can_receive")
    suppressed = channel == "email" and bool(entry.get("suppression"))
    entry[key] = consent == "SUBSCRIBED" and not suppressed
    if channel in ("email", "sms"):
        entry.update(method=method, method_detail=detail or "")
    profile.attributes = {**profile.attributes, "subscriptions": subs}


def _list_id(call: Call, name: str = "list") -> str | None:
    related = ((call.data or {}).get("relationships") or {}).get(name) or {}
    data = related.get("data") or {}
    if not data.get("id"):
        return None
    return store.require(
        call.account, name, data["id"], pointer=f"/data/relationships/{name}/data/id"
    ).resource_id


def _profile_for(call: Call, item: dict[str, Any], pointer: str) -> SandboxResource:
    attrs = item.get("attributes") or {}
    identity = {k: attrs[k] for k in profiles.IDENTIFIERS if attrs.get(k)}
    profile, _ = profiles.upsert(call.account, identity, profile_id=item.get("id"), pointer=pointer)
    return profile


def _channels(subscriptions: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for channel, purposes in (subscriptions or {}).items():
        name = "mobile_push" if channel == "push" else channel
        for purpose, value in (purposes or {}).items():
            if purpose in ("marketing", "transactional", "conversational") and value:
                found.append((name, purpose))
    return found


def bulk_subscribe_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-subscription-bulk-create-jobs: subscribe (add to list); 202."""
    return _bulk_consent(call, "SUBSCRIBED")


def bulk_unsubscribe_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-subscription-bulk-delete-jobs: unsubscribe (leave the list); 202."""
    return _bulk_consent(call, "UNSUBSCRIBED")


def _bulk_consent(call: Call, consent: str) -> Reply:
    list_id = _list_id(call)
    source = call.attributes.get("custom_source")
    members = []
    for index, item in enumerate(call.attributes["profiles"]["data"]):
        pointer = f"/data/attributes/profiles/data/{index}/attributes"
        profile = _profile_for(call, item, pointer)
        for channel, purpose in _channels((item.get("attributes") or {}).get("subscriptions")):
            set_consent(profile, channel, purpose, consent, call.now, detail=source)
        store.save(profile)
        members.append(profile.resource_id)
    if list_id and consent == "SUBSCRIBED":
        store.link_add(call.account, "list", [list_id], "profiles", "profile", members)
    elif list_id:
        store.link_remove(call.account, "list", [list_id], "profiles", members)
    return Reply(202)


def _targets(call: Call) -> tuple[list[SandboxResource], int, dict[str, Any]]:
    """Return the profiles a suppression job names (by email, list or segment) and skips."""
    account = call.account
    found: dict[str, SandboxResource] = {}
    skipped = 0
    for item in ((call.attributes.get("profiles") or {}).get("data")) or []:
        profile = profiles.find(account, profiles.clean(item.get("attributes") or {}))
        if profile is None:
            skipped += 1
        else:
            found[profile.resource_id] = profile
    relationships: dict[str, Any] = {}
    for name, plural in (("list", "lists"), ("segment", "segments")):
        group_id = _list_id(call, name)
        if group_id is None:
            continue
        relationships[plural] = [group_id]
        group = store.require(account, name, group_id)
        for profile in store.many(account, "profile", related_ids(group, "profiles")):
            found[profile.resource_id] = profile
    return list(found.values()), skipped, relationships


def bulk_suppress_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-suppression-bulk-create-jobs: suppress email; 202 + job."""
    return _bulk_suppression(call, suppress=True)


def bulk_unsuppress_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-suppression-bulk-delete-jobs: lift user suppressions; 202 + job."""
    return _bulk_suppression(call, suppress=False)


def _bulk_suppression(call: Call, *, suppress: bool) -> Reply:
    targets, skipped, relationships = _targets(call)
    for profile in targets:
        suppress_email(profile, call.now, suppress=suppress)
        store.save(profile)
    job = jobs.start(
        call.account,
        call.op["type"],
        total=len(targets) + skipped,
        skipped=skipped,
        relationships=relationships,
    )
    return single(call, job, call.op["status"])


def suppress_email(profile: SandboxResource, now: datetime, *, suppress: bool) -> None:
    """Add (or remove) a USER_SUPPRESSED email suppression on a profile (not yet saved)."""
    subs = subscriptions_of(profile)
    marketing = subs["email"]["marketing"]
    kept = [s for s in marketing.get("suppression") or [] if s.get("reason") != "USER_SUPPRESSED"]
    if suppress:
        kept.append({"reason": "USER_SUPPRESSED", "timestamp": iso(now)})
    marketing["suppression"] = kept
    marketing["can_receive_email_marketing"] = marketing.get("consent") == "SUBSCRIBED" and not kept
    profile.attributes = {**profile.attributes, "subscriptions": subs}


def client_subscribe(account: SandboxAccount, call: Call) -> Reply:
    """Answer POST /client/subscriptions: upsert and subscribe the profile, add it to the list."""
    target = call.attributes["profile"]["data"]
    attrs = target.get("attributes") or {}
    pointer = "/data/attributes/profile/data/attributes"
    profile, _ = profiles.upsert(account, attrs, profile_id=target.get("id"), pointer=pointer)
    for channel, purpose in _channels(attrs.get("subscriptions")):
        set_consent(profile, channel, purpose, "SUBSCRIBED", call.now, method="FORM")
    store.save(profile)
    list_id = _list_id(call)
    if list_id:
        store.link_add(account, "list", [list_id], "profiles", "profile", [profile.resource_id])
    return Reply(202)
