"""Failed logins slow guessers down, on the app's and the admin's login pages alike, without
letting anyone lock a named person out."""

import time
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse

from builder.throttle import wait_in_words
from tests.conftest import PASSWORD

PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_EMAIL_ATTEMPTS = 5
    settings.LOGIN_THROTTLE_SECONDS = 900


def log_in(email, password, *, address="198.51.100.7", page="login", **extra):
    """Post a login from `address` on a fresh client; return the response."""
    data = {"username": email, "password": password}
    if page == "admin:login":
        data["next"] = reverse("admin:index")
    return Client().post(reverse(page), data, REMOTE_ADDR=address, **extra)


def throttled(response) -> bool:
    return "Too many failed attempts" in response.content.decode()


def test_repeated_failed_logins_from_one_address_are_throttled(alice):
    for _ in range(3):
        log_in(alice.email, "guess")
    response = log_in(alice.email, PASSWORD)
    assert response.status_code == 200
    assert throttled(response)
    assert not response.wsgi_request.user.is_authenticated


def test_an_address_that_failed_too_often_waits_whichever_email_it_tries(alice, charlie):
    for n in range(3):
        log_in(f"nobody{n}@example.com", "guess")
    assert throttled(log_in(charlie.email, PASSWORD))


def test_the_message_says_how_long_to_wait(alice, settings):
    settings.LOGIN_THROTTLE_SECONDS = 120
    for _ in range(3):
        log_in(alice.email, "guess")
    assert "Wait 2 minutes and try again." in log_in(alice.email, PASSWORD).content.decode()


def test_the_wait_shrinks_as_the_window_passes(alice, monkeypatch):
    for _ in range(3):
        log_in(alice.email, "guess")
    later = time.time() + 14 * 60 + 30
    monkeypatch.setattr("builder.throttle.time", SimpleNamespace(time=lambda: later))
    assert "Wait 30 seconds and try again." in log_in(alice.email, PASSWORD).content.decode()


def test_guessing_an_email_from_many_addresses_does_not_lock_its_owner_out(alice):
    for n in range(10):
        log_in(alice.email, "guess", address=f"192.0.2.{n}")
    response = log_in(alice.email, PASSWORD, address="203.0.113.20")
    assert response.status_code == 302
    assert response.wsgi_request.user == alice


def test_a_much_guessed_email_is_closed_to_addresses_that_failed_lately(alice):
    for n in range(5):
        log_in(alice.email, "guess", address=f"192.0.2.{n}")
    log_in("someone@example.com", "typo", address="203.0.113.20")
    assert throttled(log_in(alice.email, PASSWORD, address="203.0.113.20"))


def test_emails_in_another_case_count_as_the_same_email(alice):
    for n in range(5):
        log_in(alice.email.upper(), "guess", address=f"192.0.2.{n}")
    assert throttled(log_in(alice.email, PASSWORD, address="192.0.2.1"))


def test_the_admin_login_is_throttled_like_the_apps(alice):
    alice.is_staff = True
    alice.save()
    for _ in range(3):
        assert log_in(alice.email, "guess", page="admin:login").status_code == 200
    response = log_in(alice.email, PASSWORD, page="admin:login")
    assert response.status_code == 200
    assert throttled(response)


def test_failures_on_the_admin_and_the_app_login_count_together(alice):
    alice.is_staff = True
    alice.save()
    log_in(alice.email, "guess", page="admin:login")
    log_in(alice.email, "guess")
    log_in(alice.email, "guess", page="admin:login")
    assert throttled(log_in(alice.email, PASSWORD))
    assert throttled(log_in(alice.email, PASSWORD, page="admin:login"))


def test_a_correct_password_refused_by_the_admin_for_a_non_staff_user_is_no_failure(alice):
    for _ in range(3):
        response = log_in(alice.email, PASSWORD, page="admin:login")
        assert "staff account" in response.content.decode()
    assert log_in(alice.email, PASSWORD).status_code == 302


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_everyone_else(alice, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    for n in range(3):
        log_in(f"victim{n}@example.com", "guess", address=PROXY,
               HTTP_X_FORWARDED_FOR="203.0.113.66")  # fmt: skip
    response = log_in(alice.email, PASSWORD, address=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302


def test_behind_a_proxy_a_guesser_cannot_escape_the_count_by_forging_the_header(alice, settings):
    settings.TRUSTED_PROXY_HOPS = 1
    for n in range(3):
        log_in(f"victim{n}@example.com", "guess", address=PROXY,
               HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.66")  # fmt: skip
    response = log_in(alice.email, PASSWORD, address=PROXY,
                      HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.66")  # fmt: skip
    assert throttled(response)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (59, "59 seconds"), (60, "1 minute"), (61, "2 minutes"),
     (900, "15 minutes"), (7200, "2 hours")],
)  # fmt: skip
def test_waits_are_said_in_words(seconds, words):
    assert wait_in_words(seconds) == words
