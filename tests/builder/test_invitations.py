"""The invitee's pages: log in first, accept or decline as the invited address, stale links."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from builder.models import Invitation, Membership
from builder.services.invitations import invitation_revoke
from tests.conftest import PASSWORD


def detail(token):
    return reverse("invitation_detail", args=[token])


def accept(token):
    return reverse("invitation_accept", args=[token])


def is_member(user, workspace):
    return Membership.objects.filter(user=user, workspace=workspace).exists()


def test_a_logged_out_visitor_is_asked_to_log_in_or_sign_up_and_learns_nothing(client, invite):
    _, token = invite("dana@example.com")
    response = client.get(detail(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="/accounts/login/?next=/invitations/{token}/"' in body
    assert f'href="/accounts/signup/?next=/invitations/{token}/"' in body
    assert "Alice" not in body
    assert "dana@example.com" not in body


def test_a_logged_out_visitor_cannot_tell_a_real_link_from_a_made_up_one(client, invite):
    _, token = invite("dana@example.com")
    real = client.get(detail(token)).content.decode().replace(token, "TOKEN")
    fake = client.get(detail("made-up")).content.decode().replace("made-up", "TOKEN")
    assert real.split("<main")[1] == fake.split("<main")[1]


def test_logging_in_from_the_invitation_comes_back_to_it(client, invite, charlie):
    _, token = invite(charlie.email)
    response = client.post(
        f"{reverse('login')}?next={detail(token)}",
        {"username": charlie.email, "password": PASSWORD, "next": detail(token)},
    )
    assert response.status_code == 302
    assert response.url == detail(token)


def test_the_invitee_sees_the_workspace_and_who_invited_them(client_for, invite, charlie):
    _, token = invite(charlie.email)
    response = client_for(charlie).get(detail(token))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Join “Alice&#x27;s workspace”" in body
    assert "Alice (alice@example.com)" in body
    assert f'action="{accept(token)}"' in body
    assert f'action="{reverse("invitation_decline", args=[token])}"' in body


def test_an_invitee_is_no_member_and_has_no_switcher_entry_until_they_accept(
    client_for, invite, charlie, alice_workspace
):
    _, token = invite(charlie.email)
    client = client_for(charlie)
    assert "Alice&#x27;s workspace" not in client.get(reverse("dashboard")).content.decode()
    assert not is_member(charlie, alice_workspace)

    response = client.post(accept(token))

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    membership = Membership.objects.get(user=charlie, workspace=alice_workspace)
    assert membership.role == Membership.Role.MEMBER
    dashboard = client.get(reverse("dashboard"))
    assert dashboard.context["current_workspace"] == alice_workspace
    assert "You joined Alice&#x27;s workspace" in dashboard.content.decode()


def test_someone_logged_in_with_another_address_is_told_whom_it_is_for(
    client_for, invite, charlie, alice_workspace
):
    _, token = invite("dana@example.com")
    client = client_for(charlie)
    page = client.get(detail(token)).content.decode()
    assert "This invitation is for another address" in page
    assert "dana@example.com" in page
    assert "Alice&#x27;s workspace" not in page

    response = client.post(accept(token))

    assert response.status_code == 403
    assert "It was sent to <strong>dana@example.com</strong>" in response.content.decode()
    assert not is_member(charlie, alice_workspace)
    assert Invitation.objects.get().is_pending


def test_another_address_cannot_decline_it_either(client_for, invite, charlie):
    _, token = invite("dana@example.com")
    response = client_for(charlie).post(reverse("invitation_decline", args=[token]))
    assert response.status_code == 403
    assert Invitation.objects.get().is_pending


def test_declining_closes_the_invitation(client_for, invite, charlie, alice_workspace):
    _, token = invite(charlie.email)
    client = client_for(charlie)
    response = client.post(reverse("invitation_decline", args=[token]), follow=True)
    assert "You declined the invitation to Alice&#x27;s workspace." in response.content.decode()
    assert not is_member(charlie, alice_workspace)
    assert Invitation.objects.get().status == Invitation.Status.DECLINED
    assert client.get(detail(token)).status_code == 410


def make_expired(invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())


@pytest.mark.parametrize("spoil", [make_expired, lambda i: invitation_revoke(invitation=i)])
def test_an_expired_or_revoked_link_says_it_is_no_longer_valid(
    client_for, invite, charlie, alice_workspace, spoil
):
    invitation, token = invite(charlie.email)
    spoil(invitation)
    client = client_for(charlie)
    page = client.get(detail(token))
    assert page.status_code == 410
    assert "This invitation is no longer valid" in page.content.decode()
    assert "Alice" not in page.content.decode().split("<main")[1]
    assert client.post(accept(token)).status_code == 410
    assert not is_member(charlie, alice_workspace)


def test_a_used_link_is_no_longer_valid(client_for, invite, charlie):
    _, token = invite(charlie.email)
    client = client_for(charlie)
    client.post(accept(token))
    assert client.get(detail(token)).status_code == 410
    assert client.post(accept(token)).status_code == 410


@pytest.mark.parametrize(
    "token", ["made-up", "x" * 5000, "nul%00byte", "%E2%98%83snowman", "with space%20"]
)
def test_made_up_links_answer_the_same_page_never_an_error(client_for, charlie, token):
    response = client_for(charlie).get(f"/invitations/{token}/")
    assert response.status_code == 410
    assert "This invitation is no longer valid" in response.content.decode()


def test_answers_take_a_post(client_for, invite, charlie):
    _, token = invite(charlie.email)
    assert client_for(charlie).get(accept(token)).status_code == 405


def test_a_logged_out_answer_goes_back_to_the_invitation(client, invite):
    _, token = invite("dana@example.com")
    response = client.post(accept(token))
    assert response.url == detail(token)


def test_accepting_needs_the_csrf_token(invite, charlie, alice_workspace):
    _, token = invite(charlie.email)
    client = Client(enforce_csrf_checks=True)
    client.force_login(charlie)
    for url in (accept(token), reverse("invitation_decline", args=[token])):
        assert client.post(url).status_code == 403
    assert not is_member(charlie, alice_workspace)
    assert Invitation.objects.get().is_pending
