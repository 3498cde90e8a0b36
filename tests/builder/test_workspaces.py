import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from builder.models import Invitation, Membership, Workspace
from builder.services.invitations import invitation_accept


def test_the_switcher_lists_every_workspace_of_the_user(client_for, bob, alice_workspace):
    page = client_for(bob).get(reverse("dashboard")).content.decode()
    assert "Bob&#x27;s workspace" in page
    assert "Alice&#x27;s workspace" in page


def test_switching_workspace_changes_what_the_dashboard_shows(client_for, bob, alice_workspace):
    client = client_for(bob)
    assert client.get(reverse("dashboard")).context["current_workspace"].name == "Bob's workspace"
    response = client.post(
        reverse("workspace_switch", args=[alice_workspace.pk]), {"next": "/runs/"}
    )
    assert response.status_code == 302
    assert response.url == "/runs/"
    assert client.get(reverse("dashboard")).context["current_workspace"] == alice_workspace


def test_switching_refuses_an_outside_redirect(client_for, bob, alice_workspace):
    response = client_for(bob).post(
        reverse("workspace_switch", args=[alice_workspace.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == reverse("dashboard")


def test_switching_to_a_workspace_you_are_not_in_answers_404(client_for, charlie, alice_workspace):
    client = client_for(charlie)
    assert client.post(reverse("workspace_switch", args=[alice_workspace.pk])).status_code == 404
    assert (
        client.get(reverse("dashboard")).context["current_workspace"].name == "Charlie's workspace"
    )


def test_a_stale_workspace_in_the_session_falls_back_to_one_of_yours(
    client_for, charlie, alice_workspace
):
    client = client_for(charlie, workspace=alice_workspace)  # e.g. removed since
    assert (
        client.get(reverse("dashboard")).context["current_workspace"].name == "Charlie's workspace"
    )


def test_creating_a_workspace_makes_the_user_its_owner_and_switches_to_it(client_for, alice):
    client = client_for(alice)
    response = client.post(reverse("workspace_list"), {"name": "EU store"})
    assert response.status_code == 302
    workspace = Workspace.objects.get(name="EU store")
    assert Membership.objects.get(workspace=workspace, user=alice).is_owner
    assert client.get(reverse("dashboard")).context["current_workspace"] == workspace


def test_a_workspace_needs_a_name(client_for, alice):
    response = client_for(alice).post(reverse("workspace_list"), {"name": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["name"]


def test_the_owner_invites_by_email_and_sees_the_link_once(
    client_for, alice, alice_workspace, charlie
):
    client = client_for(alice)
    response = client.post(
        reverse("invitation_create"), {"email": "Charlie@example.com", "role": "member"}
    )
    assert response.status_code == 302
    assert response.url == reverse("workspace_settings")
    assert not Membership.objects.filter(workspace=alice_workspace, user=charlie).exists()
    invitation = Invitation.objects.get()
    (email,) = mail.outbox
    assert email.to == ["charlie@example.com"]
    link = re.search(r"http://testserver/invitations/[\w-]+/", email.body).group()

    page = client.get(reverse("workspace_settings")).content.decode()
    assert "Invitation emailed to charlie@example.com." in page
    assert f'value="{link}"' in page
    assert f'action="{reverse("invitation_revoke", args=[invitation.pk])}"' in page
    assert link not in client.get(reverse("workspace_settings")).content.decode()


def outcome_of_inviting(client, email):
    """Return what the inviter sees after inviting `email`, with the address and link blanked."""
    response = client.post(reverse("invitation_create"), {"email": email, "role": "member"})
    page = client.get(response.url).content.decode()
    page = re.sub(r"/invitations/[\w-]+/", "/invitations/LINK/", page.replace(email, "EMAIL"))
    page = re.sub(r"/workspace/invitations/\d+/", "/workspace/invitations/ID/", page)
    main = page.split("<main")[1]
    return response.status_code, response.url, re.sub(r'value="[\w-]{40,}"', "CSRF", main)


def test_inviting_answers_alike_whether_or_not_the_address_has_an_account(
    client_for, alice, charlie
):
    client = client_for(alice)
    with_account = outcome_of_inviting(client, "charlie@example.com")
    Invitation.objects.all().delete()
    without_account = outcome_of_inviting(client, "nobody@example.com")
    assert with_account == without_account
    bodies = [m.body.replace(m.to[0], "EMAIL") for m in mail.outbox]
    bodies = [re.sub(r"/invitations/[\w-]+/", "/LINK/", body) for body in bodies]
    assert bodies[0] == bodies[1]


def test_inviting_a_member_says_they_are_one(client_for, alice, bob):
    response = client_for(alice).post(
        reverse("invitation_create"), {"email": "bob@example.com", "role": "member"}
    )
    assert response.status_code == 200
    assert "already a member" in response.context["invite_form"].errors["email"][0]
    assert not mail.outbox


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "", "role": "member"}, "email"),
        ({"email": "not an address", "role": "member"}, "email"),
        ({"email": "dana@example.com", "role": "king"}, "role"),
    ],
)
def test_a_bad_invitation_re_renders_the_settings_page_with_the_error(
    client_for, alice, data, field
):
    response = client_for(alice).post(reverse("invitation_create"), data)
    assert response.status_code == 200
    assert response.context["invite_form"].errors[field]
    assert "Members" in response.content.decode()
    assert not Invitation.objects.exists()


def test_an_unsent_email_still_gives_the_owner_the_link(client_for, alice, monkeypatch):
    monkeypatch.setattr(
        "builder.services.invitations.send_mail",
        lambda *a, **k: (_ for _ in ()).throw(OSError("no mail server")),
    )
    client = client_for(alice)
    client.post(reverse("invitation_create"), {"email": "dana@example.com", "role": "member"})
    page = client.get(reverse("workspace_settings")).content.decode()
    assert "could not be emailed; send them the link" in page
    assert 'data-testid="new-invitation"' in page


def test_the_owner_revokes_an_invitation(client_for, alice, invite):
    invitation, token = invite("dana@example.com")
    client = client_for(alice)
    response = client.post(reverse("invitation_revoke", args=[invitation.pk]), follow=True)
    assert "The invitation to dana@example.com was revoked." in response.content.decode()
    assert list(response.context["invitations"]) == []
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED


def test_revoking_an_answered_invitation_says_it_was_no_longer_pending(
    client_for, alice, invite, charlie
):
    invitation, _ = invite(charlie.email)
    invitation_accept(invitation=invitation, user=charlie)
    response = client_for(alice).post(
        reverse("invitation_revoke", args=[invitation.pk]), follow=True
    )
    assert "was no longer pending" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_pending_invitations_are_listed_for_owners_only(
    client_for, alice, bob, alice_workspace, invite
):
    invite("dana@example.com")
    expired, _ = invite("erin@example.com")
    Invitation.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    owner_page = client_for(alice).get(reverse("workspace_settings"))
    assert [i.email for i in owner_page.context["invitations"]] == ["dana@example.com"]
    member_page = client_for(bob, workspace=alice_workspace).get(reverse("workspace_settings"))
    assert "dana@example.com" not in member_page.content.decode()


def test_a_member_cannot_invite_revoke_rename_or_remove(
    client_for, alice, bob, alice_workspace, charlie, invite
):
    invitation, _ = invite("dana@example.com")
    client = client_for(bob, workspace=alice_workspace)
    response = client.post(reverse("invitation_create"), {"email": charlie.email})
    assert response.status_code == 403
    assert client.post(reverse("invitation_revoke", args=[invitation.pk])).status_code == 403
    assert client.post(reverse("workspace_rename"), {"name": "Bob's now"}).status_code == 403
    alices = Membership.objects.get(workspace=alice_workspace, user=alice)
    assert client.post(reverse("member_remove", args=[alices.pk])).status_code == 403
    assert Membership.objects.filter(pk=alices.pk).exists()
    assert Invitation.objects.get().is_pending
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "Alice's workspace"


def test_the_settings_page_only_shows_and_each_change_has_its_own_url(client_for, alice):
    client = client_for(alice)
    assert client.post(reverse("workspace_settings"), {"name": "HQ"}).status_code == 405
    assert client.head(reverse("workspace_settings")).status_code == 200
    for name in ("workspace_rename", "invitation_create"):
        assert client.get(reverse(name)).status_code == 405


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("workspace_rename", [], {"name": "HQ"}),
        ("invitation_create", [], {"email": "dana@example.com", "role": "member"}),
        ("invitation_revoke", ["invitation"], {}),
        ("member_remove", ["bobs"], {}),
    ],
)
def test_every_change_needs_the_csrf_token(alice, bob, alice_workspace, invite, name, args, data):
    invitation, _ = invite("erin@example.com")
    ids = {
        "invitation": invitation.pk,
        "bobs": Membership.objects.get(workspace=alice_workspace, user=bob).pk,
    }
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(reverse(name, args=[ids[a] for a in args]), data)
    assert response.status_code == 403
    assert "Your form expired" in response.content.decode()
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "Alice's workspace"
    assert Invitation.objects.count() == 1
    assert Invitation.objects.get().is_pending
    assert Membership.objects.filter(workspace=alice_workspace).count() == 2


