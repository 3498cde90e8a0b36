"""Connections: one Klaviyo account's credentials, shared by every workflow of a workspace."""

from __future__ import annotations

from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone

from builder.models import Membership, User, WorkspaceScopedModel
from integrations.crypto import EncryptedJSONField
from integrations.sandbox import SANDBOX_APP


class Connection(WorkspaceScopedModel):
    """Credentials for one Klaviyo account: a private API key, OAuth2 tokens, or the sandbox.

    `secret` is encrypted at rest and never rendered; pages show `key_hint` (`pk_…abcd`).
    """

    class Kind(models.TextChoices):
        API_KEY = "api_key", "API key"
        OAUTH2 = "oauth2", "OAuth2"
        SANDBOX = "sandbox", "Sandbox"

    class Status(models.TextChoices):
        HEALTHY = "healthy", "Healthy"
        FAILING = "failing", "Failing"
        NEEDS_RECONNECT = "needs_reconnect", "Reconnect needed"
        REVOKED = "revoked", "Revoked"

    #: Statuses in which a connection makes no calls (see `unusable_reason`).
    UNUSABLE_STATUSES = (Status.REVOKED, Status.NEEDS_RECONNECT)

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.HEALTHY)
    status_message = models.CharField(max_length=500, blank=True)

    # What Klaviyo told us about the account (GET /api/accounts).
    account_id = models.CharField(max_length=64, blank=True)
    account_name = models.CharField(max_length=255, blank=True)
    public_key = models.CharField(
        max_length=64, blank=True, help_text="Public API key (company id) for client-side actions."
    )

    # {"api_key": ...} or {"access_token": ..., "refresh_token": ...}; encrypted.
    secret = EncryptedJSONField(default=dict, blank=True)
    key_hint = models.CharField(max_length=32, blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.JSONField(
        default=list, blank=True, help_text="Granted scopes; empty for API keys (unknown)."
    )
    revision = models.CharField(
        max_length=20, blank=True, help_text="Klaviyo API revision override; blank for the default."
    )
    sandbox_account_id = models.BigIntegerField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "status"])]

    def __str__(self) -> str:
        return self.name

    def unusable_reason(self) -> str | None:
        """Say why this connection cannot make calls now, or return None when it can.

        The one answer to "is this connection usable?": services, the engine, views and
        templates ask here (`usable_connections` filters on `UNUSABLE_STATUSES` likewise).
        """
        if self.status == self.Status.REVOKED:
            return (
                f"The connection “{self.name}” was disconnected; choose another connection "
                "or add this Klaviyo account again."
            )
        if self.status == self.Status.NEEDS_RECONNECT:
            reason = f" ({self.status_message})" if self.status_message else ""
            return f"The connection “{self.name}” needs to be reconnected{reason}."
        if self.is_sandbox and not apps.is_installed(SANDBOX_APP):
            return (
                f"The connection “{self.name}” uses the built-in sandbox, which is switched off "
                "on this Step Builder."
            )
        return None

    def change_refusal(self, user: User | None, membership: Membership | None) -> str | None:
        """Say why `user` (with this `membership` of the workspace) may not change the
        connection's credentials (replace the key, reconnect, reset, disconnect), or None.

        Only a workspace owner or whoever added the connection may: the one answer services,
        views and templates use.
        """
        if (membership is not None and membership.is_owner) or (
            user is not None and self.created_by_id == user.pk
        ):
            return None
        return "Only the workspace owner or the person who added this connection can do that."

    @property
    def is_usable(self) -> bool:
        return self.unusable_reason() is None

    # What a connection is, for pages and services (no kind/status strings in templates).
    @property
    def is_api_key(self) -> bool:
        return self.kind == self.Kind.API_KEY

    @property
    def is_oauth(self) -> bool:
        return self.kind == self.Kind.OAUTH2

    @property
    def is_sandbox(self) -> bool:
        return self.kind == self.Kind.SANDBOX

    @property
    def is_revoked(self) -> bool:
        return self.status == self.Status.REVOKED

    @property
    def needs_reconnect(self) -> bool:
        return self.status == self.Status.NEEDS_RECONNECT

    @property
    def is_healthy(self) -> bool:
        return self.status == self.Status.HEALTHY

    @property
    def has_replaceable_key(self) -> bool:
        """Tell whether a person may paste a new key (sandboxes have keys of their own)."""
        return self.is_api_key and not self.is_revoked

    @property
    def token_expires_soon(self) -> bool:
        if self.kind != self.Kind.OAUTH2 or self.token_expires_at is None:
            return False
        return self.token_expires_at <= timezone.now() + timedelta(minutes=5)


class ConnectionEvent(models.Model):
    """Something that happened to a connection, with when and who: the connection's log."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        TESTED = "tested", "Tested"
        REFRESHED = "refreshed", "Token refreshed"
        FAILED = "failed", "Failed"
        RENAMED = "renamed", "Renamed"
        RECONNECTED = "reconnected", "Reconnected"
        REVOKED = "revoked", "Disconnected"
        RESET = "reset", "Sandbox reset"

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"
