"""The sandbox's OAuth server over real HTTP: consent page, PKCE code exchange, refresh, revoke,
expiry, and bearer tokens limited to their scopes on the API."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.klaviyo_sandbox.oauth.server import oauth_client_create

CALLBACK = "https://app.example.com/klaviyo/callback"


class OAuthApp:
    """A third-party app going through the sandbox's OAuth flow with a browser-like session."""

    def __init__(self, base: str, client_id: str, secret: str) -> None:
        self.base = base
        self.client_id = client_id
        self.secret = secret
        self.browser = requests.Session()
        self.verifier = secrets.token_urlsafe(48)

    def params(self, scope: str = "profiles:read lists:write", **overrides: str) -> dict[str, str]:
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest())
        return {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": CALLBACK,
            "scope": scope,
            "state": "state-123",
            "code_challenge": challenge.decode().rstrip("="),
            "code_challenge_method": "S256",
            **overrides,
        }

    def decide(self, params: dict[str, str], decision: str, **form: str) -> requests.Response:
        url = f"{self.base}/oauth/authorize"
        page = self.browser.get(url, params=params)
        assert page.status_code == 200, page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        data = {**params, "csrfmiddlewaretoken": token, "decision": decision, **form}
        return self.browser.post(url, data=data, allow_redirects=False)

    def code(self, api_key: str, **params: str) -> str:
        answer = self.decide(
            self.params(**params), "approve", account="existing", private_key=api_key
        )
        assert answer.status_code == 302, answer.text
        query = query_of(answer.headers["Location"])
        assert query["state"] == "state-123"
        return query["code"]

    def token(self, secret: str | None = None, **data: str) -> requests.Response:
        auth = (self.client_id, secret or self.secret)
        return requests.post(f"{self.base}/oauth/token", data=data, auth=auth, timeout=30)

    def exchange(self, code: str, verifier: str | None = None) -> requests.Response:
        return self.token(
            grant_type="authorization_code",
            code=code,
            redirect_uri=CALLBACK,
            code_verifier=verifier or self.verifier,
        )


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def bearer(api, token: str) -> dict[str, str]:
    return api.headers(Authorization=f"Bearer {token}")


