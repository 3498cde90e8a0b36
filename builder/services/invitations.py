"""Inviting people to a workspace: create, send, accept, decline, revoke.

Nobody becomes a member without accepting an invitation while signed in with the invited address,
and nothing here answers differently for an address that has an account and one that has not.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from builder.models import Invitation, Membership, User, Workspace

logger = logging.getLogger(__name__)

NO_LONGER_VALID = "This invitation is no longer valid."


def invitation_create(
    *, workspace: Workspace, email: str, role: str, invited_by: User
) -> tuple[Invitation, str]:
    """Invite `email` to `workspace`; return the invitation and its link token.

    The token exists only in the return value (the row keeps its hash): show it to the inviter and
    email it, then forget it. Inviting an address again replaces its open invitation, so the older
    link stops working. Raise ValidationError (on `email`) when the address belongs to a member
    already; whether it belongs to an account elsewhere makes no difference.
    """
    email = email.strip().lower()
    with transaction.atomic():
        # Serialise invitations to one workspace, so two owners inviting the same address at once
        # replace each other instead of tripping the one-open-invitation constraint.
        Workspace.objects.select_for_update().filter(pk=workspace.pk).exists()
        if Membership.objects.filter(workspace=workspace, user__email__iexact=email).exists():
            raise ValidationError({"email": f"{email} is already a member of this workspace."})
        now = timezone.now()
        Invitation.objects.for_workspace(workspace).open().filter(email=email).update(
            revoked_at=now
        )
        token = secrets.token_urlsafe(32)
        invitation = Invitation.objects.create(
            workspace=workspace,
            email=email,
            role=role,
            invited_by=invited_by,
            token_hash=Invitation.hash_token(token),
            expires_at=now + timedelta(seconds=settings.INVITATION_TTL),
        )
    return invitation, token


def invitation_send(*, invitation: Invitation, link: str) -> bool:
    """Email the invitation's link to the invited address; return False if the mail server failed.

    The inviter is shown the link too, so a failed send is logged and reported, never an error page.
    """
    inviter = invitation.invited_by
    who = inviter.get_full_name() if inviter else "A workspace owner"
    # Django refuses a subject with a line break in it (header injection): keep it on one line
    # whatever a workspace or user name holds.
    subject = " ".join(f"{who} invited you to {invitation.workspace} on Step Builder".split())
    body = render_to_string(
        "invitations/email.txt",
        {"invitation": invitation, "inviter": inviter, "who": who, "link": link},
    )
    try:
        send_mail(subject, body, None, [invitation.email])
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not email invitation %s", invitation.pk)
        return False
    return True


def _claim(invitation: Invitation, user: User | None = None, **answer: object) -> None:
    """Record an answer on a pending invitation, or raise ValidationError if it is not pending.

    A conditional UPDATE, so of two answers racing (accept and revoke, say) exactly one wins.
    """
    if user is not None and not invitation.is_for(user):
        raise ValidationError(
            f"This invitation is for {invitation.email}. Log in with that address to answer it.",
            code="wrong_email",
        )
    if not Invitation.objects.filter(pk=invitation.pk).pending().update(**answer):
        raise ValidationError(NO_LONGER_VALID, code="no_longer_valid")


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Make `user` a member of the invitation's workspace, with the invited role.

    Raise ValidationError with code "wrong_email" when `user` is not the invited address and
    "no_longer_valid" when the invitation was answered, revoked or has expired. A user who became a
    member some other way meanwhile keeps their membership as it is.
    """
    _claim(invitation, user, accepted_at=timezone.now())
    membership, _ = Membership.objects.get_or_create(
        workspace_id=invitation.workspace_id, user=user, defaults={"role": invitation.role}
    )
    return membership


def invitation_decline(*, invitation: Invitation, user: User) -> None:
    """Turn the invitation down; raise ValidationError like `invitation_accept`."""
    _claim(invitation, user, declined_at=timezone.now())


def invitation_revoke(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation so its link stops working.

    Raise ValidationError ("no_longer_valid") when it was answered or expired already.
    """
    _claim(invitation, revoked_at=timezone.now())