def test_the_owner_removes_a_member(client_for, alice, bob, alice_workspace):
    bobs = Membership.objects.get(workspace=alice_workspace, user=bob)
    response = client_for(alice).post(reverse("member_remove", args=[bobs.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=bobs.pk).exists()


def test_the_last_owner_cannot_be_removed(client_for, alice, alice_workspace):
    alices = Membership.objects.get(workspace=alice_workspace, user=alice)
    client = client_for(alice)
    response = client.post(reverse("member_remove", args=[alices.pk]), follow=True)
    assert "at least one owner" in response.content.decode()
    assert Membership.objects.filter(pk=alices.pk).exists()


def test_the_owner_renames_the_workspace(client_for, alice, alice_workspace):
    response = client_for(alice).post(reverse("workspace_rename"), {"name": "  HQ "})
    assert response.status_code == 302
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "HQ"


def test_a_bad_name_re_renders_the_settings_page_with_the_error(client_for, alice, alice_workspace):
    response = client_for(alice).post(reverse("workspace_rename"), {"name": "x" * 101})
    assert response.status_code == 200
    assert "at most 100 characters" in response.context["rename_form"].errors["name"][0]
    assert "<h1>Alice&#x27;s workspace</h1>" in response.content.decode()
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "Alice's workspace"
