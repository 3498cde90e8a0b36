"""Admin pages for the sandbox: accounts (with their knobs), resources, OAuth apps and tokens.

Key, secret, code and token hashes are never shown; an account shows only its key's last four
characters. What the database cannot answer or store is refused like bad input anywhere (see
`api/limits.py`): a changelist query with NUL or an over-long search is a 400, resource JSON
the API would refuse is a form error.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.fields import InvalidJSONInput, JSONString
from django.utils.html import format_html

from builder.adminsafety import GuardedModelAdmin
from integrations.klaviyo_sandbox.api import limits
from integrations.klaviyo_sandbox.api.errors import ApiError
from integrations.klaviyo_sandbox.models import (
    SandboxAccount,
    SandboxLink,
    SandboxOAuthClient,
    SandboxOAuthGrant,
    SandboxOAuthToken,
    SandboxResource,
)

# SQLite refuses LIKE patterns over 50 000 bytes; no sandbox name or id is longer than this.


class SandboxModelAdmin(GuardedModelAdmin):
    """The sandbox's model admins: a changelist that refuses unanswerable queries with a 400."""


class StorableJSONField(forms.JSONField):
    """JSON the API would take: strict, at most `limits.MAX_DEPTH` deep, no NUL, no NaN."""

    def to_python(self, value: Any) -> Any:
        """Decode like Django's JSONField, but refuse (as a form error) what the API refuses."""
        if self.disabled or value in self.empty_values or not isinstance(value, str):
            return super().to_python(value)
        try:
            converted = limits.load_json(value.encode("utf-8", "surrogatepass"))
        except ApiError as error:
            raise ValidationError(error.detail, code="invalid") from error
        return JSONString(converted) if isinstance(converted, str) else converted

    def bound_data(self, data: Any, initial: Any) -> Any:
        """Show what was typed again; Django's own raises RecursionError on deep nesting."""
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)


@admin.register(SandboxAccount)
class SandboxAccountAdmin(SandboxModelAdmin):
    list_display = (
        "name",
        "public_key",
        "key_hint",
        "rate_limit_mode",
        "fault_every_n",
        "latency_ms",
        "created_at",
    )
    list_filter = ("rate_limit_mode",)
    search_fields = ("name", "public_key")
    fields = (
        "name",
        "public_key",
        "key_hint",
        "rate_limit_mode",
        "time_scale",
        "fault_every_n",
        "latency_ms",
        "request_count",
        "created_at",
    )
    readonly_fields = ("public_key", "key_hint", "request_count", "created_at")

    @admin.display(description="Private key")
    def key_hint(self, obj: SandboxAccount) -> str:
        """Show only the last four characters of the private key."""
        return f"pk_sandbox_…{obj.api_key_hint}"

    def has_add_permission(self, request: object) -> bool:
        # Accounts get their key from `sandbox_account_create` (it is shown once there).
        return False


@admin.register(SandboxResource)
class SandboxResourceAdmin(SandboxModelAdmin):
    list_display = ("type", "resource_id", "account", "created", "updated")
    list_filter = ("type",)
    search_fields = ("resource_id", "account__name", "account__public_key")
    list_select_related = ("account",)
    # `internal` is left out: it holds webhook secrets and uploaded image bytes.
    fields = (
        "account",
        "type",
        "resource_id",
        "pretty_attributes",
        "attributes",
        "relationships",
        "internal_keys",
        "created",
        "updated",
    )
    readonly_fields = ("pretty_attributes", "internal_keys")
    raw_id_fields = ("account",)
    formfield_overrides = {models.JSONField: {"form_class": StorableJSONField}}

    @admin.display(description="Attributes (formatted)")
    def pretty_attributes(self, obj: SandboxResource) -> str:
        """Render the attributes as indented JSON."""
        return format_html("<pre>{}</pre>", json.dumps(obj.attributes, indent=2, sort_keys=True))

    @admin.display(description="Sandbox-only state")
    def internal_keys(self, obj: SandboxResource) -> str:
        """Name the internal keys without showing their values."""
        return ", ".join(sorted(obj.internal)) or "—"


@admin.register(SandboxLink)
class SandboxLinkAdmin(SandboxModelAdmin):
    list_display = ("src_type", "src_id", "rel", "dst_type", "dst_id", "account", "created")
    list_filter = ("src_type", "rel")
    search_fields = ("src_id", "dst_id")
    raw_id_fields = ("account",)


@admin.register(SandboxOAuthClient)
class SandboxOAuthClientAdmin(SandboxModelAdmin):
    list_display = ("name", "client_id", "created_at")
    search_fields = ("name", "client_id")
    fields = ("name", "client_id", "redirect_uris", "created_at")
    readonly_fields = ("client_id", "created_at")

    def has_add_permission(self, request: object) -> bool:
        # Clients get their secret from `sandbox_oauth_client` (it is shown once there).
        return False


@admin.register(SandboxOAuthGrant)
class SandboxOAuthGrantAdmin(SandboxModelAdmin):
    list_display = ("client", "account", "scopes", "expires_at", "used_at")
    fields = ("client", "account", "redirect_uri", "scopes", "expires_at", "used_at")
    readonly_fields = fields

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(SandboxOAuthToken)
class SandboxOAuthTokenAdmin(SandboxModelAdmin):
    list_display = ("kind", "client", "account", "scopes", "created_at", "expires_at", "revoked_at")
    list_filter = ("kind",)
    fields = (
        "kind",
        "client",
        "account",
        "scopes",
        "parent",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    readonly_fields = ("kind", "client", "account", "scopes", "parent", "created_at", "expires_at")

    def has_add_permission(self, request: object) -> bool:
        return False
