"""Invitation services: nobody joins a workspace without accepting, as the invited address."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from builder.models import Invitation, Membership
from builder.services.invitations import (
    invitation_accept,
    invitation_decline,
    invitation_revoke,
    invitation_send,
)


def is_member(user, workspace):
    return Membership.objects.filter(user=user, workspace=workspace).exists()


def test_an_invitation_makes_nobody_a_member_until_it_is_accepted(invite, charlie, alice_workspace):
    invitation, _ = invite("Charlie@Example.com")
    assert invitation.email == "charlie@example.com"
    assert invitation.is_pending
    assert not is_member(charlie, alice_workspace)

    membership = invitation_accept(invitation=invitation, user=charlie)

    assert membership.workspace == alice_workspace
    assert membership.role == Membership.Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_accepting_gives_the_invited_role(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email, role=Membership.Role.OWNER)
    assert invitation_accept(invitation=invitation, user=charlie).is_owner


def test_only_a_hash_of_the_token_is_stored(invite):
    invitation, token = invite("dana@example.com")
    assert len(token) >= 43
    assert invitation.token_hash == Invitation.hash_token(token)
    assert token not in invitation.token_hash


def test_invitations_expire_after_seven_days_by_default(invite):
    invitation, _ = invite("dana@example.com")
    assert invitation.expires_at - invitation.created_at == pytest.approx(
        timedelta(days=7), abs=timedelta(seconds=5)
    )


def test_the_lifetime_is_a_setting(invite, settings):
    settings.INVITATION_TTL = 3600
    invitation, _ = invite("dana@example.com")
    assert invitation.expires_at - timezone.now() < timedelta(hours=1, seconds=5)


def test_an_expired_invitation_cannot_be_accepted(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.EXPIRED
    with pytest.raises(ValidationError) as error:
        invitation_accept(invitation=invitation, user=charlie)
    assert error.value.code == "no_longer_valid"
    assert not is_member(charlie, alice_workspace)


def test_a_revoked_invitation_cannot_be_accepted(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email)
    invitation_revoke(invitation=invitation)
    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept(invitation=invitation, user=charlie)
    assert not is_member(charlie, alice_workspace)


def test_an_invitation_is_accepted_only_once(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email)
    invitation_accept(invitation=invitation, user=charlie)
    Membership.objects.filter(user=charlie, workspace=alice_workspace).delete()  # removed later
    with pytest.raises(ValidationError, match="no longer valid"):
        invitation_accept(invitation=invitation, user=charlie)
    assert not is_member(charlie, alice_workspace)


def test_someone_with_another_address_cannot_accept_or_decline(invite, charlie, bob):
    invitation, _ = invite(charlie.email)
    for answer in (invitation_accept, invitation_decline):
        with pytest.raises(ValidationError) as error:
            answer(invitation=invitation, user=bob)
        assert error.value.code == "wrong_email"
        assert "charlie@example.com" in error.value.message
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_a_declined_invitation_is_closed(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email)
    invitation_decline(invitation=invitation, user=charlie)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.DECLINED
    with pytest.raises(ValidationError):
        invitation_accept(invitation=invitation, user=charlie)
    assert not is_member(charlie, alice_workspace)


def test_revoking_twice_says_it_is_no_longer_pending(invite):
    invitation, _ = invite("dana@example.com")
    invitation_revoke(invitation=invitation)
    with pytest.raises(ValidationError) as error:
        invitation_revoke(invitation=invitation)
    assert error.value.code == "no_longer_valid"


def test_inviting_an_address_again_replaces_its_open_invitation(invite, charlie):
    first, _ = invite(charlie.email)
    second, _ = invite(charlie.email)
    first.refresh_from_db()
    assert first.status == Invitation.Status.REVOKED
    assert second.is_pending
    with pytest.raises(ValidationError):
        invitation_accept(invitation=first, user=charlie)
    invitation_accept(invitation=second, user=charlie)


def test_inviting_a_member_says_they_are_one(invite, bob):
    with pytest.raises(ValidationError) as error:
        invite("BOB@example.com")
    assert "already a member" in error.value.message_dict["email"][0]


def test_a_member_who_joined_meanwhile_keeps_their_role(invite, charlie, alice_workspace):
    invitation, _ = invite(charlie.email, role=Membership.Role.OWNER)
    Membership.objects.create(workspace=alice_workspace, user=charlie)
    assert not invitation_accept(invitation=invitation, user=charlie).is_owner


def test_the_email_carries_the_link_the_workspace_and_the_inviter(invite):
    invitation, token = invite("dana@example.com")
    assert invitation_send(invitation=invitation, link=f"https://sb.example/invitations/{token}/")
    (message,) = mail.outbox
    assert message.to == ["dana@example.com"]
    assert message.subject == "Alice invited you to Alice's workspace on Step Builder"
    assert f"https://sb.example/invitations/{token}/" in message.body
    assert "alice@example.com" in message.body


def test_a_line_break_in_a_name_never_breaks_the_email(invite, alice_workspace):
    alice_workspace.name = "Evil\nBcc: victim@example.com"
    alice_workspace.save()
    invitation, _ = invite("dana@example.com")
    assert invitation_send(invitation=invitation, link="https://sb.example/i/x/")
    assert "\n" not in mail.outbox[0].subject


def test_a_mail_server_failure_is_reported_not_raised(invite, monkeypatch):
    invitation, _ = invite("dana@example.com")

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("builder.services.invitations.send_mail", refuse)
    assert invitation_send(invitation=invitation, link="https://sb.example/i/x/") is False
