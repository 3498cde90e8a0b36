from django.contrib.auth import get_user_model
from django.urls import reverse

from builder.models import Membership
from tests.conftest import PASSWORD

NEW = "a brand new passphrase"


def test_signup_creates_a_user_who_owns_a_personal_workspace(client, db):
    response = client.post(
        reverse("signup"),
        {"name": "Dana Lee", "email": "Dana@Example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = get_user_model().objects.get(email="dana@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert membership.workspace.name == "Dana Lee's workspace"
    dashboard = client.get(reverse("dashboard"))
    assert b"Dana Lee&#x27;s workspace" in dashboard.content


def test_signup_refuses_an_email_that_already_has_an_account(client, alice):
    response = client.post(
        reverse("signup"), {"email": "ALICE@example.com", "password": "another fine passphrase"}
    )
    assert response.status_code == 200
    assert "already exists" in response.context["form"].errors["email"][0]


def test_signup_refuses_a_weak_password_with_the_reason(client, db):
    response = client.post(reverse("signup"), {"email": "eve@example.com", "password": "12345678"})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password"])
    assert "too common" in errors
    assert not get_user_model().objects.filter(email="eve@example.com").exists()


def test_login_with_a_wrong_password_says_so(client, alice):
    response = client.post(reverse("login"), {"username": alice.email, "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_login_and_logout(client, alice):
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.get(reverse("logout")).status_code == 405  # logging out takes a POST (CSRF)
    client.post(reverse("logout"))
    assert client.get(reverse("dashboard")).status_code == 302


def test_change_password(client_for, alice):
    client = client_for(alice)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("a brand new passphrase")
    assert client.get(reverse("dashboard")).status_code == 200  # still logged in


def test_change_password_needs_the_old_one(client_for, alice):
    response = client_for(alice).post(
        reverse("password_change"),
        {"old_password": "wrong", "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["old_password"]


def test_forms_reject_posts_without_a_csrf_token(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 403
    assert "Your form expired" in response.content.decode()


def test_sign_up_can_be_closed(client, db, settings):
    settings.ALLOW_SIGNUP = False
    response = client.post(reverse("signup"), {"email": "eve@example.com", "password": PASSWORD})
    assert response.url == reverse("login")
    assert not get_user_model().objects.filter(email="eve@example.com").exists()


def test_login_ignores_the_case_of_the_email(client, alice):
    response = client.post(
        reverse("login"), {"username": "  Alice@EXAMPLE.com ", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.wsgi_request.user == alice


def test_admin_login_ignores_the_case_of_the_email(client, alice):
    alice.is_staff = True
    alice.save()
    response = client.post(
        reverse("admin:login"),
        {"username": "ALICE@example.com", "password": PASSWORD, "next": reverse("admin:index")},
    )
    assert response.status_code == 302
    assert response.wsgi_request.user == alice


def test_login_prefers_the_exact_email_when_two_differ_only_in_case(client, alice):
    from builder.services.accounts import user_signup

    other = user_signup(email="other@example.com", password="another fine passphrase")
    get_user_model().objects.filter(pk=other.pk).update(email="Alice@example.com")
    response = client.post(
        reverse("login"), {"username": "Alice@example.com", "password": "another fine passphrase"}
    )
    assert response.wsgi_request.user.pk == other.pk


def test_the_admin_login_error_does_not_call_the_email_case_sensitive(client, db):
    response = client.post(reverse("admin:login"), {"username": "a@example.com", "password": "x"})
    page = response.content.decode()
    assert "The password is case-sensitive." in page
    assert "both fields may be case-sensitive" not in page