def log_in(browser: requests.Session, site: str, email: str, password: str) -> None:
    """Log the browser into Step Builder (the consent page, like Klaviyo's, needs a login)."""
    page = browser.get(f"{site}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = browser.post(
        f"{site}/accounts/login/",
        data={"csrfmiddlewaretoken": token, "username": email, "password": password},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text


@pytest.fixture
def app(sandbox_url, live_server) -> OAuthApp:
    from builder.services.accounts import user_signup

    client, secret = oauth_client_create(name="Pipeline Pro", redirect_uris=[CALLBACK])
    app = OAuthApp(sandbox_url, client.client_id, secret)
    user_signup(email="owner@example.com", password="a long sandbox passphrase")
    log_in(app.browser, live_server.url, "owner@example.com", "a long sandbox passphrase")
    return app


def test_the_consent_page_needs_a_logged_in_user(sandbox_url, live_server):
    client, _ = oauth_client_create(name="Pipeline Pro", redirect_uris=[CALLBACK])
    anonymous = OAuthApp(sandbox_url, client.client_id, "unused")
    page = anonymous.browser.get(
        f"{sandbox_url}/oauth/authorize", params=anonymous.params(), allow_redirects=False
    )
    assert page.status_code == 302
    assert "/accounts/login/" in page.headers["Location"]


def test_the_consent_page_names_the_app_and_scopes_and_deny_redirects(app):
    page = app.browser.get(f"{app.base}/oauth/authorize", params=app.params())
    assert page.status_code == 200
    assert "Allow Pipeline Pro to access a sandbox account?" in page.text
    assert "profiles:read" in page.text and "lists:write" in page.text
    denied = app.decide(app.params(), "deny")
    assert denied.status_code == 302
    assert denied.headers["Location"].startswith(CALLBACK)
    assert query_of(denied.headers["Location"]) == {"error": "access_denied", "state": "state-123"}


def test_bad_requests_are_shown_or_sent_back_never_to_unknown_uris(app):
    unknown = app.browser.get(f"{app.base}/oauth/authorize", params=app.params(client_id="nope"))
    assert unknown.status_code == 400
    elsewhere = app.browser.get(
        f"{app.base}/oauth/authorize", params=app.params(redirect_uri="https://evil.example.com/")
    )
    assert elsewhere.status_code == 400
    no_pkce = app.browser.get(
        f"{app.base}/oauth/authorize",
        params=app.params(code_challenge_method="plain"),
        allow_redirects=False,
    )
    assert query_of(no_pkce.headers["Location"])["error"] == "invalid_request"


def test_a_wrong_private_key_is_refused_on_the_consent_page(app):
    answer = app.decide(app.params(), "approve", account="existing", private_key="pk_sandbox_wrong")
    assert answer.status_code == 400
    assert "No sandbox account has this private key." in answer.text


def test_code_exchange_checks_pkce_and_is_single_use(api, app):
    code = app.code(api.api_key)
    wrong = app.exchange(code, verifier="x" * 64)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    assert app.token(secret="wrong", grant_type="authorization_code", code=code).status_code == 401
    tokens = app.exchange(code)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "profiles:read lists:write"
    assert body["refresh_token"] and body["access_token"]
    assert app.exchange(code).json()["error"] == "invalid_grant"  # used already


def test_bearer_tokens_reach_the_api_within_their_scopes(api, app):
    tokens = app.exchange(app.code(api.api_key)).json()
    lists = api.get("/api/lists", headers=bearer(api, tokens["access_token"]))
    assert lists.status_code == 200  # lists:write implies lists:read
    created = api.post(
        "/api/lists",
        {"data": {"type": "list", "attributes": {"name": "Via OAuth"}}},
        headers=bearer(api, tokens["access_token"]),
    )
    assert created.status_code == 201
    assert [x["attributes"]["name"] for x in api.all("/api/lists")] == ["Via OAuth"]
    denied = api.get("/api/tags", headers=bearer(api, tokens["access_token"]))
    assert denied.status_code == 403
    assert denied.json()["errors"][0]["code"] == "permission_denied"
    assert "tags:read" in denied.json()["errors"][0]["detail"]


def test_refresh_then_revoke_invalidates_the_refresh_token_and_its_access_tokens(api, app):
    tokens = app.exchange(app.code(api.api_key)).json()
    refreshed = app.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200
    fresh = refreshed.json()["access_token"]
    assert fresh != tokens["access_token"]
    assert api.get("/api/lists", headers=bearer(api, fresh)).status_code == 200

    revoked = requests.post(
        f"{app.base}/oauth/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(app.client_id, app.secret),
        timeout=30,
    )
    assert revoked.status_code == 200
    for access in (fresh, tokens["access_token"]):
        assert api.get("/api/lists", headers=bearer(api, access)).status_code == 401
    again = app.token(grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert again.json()["error"] == "invalid_grant"


def test_an_expired_access_token_is_401(api, app, settings):
    settings.KLAVIYO_SANDBOX_ACCESS_TOKEN_TTL = 0
    tokens = app.exchange(app.code(api.api_key)).json()
    assert tokens["expires_in"] == 0
    answer = api.get("/api/lists", headers=bearer(api, tokens["access_token"]))
    assert answer.status_code == 401
    assert answer.json()["errors"][0]["code"] == "authentication_failed"


def test_approving_a_new_account_creates_one_with_demo_data(api, app):
    answer = app.decide(app.params(scope="accounts:read profiles:read"), "approve", account="new")
    code = query_of(answer.headers["Location"])["code"]
    tokens = app.exchange(code).json()
    [account] = api.get("/api/accounts", headers=bearer(api, tokens["access_token"])).json()["data"]
    assert (
        account["attributes"]["contact_information"]["organization_name"] == "Pipeline Pro sandbox"
    )
    assert account["id"] != api.public_key
    profiles = api.get("/api/profiles", headers=bearer(api, tokens["access_token"])).json()["data"]
    assert len(profiles) == 20
