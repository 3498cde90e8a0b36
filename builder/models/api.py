"""Workspace API tokens: shown once, stored as a SHA-256 hash, sent as `Authorization: Bearer`."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .scoping import WorkspaceScopedModel

TOKEN_PREFIX = "sb_"  # noqa: S105 - a prefix, not a secret


def token_digest(token: str) -> str:
    """Return the stored form of a token (its SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(WorkspaceScopedModel):
    """A token that acts for its workspace in the JSON API until revoked."""

    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(max_length=12, editable=False, help_text="The token's last characters.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def new_secret() -> str:
        """Return a fresh token: unguessable, recognisable by its `sb_` prefix."""
        return TOKEN_PREFIX + secrets.token_urlsafe(32)
