"""Every view: anonymous users go to the login page, other workspaces' objects answer 404."""

import pytest
from django.urls import reverse

from builder.models import Membership
from integrations.models import Connection

WORKSPACE_PAGES = [
    "dashboard",
    "workflow_list",
    "run_list",
    "connection_list",
    "connection_add",
    "catalog",
    "workspace_settings",
    "workspace_list",
    "password_change",
]


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_it_requires_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", WORKSPACE_PAGES)
def test_pages_show_only_the_current_workspace(client_for, alice, alice_workspace, charlie, name):
    Connection.objects.create(
        workspace=alice_workspace,
        name="Zebra Outlet",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_live_zebra_0123456789"},
        key_hint="pk_…6789",
        account_name="Zebra Outlet Inc",
    )
    page = client_for(charlie).get(reverse(name))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Alice" not in body
    assert "Zebra" not in body


def test_charlie_cannot_remove_alices_members_by_posting_their_id(
    client_for, charlie, bob, alice_workspace
):
    bobs = Membership.objects.get(workspace=alice_workspace, user=bob)
    assert client_for(charlie).post(reverse("member_remove", args=[bobs.pk])).status_code == 404
    assert Membership.objects.filter(pk=bobs.pk).exists()


def test_charlie_cannot_switch_into_alices_workspace(client_for, charlie, alice_workspace):
    response = client_for(charlie).post(reverse("workspace_switch", args=[alice_workspace.pk]))
    assert response.status_code == 404


def test_the_not_found_page_is_friendly(client_for, charlie, alice_workspace):
    response = client_for(charlie).post(reverse("workspace_switch", args=[alice_workspace.pk]))
    assert "belongs to a workspace you are not working in" in response.content.decode()


def test_members_of_a_workspace_see_its_members_only(client_for, bob, alice_workspace, charlie):
    page = client_for(bob, workspace=alice_workspace).get(reverse("workspace_settings"))
    emails = {m.user.email for m in page.context["memberships"]}
    assert emails == {"alice@example.com", "bob@example.com"}


def test_a_user_without_any_workspace_is_asked_to_create_one(client_for, alice, alice_workspace):
    Membership.objects.filter(user=alice).delete()
    response = client_for(alice).get(reverse("dashboard"))
    assert response.status_code == 302
    assert response.url == reverse("workspace_list")
