import re

from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from builder.models import Membership
from builder.services.accounts import user_signup
from builder.services.invitations import invitation_revoke
from tests.conftest import PASSWORD

NEW = "a brand new passphrase"


def emailed_link(kind="finish"):
    """Return the path of the last email's sign-up link (or its login link, kind="login")."""
    pattern = r"http://testserver(/accounts/signup/finish/[^/\s]+/)"
    if kind == "login":
        pattern = r"http://testserver(/accounts/login/)"
    return re.search(pattern, mail.outbox[-1].body).group(1)


def sign_up(client, email, next_url=None):
    """Post the first step of sign-up; return the response."""
    url = reverse("signup") + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"email": email, **({"next": next_url} if next_url else {})})


def test_signup_emails_a_link_that_creates_the_user_and_their_personal_workspace(client, db):
    response = sign_up(client, "Dana@Example.com")
    assert response.status_code == 302
    assert response.url == reverse("signup_sent")
    assert not get_user_model().objects.exists()
    assert "dana@example.com" in client.get(response.url).content.decode()
    (email,) = mail.outbox
    assert email.to == ["dana@example.com"]

    link = emailed_link()
    assert "dana@example.com" in client.get(link).content.decode()
    response = client.post(link, {"name": "Dana Lee", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("dashboard")
    user = get_user_model().objects.get(email="dana@example.com")
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.OWNER
    assert membership.workspace.name == "Dana Lee's workspace"
    dashboard = client.get(reverse("dashboard"))
    assert b"Dana Lee&#x27;s workspace" in dashboard.content


def what_signing_up_shows(email):
    """Return everything a visitor sees when signing up with `email` (the address blanked)."""
    client = Client()
    response = sign_up(client, email)
    page = client.get(response.url).content.decode().replace(email, "EMAIL")
    page = re.sub(r'value="[\w-]{40,}"|"X-CSRFToken": "[\w-]+"', "CSRF", page)
    return response.status_code, response.url, page


def test_signup_answers_alike_whether_or_not_the_address_has_an_account(alice):
    assert what_signing_up_shows("alice@example.com") == what_signing_up_shows("dana@example.com")
    existing, new = mail.outbox
    assert existing.to == ["alice@example.com"]
    assert "already has an account" in existing.body
    assert "/accounts/signup/finish/" not in existing.body
    assert "/accounts/signup/finish/" in new.body
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_signup_never_says_an_address_is_taken(client, alice):
    response = sign_up(client, "ALICE@example.com")
    page = client.get(response.url).content.decode()
    assert "taken" not in page
    assert "exists" not in page


def test_a_link_for_an_address_that_got_an_account_meanwhile_says_to_log_in(client, db):
    sign_up(client, "dana@example.com")
    link = emailed_link()
    user_signup(email="dana@example.com", password=PASSWORD)
    response = client.post(link, {"name": "Dana", "password": "another fine passphrase"})
    assert response.status_code == 409
    assert "You already have an account" in response.content.decode()
    assert get_user_model().objects.get(email="dana@example.com").check_password(PASSWORD)


def test_a_link_works_once(client, db):
    sign_up(client, "dana@example.com")
    link = emailed_link()
    client.post(link, {"name": "Dana", "password": PASSWORD})
    client.post(reverse("logout"))
    assert client.post(link, {"name": "Mallory", "password": PASSWORD}).status_code == 409
    assert get_user_model().objects.get(email="dana@example.com").name == "Dana"


def test_a_forged_or_expired_link_is_refused(client, db, monkeypatch):
    sign_up(client, "dana@example.com")
    link = emailed_link()
    forged = link.replace("/finish/", "/finish/x")
    assert client.get(forged).status_code == 410
    monkeypatch.setattr("builder.services.signup.LINK_MAX_AGE", -1)
    response = client.post(link, {"name": "Dana", "password": PASSWORD})
    assert response.status_code == 410
    assert "no longer valid" in response.content.decode()
    assert not get_user_model().objects.exists()


def test_signup_refuses_a_weak_password_with_the_reason(client, db):
    sign_up(client, "eve@example.com")
    response = client.post(emailed_link(), {"password": "12345678"})
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors["password"])
    assert "too common" in errors
    assert not get_user_model().objects.filter(email="eve@example.com").exists()


def test_signing_up_from_an_invitation_comes_back_to_it(client, invite):
    _, token = invite("dana@example.com")
    invitation_page = reverse("invitation_detail", args=[token])
    mail.outbox.clear()
    sign_up(client, "dana@example.com", next_url=invitation_page)
    response = client.post(emailed_link(), {"name": "Dana", "password": PASSWORD})
    assert response.url == invitation_page
    assert "Join “Alice&#x27;s workspace”" in client.get(invitation_page).content.decode()


def test_a_next_address_off_this_site_is_ignored(client, db):
    sign_up(client, "dana@example.com", next_url="https://evil.example/")
    response = client.post(emailed_link(), {"name": "Dana", "password": PASSWORD})
    assert response.url == reverse("dashboard")


def test_a_logged_in_visitor_goes_to_the_dashboard(client, client_for, alice):
    sign_up(client, "dana@example.com")
    logged_in = client_for(alice)
    assert logged_in.get(reverse("signup")).url == reverse("dashboard")
    assert logged_in.post(emailed_link(), {"password": PASSWORD}).url == reverse("dashboard")
    assert not get_user_model().objects.filter(email="dana@example.com").exists()


def test_the_sent_page_needs_a_sign_up_first(client, db):
    assert client.get(reverse("signup_sent")).url == reverse("signup")


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


def test_closed_sign_up_sends_strangers_nothing_and_looks_the_same(client, db, settings):
    settings.ALLOW_SIGNUP = False
    assert "by invitation" in client.get(reverse("signup")).content.decode()
    response = sign_up(client, "eve@example.com")
    assert response.url == reverse("signup_sent")
    assert not mail.outbox
    assert not get_user_model().objects.filter(email="eve@example.com").exists()


def test_closed_sign_up_lets_invited_addresses_in(client, settings, invite):
    settings.ALLOW_SIGNUP = False
    invite("eve@example.com")
    mail.outbox.clear()
    sign_up(client, "eve@example.com")
    response = client.post(emailed_link(), {"name": "Eve", "password": PASSWORD})
    assert response.status_code == 302
    assert get_user_model().objects.filter(email="eve@example.com").exists()


def test_closed_sign_up_refuses_a_link_whose_invitation_was_revoked(client, settings, invite):
    settings.ALLOW_SIGNUP = False
    invitation, _ = invite("eve@example.com")
    sign_up(client, "eve@example.com")
    invitation_revoke(invitation=invitation)
    response = client.post(emailed_link(), {"name": "Eve", "password": PASSWORD})
    assert response.status_code == 410
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
