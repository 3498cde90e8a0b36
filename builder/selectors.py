"""Read-side queries of the builder app."""

from __future__ import annotations

from django.db.models import QuerySet

from builder.models import ApiToken, Invitation, Membership, User, Workspace


def memberships_of_user(user: User) -> QuerySet[Membership]:
    """Return the user's memberships with their workspaces, alphabetically."""
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace_id")
    )


def workspace_memberships(workspace: Workspace) -> QuerySet[Membership]:
    """Return the workspace's members, owners first."""
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("-role", "user__email")
    )


def workspace_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    """Return the workspace's invitations that can still be accepted, newest first."""
    return (
        Invitation.objects.for_workspace(workspace)
        .pending()
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_for_token(token: str) -> Invitation | None:
    """Return the invitation whose link carries `token` (in any state), or None."""
    if not token or len(token) > 100:  # ours are 43 characters; no need to hash a novel
        return None
    return (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


def workspace_api_tokens(workspace: Workspace) -> QuerySet[ApiToken]:
    """Return the workspace's API tokens that still work, newest first."""
    return ApiToken.objects.for_workspace(workspace).filter(revoked_at__isnull=True)
