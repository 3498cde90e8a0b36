"""Registries of the operations and resource types with real semantics (plain dicts).

Values are `"module:function"` names inside this package, imported on first use, so the generic
engine stays independent of them. Everything not listed is answered by `engine` from the
operation's path shape.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib import import_module
from typing import Any

_CATALOG_BULK = {
    f"bulk_{verb}_catalog_{noun}": "catalog:bulk_catalog_job"
    for verb in ("create", "update", "delete")
    for noun in ("items", "variants", "categories")
}

#: operation id -> handler(call) -> Reply
HANDLERS: dict[str, str] = {
    **_CATALOG_BULK,
    # profiles and consent
    "create_profile": "profiles:create_profile",
    "update_profile": "profiles:update_profile",
    "create_or_update_profile": "profiles:create_or_update_profile",
    "merge_profiles": "profiles:merge_profiles",
    "request_profile_deletion": "profiles:request_profile_deletion",
    "bulk_import_profiles": "imports:bulk_import_profiles",
    "bulk_subscribe_profiles": "consent:bulk_subscribe_profiles",
    "bulk_unsubscribe_profiles": "consent:bulk_unsubscribe_profiles",
    "bulk_suppress_profiles": "consent:bulk_suppress_profiles",
    "bulk_unsuppress_profiles": "consent:bulk_unsuppress_profiles",
    # segments
    "create_segment": "segments:create_segment",
    # events and reports
    "create_event": "events:create_event",
    "bulk_create_events": "events:bulk_create_events",
    "query_metric_aggregates": "reports:query_metric_aggregates",
    "query_campaign_values": "reports:query_campaign_values",
    "query_flow_values": "reports:query_flow_values",
    "query_flow_series": "reports:query_flow_series",
    # campaigns
    "create_campaign": "campaigns:create_campaign",
    "update_campaign": "campaigns:update_campaign",
    "update_campaign_message": "campaigns:update_campaign_message",
    "create_campaign_clone": "campaigns:create_campaign_clone",
    "assign_template_to_campaign_message": "campaigns:assign_template_to_campaign_message",
    "send_campaign": "campaigns:send_campaign",
    "cancel_campaign_send": "campaigns:cancel_campaign_send",
    "refresh_campaign_recipient_estimation": "campaigns:refresh_campaign_recipient_estimation",
    "get_campaign_recipient_estimation": "campaigns:get_campaign_recipient_estimation",
    # templates
    "get_templates": "templates:get_templates",
    "render_template": "templates:render_template",
    "clone_template": "templates:clone_template",
    # catalog and coupons
    "create_catalog_item": "catalog:create_catalog_object",
    "create_catalog_variant": "catalog:create_catalog_object",
    "create_catalog_category": "catalog:create_catalog_object",
    "create_coupon": "coupons:create_coupon",
    "create_coupon_code": "coupons:create_coupon_code",
    "bulk_create_coupon_codes": "coupons:bulk_create_coupon_codes",
    # flows
    "update_flow": "flows:update_flow",
    # account, webhooks, tags
    "get_accounts": "account:get_accounts",
    "get_account": "account:get_account",
    "create_webhook": "account:create_webhook",
    "update_webhook": "account:update_webhook",
    "create_tag": "account:create_tag",
    "create_tag_group": "account:create_tag_group",
    "delete_tag_group": "account:delete_tag_group",
    # devices and images
    "create_push_token": "devices:create_push_token",
    "create_back_in_stock_subscription": "devices:create_back_in_stock_subscription",
    "upload_image_from_url": "devices:upload_image_from_url",
    "upload_image_from_file": "devices:upload_image_from_file",
    # client-side endpoints
    "create_client_profile": "client:create_client_profile",
    "create_client_subscription": "client:create_client_subscription",
    "create_client_event": "events:create_event",
    "bulk_create_client_events": "events:bulk_create_client_events",
    "create_client_push_token": "devices:create_push_token",
    "unregister_client_push_token": "devices:unregister_client_push_token",
    "create_client_back_in_stock_subscription": "devices:create_back_in_stock_subscription",
}

_JOB_TYPES = [
    *(f"catalog-{noun}-bulk-{verb}-job" for noun in ("item", "variant", "category")
      for verb in ("create", "update", "delete")),
    "coupon-code-bulk-create-job",
    "profile-bulk-import-job",
    "profile-suppression-bulk-create-job",
    "profile-suppression-bulk-delete-job",
    "campaign-send-job",
    "campaign-recipient-estimation-job",
]  # fmt: skip

#: resource type -> hook(resource, attrs, now) adjusting served attributes (status from clock)
VIEW_HOOKS: dict[str, str] = {
    **dict.fromkeys(_JOB_TYPES, "jobs:view_job"),
    "campaign": "campaigns:view_campaign",
}

#: (type, additional field) -> fn(resource, call) computing `additional-fields[...]` values
ADDITIONAL: dict[tuple[str, str], str] = {
    ("profile", "subscriptions"): "consent:subscriptions_of",
    ("profile", "predictive_analytics"): "events:predictive_analytics",
    ("list", "profile_count"): "segments:list_profile_count",
    ("segment", "profile_count"): "segments:profile_count",
}

#: (type, filter/sort field) -> fn(resource, attrs) for fields that are not attributes
FILTER_FIELDS: dict[tuple[str, str], str] = {
    ("campaign", "messages.channel"): "campaigns:messages_channel",
    ("profile", "push_token"): "imports:push_tokens_of",
}

#: type -> hook(resource) run before the generic delete (which also deletes children)
BEFORE_DELETE: dict[str, str] = {
    "campaign": "campaigns:before_delete_campaign",
}


@cache
def resolve(name: str) -> Callable[..., Any]:
    """Import `"module:function"` from this package on first use and return the function."""
    module, _, function = name.partition(":")
    return getattr(import_module(f"{__name__}.{module}"), function)


def handler_for(op_id: str) -> Callable[..., Any] | None:
    """Return the special handler of an operation, or None to use the generic engine."""
    name = HANDLERS.get(op_id)
    return resolve(name) if name else None


def view_hook(kind: str) -> Callable[..., Any] | None:
    """Return the served-attributes hook of a resource type, if it has one."""
    name = VIEW_HOOKS.get(kind)
    return resolve(name) if name else None


def additional_value(kind: str, field: str) -> Callable[..., Any] | None:
    """Return the function computing an additional field, or None to serve the stored one."""
    name = ADDITIONAL.get((kind, field))
    return resolve(name) if name else None


def filter_field(kind: str, field: str) -> Callable[..., Any] | None:
    """Return the resolver of a non-attribute filter/sort field, if registered."""
    name = FILTER_FIELDS.get((kind, field))
    return resolve(name) if name else None


def before_delete(kind: str) -> Callable[..., Any] | None:
    """Return the hook to run before deleting a resource of this type, if any."""
    name = BEFORE_DELETE.get(kind)
    return resolve(name) if name else None
