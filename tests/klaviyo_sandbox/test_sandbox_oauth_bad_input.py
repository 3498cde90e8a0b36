"""The sandbox's OAuth server refuses malformed PKCE values (RFC 7636: 43-128 unreserved
characters; the grant's column holds 128) and client ids no client has, never answering 500."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.klaviyo_sandbox.models import SandboxOAuthClient, SandboxOAuthGrant
from integrations.klaviyo_sandbox.oauth.server import (
    OAuthError,
    grant_create,
    oauth_client_create,
    s256,
    token_from_code,
)
from integrations.klaviyo_sandbox.services import sandbox_account_create
from tests.conftest import query_of

CALLBACK = "https://app.example.com/klaviyo/callback"
VERIFIER = "v" * 64


@pytest.fixture
def oauth_client(db) -> SandboxOAuthClient:
    client, _ = oauth_client_create(name="Pipeline Pro", redirect_uris=[CALLBACK])
    return client


@pytest.fixture
def approval(db) -> dict[str, str]:
    """The consent form's answer: approve, for an existing (empty) sandbox account."""
    _, key = sandbox_account_create(name="Consenting Store", seed=False)
    return {"decision": "approve", "account": "existing", "private_key": key}


def authorization(client_id: str, **overrides: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": CALLBACK,
        "scope": "profiles:read",
        "state": "state-123",
        "code_challenge": s256(VERIFIER),
        "code_challenge_method": "S256",
        **overrides,
    }


BAD_CHALLENGES = ["c" * 129, "c" * 42, "c" * 42 + "+", "c" * 42 + "\x00"]
BAD_CHALLENGE_IDS = ["129 characters", "42 characters", "not unreserved", "NUL"]


@pytest.mark.parametrize("challenge", BAD_CHALLENGES, ids=BAD_CHALLENGE_IDS)
def test_the_consent_page_sends_a_bad_code_challenge_back(
    client_for, alice, oauth_client, challenge
):
    params = authorization(oauth_client.client_id, code_challenge=challenge)
    answer = client_for(alice).get("/sandbox/klaviyo/oauth/authorize", params)
    assert answer.status_code == 302
    assert answer.url.startswith(CALLBACK)
    assert query_of(answer.url)["error"] == "invalid_request"
    assert "43 to 128" in query_of(answer.url)["error_description"]


@pytest.mark.parametrize("challenge", BAD_CHALLENGES, ids=BAD_CHALLENGE_IDS)
def test_approving_with_a_bad_code_challenge_grants_nothing(
    client_for, alice, oauth_client, approval, challenge
):
    params = authorization(oauth_client.client_id, code_challenge=challenge)
    browser = client_for(alice)
    browser.raise_request_exception = False
    answer = browser.post("/sandbox/klaviyo/oauth/authorize", {**params, **approval})
    assert answer.status_code == 302
    assert query_of(answer.url)["error"] == "invalid_request"
    assert not SandboxOAuthGrant.objects.exists()


def test_a_challenge_of_128_characters_is_granted(client_for, alice, oauth_client, approval):
    params = authorization(oauth_client.client_id, code_challenge="c" * 128)
    answer = client_for(alice).post("/sandbox/klaviyo/oauth/authorize", {**params, **approval})
    assert answer.status_code == 302
    assert "code" in query_of(answer.url)


@pytest.mark.parametrize(
    "verifier", ["v" * 129, "v" * 42, "v" * 42 + "/"], ids=BAD_CHALLENGE_IDS[:3]
)
def test_the_token_exchange_refuses_a_bad_code_verifier(db, oauth_client, verifier):
    account, _ = sandbox_account_create(name="Consenting Store", seed=False)
    code = grant_create(
        client=oauth_client,
        account=account,
        redirect_uri=CALLBACK,
        scopes=["profiles:read"],
        code_challenge=s256(VERIFIER),
    )
    with pytest.raises(OAuthError) as refusal:
        token_from_code(
            client=oauth_client, code=code, redirect_uri=CALLBACK, code_verifier=verifier
        )
    assert refusal.value.error == "invalid_request"
    assert "43 to 128" in refusal.value.description


def test_a_grant_is_never_made_for_a_challenge_its_column_cannot_hold(db, oauth_client):
    account, _ = sandbox_account_create(name="Consenting Store", seed=False)
    with pytest.raises(OAuthError):
        grant_create(
            client=oauth_client,
            account=account,
            redirect_uri=CALLBACK,
            scopes=["profiles:read"],
            code_challenge="c" * 129,
        )


def test_nul_in_a_client_id_is_an_unknown_client(client_for, alice, oauth_client):
    browser = client_for(alice)
    browser.raise_request_exception = False
    page = browser.get("/sandbox/klaviyo/oauth/authorize", authorization("a\x00b"))
    assert page.status_code == 400
    assert "Unknown client_id" in page.content.decode()
    token = Client(raise_request_exception=False).post(
        "/sandbox/klaviyo/oauth/token",
        {"grant_type": "refresh_token", "client_id": "a\x00b", "client_secret": "x"},
    )
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"
