import pytest
from django.urls import reverse

from builder.models import Membership, Workspace


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


def test_the_owner_adds_an_existing_user_by_email(client_for, alice, alice_workspace, charlie):
    client = client_for(alice)
    response = client.post(
        reverse("workspace_settings"), {"action": "add_member", "email": "Charlie@example.com"}
    )
    assert response.status_code == 302
    assert Membership.objects.filter(workspace=alice_workspace, user=charlie).exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [("nobody@example.com", "Nobody has signed up"), ("bob@example.com", "already a member")],
)
def test_adding_a_member_explains_what_is_wrong(client_for, alice, bob, email, message):
    response = client_for(alice).post(
        reverse("workspace_settings"), {"action": "add_member", "email": email}
    )
    assert response.status_code == 200
    assert message in response.context["add_form"].errors["email"][0]


def test_a_member_cannot_add_or_remove_members(client_for, alice, bob, alice_workspace, charlie):
    client = client_for(bob, workspace=alice_workspace)
    client.post(reverse("workspace_settings"), {"action": "add_member", "email": charlie.email})
    assert not Membership.objects.filter(workspace=alice_workspace, user=charlie).exists()
    alices = Membership.objects.get(workspace=alice_workspace, user=alice)
    assert client.post(reverse("member_remove", args=[alices.pk])).status_code == 403
    assert Membership.objects.filter(pk=alices.pk).exists()


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
    client_for(alice).post(reverse("workspace_settings"), {"action": "rename", "name": "HQ"})
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "HQ"
