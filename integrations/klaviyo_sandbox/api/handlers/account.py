"""The account itself, webhooks and tags.

`GET /api/accounts` answers the sandbox account (its id is the public key, as at Klaviyo) with
the sandbox account's name as `contact_information.organization_name`.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.text import slugify

from integrations.klaviyo_sandbox.api import engine, store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, conflict, invalid, not_found
from integrations.klaviyo_sandbox.api.jsonapi import resource_object, single
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from integrations.klaviyo_sandbox.webhooks import endpoint_problem

DEFAULT_TAG_GROUP = "Default Tag Group"
MAX_TAGS = 500  # Klaviyo's limit per account (create_tag)


def account_resource(account: SandboxAccount) -> SandboxResource:
    """Return the (unsaved) `account` resource describing a sandbox account."""
    slug = slugify(account.name) or "sandbox"
    return SandboxResource(
        account=account,
        type="account",
        resource_id=account.public_key,
        attributes={
            "test_account": True,
            "contact_information": {
                "default_sender_name": account.name,
                "default_sender_email": f"hello@{slug}.example.com",
                "website_url": f"https://{slug}.example.com",
                "organization_name": account.name,
                "street_address": {
                    "address1": "1 Sandbox Way",
                    "address2": None,
                    "city": "Boston",
                    "region": "MA",
                    "country": "US",
                    "zip": "02110",
                },
            },
            "industry": "Apparel & Accessories",
            "timezone": getattr(settings, "TIME_ZONE", "UTC"),
            "preferred_currency": "USD",
            "public_api_key": account.public_key,
            "locale": "en-US",
        },
        created=account.created_at,
        updated=account.created_at,
    )


def get_accounts(call: Call) -> Reply:
    """Answer GET /api/accounts: a one-element list with this account."""
    data = [resource_object(call, account_resource(call.account))]
    return Reply(200, {"data": data, "links": {"self": call.self_link()}})


def get_account(call: Call) -> Reply:
    """Answer GET /api/accounts/{id}: this account when the id is its public key, else 404."""
    if call.id != call.account.public_key:
        raise not_found("account", call.id)
    return single(call, account_resource(call.account))


# -- webhooks ----------------------------------------------------------------------------------


def _check_endpoint(url: str | None) -> None:
    problem = endpoint_problem(url) if url is not None else None
    if problem:
        raise invalid(problem, pointer="/data/attributes/endpoint_url")


def create_webhook(call: Call) -> Reply:
    """Answer POST /api/webhooks: https (or loopback http) endpoint, existing topics.

    The secret is kept in `internal["secret_key"]` and never served; deliveries are signed with it.
    """
    attrs = dict(call.attributes)
    _check_endpoint(attrs.get("endpoint_url"))
    secret = attrs.pop("secret_key", None)
    attrs.setdefault("enabled", True)
    attrs.setdefault("description", None)
    webhook = store.create(call.account, "webhook", attrs, internal={"secret_key": secret})
    engine.apply_relationships(webhook, (call.data or {}).get("relationships") or {})
    return single(call, webhook, 201)


def update_webhook(call: Call) -> Reply:
    """Answer PATCH /api/webhooks/{id}: like the generic update, keeping the secret internal."""
    engine.check_body_id(call)
    webhook = store.require(call.account, "webhook", call.id)
    attrs = dict(call.attributes)
    _check_endpoint(attrs.get("endpoint_url"))
    if "secret_key" in attrs:
        webhook.internal = {**webhook.internal, "secret_key": attrs.pop("secret_key")}
    store.merge_attributes(webhook, attrs)
    store.save(webhook)
    engine.apply_relationships(webhook, (call.data or {}).get("relationships") or {})
    return single(call, webhook)


# -- tags --------------------------------------------------------------------------------------


def default_tag_group(account: SandboxAccount) -> SandboxResource:
    """Return the account's default tag group, creating it on first use."""
    found = store.of_type(account, "tag-group").filter(attributes__default=True).first()
    if found is not None:
        return found
    attrs = {"name": DEFAULT_TAG_GROUP, "exclusive": False, "default": True}
    return store.create(account, "tag-group", attrs)


def create_tag(call: Call) -> Reply:
    """Answer POST /api/tags: in the given tag group or the default one; 409 for a repeated name."""
    rel = ((call.data or {}).get("relationships") or {}).get("tag-group") or {}
    group_id = (rel.get("data") or {}).get("id")
    pointer = "/data/relationships/tag-group/data/id"
    group = (
        store.require(call.account, "tag-group", group_id, pointer=pointer)
        if group_id
        else default_tag_group(call.account)
    )
    name = call.attributes["name"]
    if store.of_type(call.account, "tag").count() >= MAX_TAGS:
        raise invalid(f"An account cannot have more than {MAX_TAGS} tags.", pointer="/data")
    siblings = store.of_type(call.account, "tag").filter(
        **{"relationships__tag-group": group.resource_id, "attributes__name": name}
    )
    if siblings.exists():
        raise conflict(
            f"A tag named {name!r} already exists in this group.", pointer="/data/attributes/name"
        )
    tag = store.create(
        call.account, "tag", {"name": name}, relationships={"tag-group": group.resource_id}
    )
    return single(call, tag, 201)


def create_tag_group(call: Call) -> Reply:
    """Answer POST /api/tag-groups: a non-default group (exclusive when asked)."""
    default_tag_group(call.account)
    attrs = {
        "name": call.attributes["name"],
        "exclusive": bool(call.attributes.get("exclusive")),
        "default": False,
    }
    return single(call, store.create(call.account, "tag-group", attrs), 201)


def delete_tag_group(call: Call) -> Reply:
    """Answer DELETE /api/tag-groups/{id}: its tags go too; the default group cannot be deleted."""
    group = store.require(call.account, "tag-group", call.id)
    if group.attributes.get("default"):
        raise ApiError(400, "invalid", "The default tag group cannot be deleted.")
    engine.remove(group)
    return Reply(204)
