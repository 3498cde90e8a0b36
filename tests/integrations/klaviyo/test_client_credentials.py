"""Credentials providers: headers, rate-limit buckets, refresh, and no secrets in repr()."""

from __future__ import annotations

import pytest

from integrations.klaviyo.credentials import (
    ApiKeyCredentials,
    BearerTokenCredentials,
    Credentials,
    fingerprint,
)


def test_a_private_key_authenticates_and_draws_from_its_accounts_budget():
    with_public = ApiKeyCredentials("pk_secret123", public_key="AbC123")
    without_public = ApiKeyCredentials("pk_secret123")

    assert isinstance(with_public, Credentials)
    assert with_public.auth_headers() == {"Authorization": "Klaviyo-API-Key pk_secret123"}
    assert with_public.bucket_key == "account:AbC123"
    assert without_public.bucket_key == f"key:{fingerprint('pk_secret123')}"
    assert "pk_secret123" not in without_public.bucket_key
    assert without_public.public_key is None
    assert not with_public.is_oauth
    assert with_public.refresh() is False


def test_an_oauth_token_has_its_own_budget_per_installed_app_and_refreshes():
    tokens = iter(["at_2", None])
    credentials = BearerTokenCredentials(
        "at_1", lambda: next(tokens), bucket_key="oauth:install-7", public_key="AbC123"
    )

    assert credentials.is_oauth
    assert credentials.bucket_key == "oauth:install-7"
    assert credentials.auth_headers() == {"Authorization": "Bearer at_1"}
    assert credentials.refresh() is True
    assert credentials.auth_headers() == {"Authorization": "Bearer at_2"}
    assert credentials.refresh() is False  # the grant is gone
    assert credentials.auth_headers() == {"Authorization": "Bearer at_2"}
    assert credentials.bucket_key == "oauth:install-7"


def test_without_a_callback_an_oauth_token_cannot_refresh():
    assert BearerTokenCredentials("at", bucket_key="oauth:1").refresh() is False


def test_secrets_never_show_in_repr():
    assert "pk_secret123" not in repr(ApiKeyCredentials("pk_secret123"))
    assert "at_secret" not in repr(BearerTokenCredentials("at_secret", bucket_key="oauth:1"))


def test_empty_secrets_are_refused():
    with pytest.raises(ValueError):
        ApiKeyCredentials("")
    with pytest.raises(ValueError):
        BearerTokenCredentials("at", bucket_key="")


def test_fingerprints_are_short_and_stable():
    assert fingerprint("pk_a") == fingerprint("pk_a") != fingerprint("pk_b")
    assert len(fingerprint("pk_a")) == 16
