"""Signing up, creating workspaces and managing who belongs to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from builder.models import Membership, User, Workspace


def _personal_workspace_name(user: User) -> str:
    """Return "<name>'s workspace", shortening a long name so the whole fits the column."""
    limit = Workspace._meta.get_field("name").max_length
    suffix = "'s workspace"
    who = user.name.strip() or user.email.split("@", 1)[0]
    if len(who) + len(suffix) > limit:
        who = who[: limit - len(suffix) - 1].rstrip() + "…"
    return who + suffix


@transaction.atomic
def user_signup(*, email: str, password: str, name: str = "") -> User:
    """Create a user and their personal workspace, which they own."""
    user = User.objects.create_user(email=email, password=password, name=name)
    workspace_create(owner=user, name=_personal_workspace_name(user))
    return user


@transaction.atomic
def workspace_create(*, owner: User, name: str) -> Workspace:
    """Create a workspace with `owner` as its owner."""
    workspace = Workspace.objects.create(name=name.strip())
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.Role.OWNER)
    return workspace


def workspace_rename(*, workspace: Workspace, name: str) -> Workspace:
    workspace.name = name.strip()
    workspace.full_clean()
    workspace.save(update_fields=["name"])
    return workspace


def workspace_retention_set(*, workspace: Workspace, days: int) -> Workspace:
    """Keep the workspace's finished runs for `days` days (the nightly prune deletes the rest)."""
    workspace.run_retention_days = days
    workspace.full_clean()
    workspace.save(update_fields=["run_retention_days"])
    return workspace


def membership_add(
    *, workspace: Workspace, email: str, role: str = Membership.Role.MEMBER
) -> Membership:
    """Add the existing user with `email` to `workspace` at once, without asking them.

    For test fixtures and scripts only: people in the app join through an invitation they accept
    (builder.services.invitations), and this function's errors say whether an account exists.
    Raise ValidationError (on the `email` field) when nobody has signed up with that address or
    they already belong to the workspace.
    """
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None:
        raise ValidationError(
            {"email": f"Nobody has signed up with {email}. Ask them to sign up first."}
        )
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError({"email": f"{user.email} is already a member of {workspace}."})
    return Membership.objects.create(workspace=workspace, user=user, role=role)


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member; the last owner of a workspace cannot be removed."""
    if membership.is_owner:
        owners = Membership.objects.select_for_update().filter(
            workspace_id=membership.workspace_id, role=Membership.Role.OWNER
        )
        if owners.count() <= 1:
            raise ValidationError("A workspace needs at least one owner.")
    membership.delete()
