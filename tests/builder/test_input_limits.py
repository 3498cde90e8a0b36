"""Odd input on every form of accounts and workspaces: a clear form error, never a 500.

Run these on PostgreSQL too (see CONTRIBUTING): it refuses NUL in text and enforces column
lengths, where SQLite stores whatever it is given.
"""

import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from builder.models import Invitation, Membership, User, Workspace
from builder.services.accounts import user_signup
from tests.conftest import PASSWORD

HUGE = "x" * 20_000
ODD_TEXT = {
    "huge": (HUGE, "at most"),
    "NUL": ("Acme\x00Corp", "Null characters are not allowed."),
    "line break": ("Acme\nBcc: victim@example.com", "Keep it on one line"),
    "tab": ("Acme\tCorp", "Keep it on one line"),
}
ODD_EMAILS = {
    "huge": ("a" * 300 + "@example.com", "at most 254 characters"),
    "NUL": ("dana\x00@example.com", "Null characters are not allowed."),
    "line break": ("dana@example.com\nBcc: victim@example.com", "valid email address"),
    "non-ASCII local part": ("zoë@example.com", "valid email address"),
}
WORLD = "Zoë Åström 山田 Ωmega 🎉"


def finish_link(client, email):
    client.post(reverse("signup"), {"email": email})
    body = mail.outbox[-1].body
    return re.search(r"http://testserver(/accounts/signup/finish/\S+/)", body).group(1)


def errors_of(response, form="form"):
    assert response.status_code == 200, response.status_code
    return " ".join(" ".join(e) for e in response.context[form].errors.values())


@pytest.mark.parametrize(("value", "message"), ODD_EMAILS.values(), ids=ODD_EMAILS.keys())
def test_signup_refuses_odd_addresses_with_a_form_error(client, db, value, message):
    assert message in errors_of(client.post(reverse("signup"), {"email": value}))
    assert not mail.outbox


@pytest.mark.parametrize(("value", "message"), ODD_TEXT.values(), ids=ODD_TEXT.keys())
def test_signup_refuses_an_odd_name_with_a_form_error(client, db, value, message):
    link = finish_link(client, "dana@example.com")
    assert message in errors_of(client.post(link, {"name": value, "password": PASSWORD}))
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("p" * 5000, "at most 4096"), ("pass\x00word-long-enough", "Null characters")],
    ids=["huge", "NUL"],
)
def test_signup_refuses_an_odd_password_with_a_form_error(client, db, value, message):
    link = finish_link(client, "dana@example.com")
    assert message in errors_of(client.post(link, {"name": "Dana", "password": value}))
    assert not User.objects.exists()


def test_a_name_too_long_for_the_workspace_column_is_shortened(client, db):
    link = finish_link(client, "dana@example.com")
    name = "Dana " + "Longname" * 18  # 149 characters: fits the user, not "<name>'s workspace"
    assert client.post(link, {"name": name, "password": PASSWORD}).status_code == 302
    workspace = Workspace.objects.get(memberships__user__email="dana@example.com")
    assert len(workspace.name) == Workspace._meta.get_field("name").max_length
    assert workspace.name.startswith("Dana Longname")
    assert workspace.name.endswith("…'s workspace")


def test_a_long_email_local_part_is_shortened_too(db):
    user = user_signup(email=f"{'d' * 120}@example.com", password=PASSWORD)
    workspace = Workspace.objects.get(memberships__user=user)
    assert workspace.name == "d" * 87 + "…'s workspace"


def test_names_and_addresses_beyond_latin_1_work(client, invite):
    link = finish_link(client, "dana@bücher.example")
    assert client.post(link, {"name": WORLD, "password": PASSWORD}).status_code == 302
    user = User.objects.get(email="dana@bücher.example")
    assert user.name == WORLD
    assert Workspace.objects.get(memberships__user=user).name == f"{WORLD}'s workspace"
    invitation, token = invite("dana@bücher.example")
    assert Client().get(f"/invitations/{token}/").status_code == 200
    client.post(reverse("invitation_accept", args=[token]))
    assert Membership.objects.filter(user=user, workspace=invitation.workspace).exists()


@pytest.mark.parametrize(("value", "message"), ODD_EMAILS.values(), ids=ODD_EMAILS.keys())
def test_inviting_refuses_odd_addresses_with_a_form_error(client_for, alice, value, message):
    response = client_for(alice).post(
        reverse("invitation_create"), {"email": value, "role": "member"}
    )
    assert message in errors_of(response, "invite_form")
    assert not Invitation.objects.exists()


def test_an_invitation_to_an_address_beyond_ascii_is_emailed(client_for, alice, alice_workspace):
    alice_workspace.name = WORLD
    alice_workspace.save()
    client = client_for(alice)
    response = client.post(
        reverse("invitation_create"), {"email": "dana@bücher.example", "role": "owner"}
    )
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == ["dana@bücher.example"]
    assert WORLD in email.subject
    assert "xn--bcher-kva.example" in email.message()["To"]


@pytest.mark.parametrize(("value", "message"), ODD_TEXT.values(), ids=ODD_TEXT.keys())
def test_renaming_refuses_an_odd_name_with_a_form_error(
    client_for, alice, alice_workspace, value, message
):
    response = client_for(alice).post(reverse("workspace_rename"), {"name": value})
    assert message in errors_of(response, "rename_form")
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == "Alice's workspace"


@pytest.mark.parametrize(("value", "message"), ODD_TEXT.values(), ids=ODD_TEXT.keys())
def test_creating_a_workspace_refuses_an_odd_name(client_for, alice, value, message):
    response = client_for(alice).post(reverse("workspace_list"), {"name": value})
    assert message in errors_of(response)
    assert Workspace.objects.count() == 1


def test_a_workspace_name_beyond_latin_1_is_kept(client_for, alice, alice_workspace):
    client_for(alice).post(reverse("workspace_rename"), {"name": WORLD})
    alice_workspace.refresh_from_db()
    assert alice_workspace.name == WORLD


def test_a_nul_in_where_to_go_next_is_harmless(client, db):
    client.post(f"{reverse('signup')}?next=/work%00space/", {"email": "dana@example.com"})
    link = re.search(r"http://testserver(\S+finish/\S+/)", mail.outbox[-1].body).group(1)
    response = client.post(link, {"name": "Dana", "password": PASSWORD})
    assert response.status_code == 302
    assert "\x00" not in response["Location"]


def test_a_body_too_big_to_read_is_a_bad_request(client_for, alice):
    response = client_for(alice).post(reverse("workspace_rename"), {"name": "x" * 3_000_000})
    assert response.status_code == 400
