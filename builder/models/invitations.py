"""Invitations: how someone becomes a member of a workspace (never silently)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .accounts import Membership, User
from .scoping import WorkspaceQuerySet, WorkspaceScopedModel


class InvitationQuerySet(WorkspaceQuerySet):
    def open(self) -> InvitationQuerySet:
        """Return the invitations nobody has accepted, declined or revoked (expired ones too)."""
        return self.filter(accepted_at=None, declined_at=None, revoked_at=None)

    def pending(self) -> InvitationQuerySet:
        """Return the invitations that can still be accepted."""
        return self.open().filter(expires_at__gt=timezone.now())


class Invitation(WorkspaceScopedModel):
    """An invitation of an email address to a workspace, accepted through a secret link.

    Only the SHA-256 of the link's token is stored: the token has 256 random bits, so a fast hash
    is enough, and a leaked database row cannot be turned back into a working link.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        constraints = [
            # Inviting an address again replaces its open invitation (invitation_create).
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=Q(accepted_at=None, declined_at=None, revoked_at=None),
                name="one_open_invitation_per_email",
            )
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} to {self.workspace} ({self.status})"

    @staticmethod
    def hash_token(token: str) -> str:
        """Return the stored form of a link token."""
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def status(self) -> Invitation.Status:
        """Return where the invitation stands; only PENDING ones can be accepted."""
        if self.accepted_at:
            return self.Status.ACCEPTED
        if self.declined_at:
            return self.Status.DECLINED
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_owner(self) -> bool:
        """Whether accepting makes the invitee an owner of the workspace."""
        return self.role == Membership.Role.OWNER

    def is_for(self, user: User) -> bool:
        """Whether `user` has the address this invitation was sent to."""
        return user.email.lower() == self.email.lower()
