"""OAuth2 authorization-code flow with PKCE (S256), refresh and revoke, via authlib.

Klaviyo's OAuth guide: https://developers.klaviyo.com/en/docs/set_up_oauth — the token endpoint
takes HTTP Basic client authentication, access tokens expire (`expires_in`), refresh tokens are
revoked at the revoke endpoint. Endpoint URLs are settings, so tests and demos point them at the
sandbox. Every failure is a `KlaviyoOAuthError`, one of the `KlaviyoError` family.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings

from integrations.klaviyo.errors import KlaviyoOAuthError

if TYPE_CHECKING:
    from authlib.integrations.requests_client import OAuth2Session

# authlib is imported where it is used: every worker and web process loads this module (to
# refresh tokens), but few ever run an OAuth exchange, and authlib costs each ~4 MB.

TIMEOUT = (5, 30)


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str
    redirect_uri: str

    @property
    def configured(self) -> bool:
        return bool(self.client_id and self.client_secret)


def oauth_app(redirect_uri: str = "") -> OAuthApp:
    """Return the OAuth app from settings; `redirect_uri` is used when the setting is blank."""
    return OAuthApp(
        client_id=settings.KLAVIYO_OAUTH_CLIENT_ID,
        client_secret=settings.KLAVIYO_OAUTH_CLIENT_SECRET,
        authorize_url=settings.KLAVIYO_OAUTH_AUTHORIZE_URL,
        token_url=settings.KLAVIYO_OAUTH_TOKEN_URL,
        revoke_url=settings.KLAVIYO_OAUTH_REVOKE_URL,
        redirect_uri=settings.KLAVIYO_OAUTH_REDIRECT_URI or redirect_uri,
    )


def _session(app: OAuthApp, scope: str | None = None) -> OAuth2Session:
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(
        client_id=app.client_id,
        client_secret=app.client_secret,
        scope=scope,
        redirect_uri=app.redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",  # noqa: S106 - a method name
    )


@dataclass(frozen=True)
class AuthorizationStart:
    url: str
    state: str
    code_verifier: str


def authorization_start(app: OAuthApp, *, scopes: list[str]) -> AuthorizationStart:
    """Return the URL to send the user to, with a fresh `state` and PKCE verifier to remember."""
    from authlib.common.security import generate_token

    verifier = generate_token(64)  # RFC 7636: 43-128 characters
    state = generate_token(32)
    with _session(app, " ".join(scopes)) as session:
        url, _ = session.create_authorization_url(
            app.authorize_url, state=state, code_verifier=verifier
        )
    return AuthorizationStart(url=url, state=state, code_verifier=verifier)


def state_matches(expected: str | None, received: str | None) -> bool:
    """Compare the state bound to the session with the one the provider sent back."""
    if not (expected and received):
        return False
    # Bytes, so a state with characters outside ASCII is a mismatch rather than a TypeError.
    return secrets.compare_digest(expected.encode(), received.encode())


def authorization_finish(app: OAuthApp, *, code: str, code_verifier: str) -> dict[str, Any]:
    """Exchange the authorization code (with the PKCE verifier) for tokens."""
    with _session(app) as session:
        return _call(
            session.fetch_token,
            app.token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            timeout=TIMEOUT,
        )


def token_refresh(app: OAuthApp, *, refresh_token: str) -> dict[str, Any]:
    """Trade a refresh token for a new access token (and maybe a new refresh token)."""
    with _session(app) as session:
        return _call(
            session.refresh_token, app.token_url, refresh_token=refresh_token, timeout=TIMEOUT
        )


def token_revoke(app: OAuthApp, *, token: str, hint: str = "refresh_token") -> None:
    """Revoke a token at the provider; raise KlaviyoOAuthError when it refuses."""
    with _session(app) as session:
        response = session.revoke_token(
            app.revoke_url, token=token, token_type_hint=hint, timeout=TIMEOUT
        )
    if response.status_code >= 400:
        raise KlaviyoOAuthError(
            f"Klaviyo did not revoke the token (HTTP {response.status_code})",
            code=_error_code(response),
        )


def _error_code(response: Any) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


def _call(method: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
    import requests
    from authlib.integrations.base_client.errors import OAuthError

    try:
        token = method(*args, **kwargs)
    except OAuthError as error:
        detail = error.description or error.error or "unknown error"
        raise KlaviyoOAuthError(
            f"Klaviyo refused the authorization: {detail}", code=error.error or "", detail=detail
        ) from error
    except requests.RequestException as error:
        raise KlaviyoOAuthError(
            "Could not reach Klaviyo's OAuth server; try again in a moment.", detail=str(error)
        ) from error
    return dict(token)
