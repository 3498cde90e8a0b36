"""Read-side queries of the builder app."""

from __future__ import annotations

from django.db.models import QuerySet

from builder.models import Membership, User, Workspace


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
