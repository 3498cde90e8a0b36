"""The sandbox's OAuth 2.0 server: clients, authorization codes (PKCE S256), tokens, revocation.

It follows Klaviyo's OAuth flow (https://developers.klaviyo.com/en/docs/set_up_oauth): the app
sends the user to `/oauth/authorize`, gets a one-time `code`, exchanges it at `/oauth/token`
with HTTP Basic client credentials and the PKCE `code_verifier` (both PKCE values are 43-128
unreserved characters, RFC 7636 section 4.1), refreshes with
`grant_type=refresh_token`, and revokes at `/oauth/revoke`. Errors are RFC 6749 JSON. Client
secrets, codes and tokens are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.api.limits import text_problem
from integrations.klaviyo_sandbox.models import (
    SandboxAccount,
    SandboxOAuthClient,
    SandboxOAuthGrant,
    SandboxOAuthToken,
)

CODE_TTL = timedelta(minutes=10)
DEFAULT_ACCESS_TOKEN_TTL = 3600
SCOPE = re.compile(r"^[a-z][a-z-]*:(read|write)$")
PKCE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1; the grant column holds 128


class OAuthError(Exception):
    """An RFC 6749 error answer (`{"error", "error_description"}` with an HTTP status)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def document(self) -> dict[str, str]:
        """Return the JSON body of the error."""
        return {"error": self.error, "error_description": self.description}


def access_token_ttl() -> int:
    """Return the access-token lifetime in seconds (`KLAVIYO_SANDBOX_ACCESS_TOKEN_TTL`)."""
    return int(getattr(settings, "KLAVIYO_SANDBOX_ACCESS_TOKEN_TTL", DEFAULT_ACCESS_TOKEN_TTL))


def oauth_client_create(*, name: str, redirect_uris: list[str]) -> tuple[SandboxOAuthClient, str]:
    """Register an OAuth app; return it and its client secret (shown once, stored hashed)."""
    uris = [uri.strip() for uri in redirect_uris if uri.strip()]
    if not uris:
        raise ValueError("At least one redirect URI is required")
    secret = ids.opaque_secret("sbxsecret")
    client = SandboxOAuthClient.objects.create(
        name=name,
        client_id=ids.opaque_secret("sbxclient")[:40],
        client_secret_hash=ids.digest(secret),
        redirect_uris="\n".join(uris),
    )
    return client, secret


def oauth_client_get(client_id: str) -> SandboxOAuthClient | None:
    """Return the registered client with this id, or None (also for text no id could hold)."""
    if not client_id or text_problem(client_id):
        return None  # PostgreSQL refuses NUL even in a query; no client id has one
    return SandboxOAuthClient.objects.filter(client_id=client_id).first()


def oauth_client_authenticate(client_id: str, secret: str) -> SandboxOAuthClient:
    """Return the client these credentials prove; raise `invalid_client` (401) otherwise."""
    client = oauth_client_get(client_id)
    if client is None or not hmac.compare_digest(client.client_secret_hash, ids.digest(secret)):
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    return client


def parse_scopes(text: str) -> list[str]:
    """Return the space-separated scopes; raise `invalid_scope` for a malformed one."""
    scopes = list(dict.fromkeys(text.split()))
    bad = [scope for scope in scopes if not SCOPE.match(scope)]
    if not scopes or bad:
        raise OAuthError("invalid_scope", f"Invalid scope: {' '.join(bad) or '(none)'}.")
    return scopes


def check_pkce(name: str, value: str) -> None:
    """Raise `invalid_request` unless a PKCE code_challenge or code_verifier is well formed."""
    if not PKCE.fullmatch(value):
        raise OAuthError(
            "invalid_request",
            f"{name} must be 43 to 128 characters: letters, digits, '-', '.', '_' or '~'.",
        )


def grant_create(
    *,
    client: SandboxOAuthClient,
    account: SandboxAccount,
    redirect_uri: str,
    scopes: list[str],
    code_challenge: str,
) -> str:
    """Record an approved authorization and return its one-time code.

    Raise `invalid_request` for a malformed code_challenge (see `check_pkce`).
    """
    check_pkce("code_challenge", code_challenge)
    code = ids.opaque_secret("sbxcode")
    SandboxOAuthGrant.objects.create(
        client=client,
        account=account,
        code_hash=ids.digest(code),
        redirect_uri=redirect_uri,
        scopes=" ".join(scopes),
        code_challenge=code_challenge,
        expires_at=timezone.now() + CODE_TTL,
    )
    return code


def s256(verifier: str) -> str:
    """Return the PKCE S256 challenge of a verifier (base64url SHA-256, no padding)."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _issue(
    client: SandboxOAuthClient,
    account: SandboxAccount,
    scopes: str,
    refresh: SandboxOAuthToken | None,
) -> dict[str, Any]:
    refresh_value = None
    if refresh is None:
        refresh_value = ids.opaque_secret("sbxrefresh")
        refresh = SandboxOAuthToken.objects.create(
            client=client,
            account=account,
            kind=SandboxOAuthToken.Kind.REFRESH,
            token_hash=ids.digest(refresh_value),
            scopes=scopes,
        )
    access = ids.opaque_secret("sbxaccess")
    ttl = access_token_ttl()
    SandboxOAuthToken.objects.create(
        client=client,
        account=account,
        kind=SandboxOAuthToken.Kind.ACCESS,
        token_hash=ids.digest(access),
        scopes=scopes,
        parent=refresh,
        expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    answer = {"access_token": access, "token_type": "Bearer", "expires_in": ttl, "scope": scopes}
    if refresh_value is not None:
        answer["refresh_token"] = refresh_value
    return answer


def token_from_code(
    *, client: SandboxOAuthClient, code: str, redirect_uri: str, code_verifier: str
) -> dict[str, Any]:
    """Exchange an authorization code (checking redirect URI and PKCE); `invalid_grant` else."""
    if not code or not code_verifier:
        raise OAuthError("invalid_request", "code and code_verifier are required.")
    check_pkce("code_verifier", code_verifier)
    with transaction.atomic():
        grant = (
            SandboxOAuthGrant.objects.select_for_update()
            .select_related("account")
            .filter(code_hash=ids.digest(code), client=client)
            .first()
        )
        if grant is None or grant.used_at is not None or grant.expires_at <= timezone.now():
            raise OAuthError("invalid_grant", "The authorization code is invalid, used or expired.")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization.")
        if not hmac.compare_digest(grant.code_challenge, s256(code_verifier)):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")
        grant.used_at = timezone.now()
        grant.save(update_fields=["used_at"])
        return _issue(client, grant.account, grant.scopes, None)


def token_from_refresh(*, client: SandboxOAuthClient, refresh_token: str) -> dict[str, Any]:
    """Mint a new access token from a live refresh token (which stays the same)."""
    refresh = (
        SandboxOAuthToken.objects.select_related("account")
        .filter(
            token_hash=ids.digest(refresh_token or ""),
            client=client,
            kind=SandboxOAuthToken.Kind.REFRESH,
            revoked_at__isnull=True,
        )
        .first()
    )
    if refresh is None:
        raise OAuthError("invalid_grant", "The refresh token is invalid or revoked.")
    answer = _issue(client, refresh.account, refresh.scopes, refresh)
    answer["refresh_token"] = refresh_token
    return answer


def token_revoke(*, client: SandboxOAuthClient, token: str, hint: str | None = None) -> None:
    """Revoke a token of this client; a refresh token takes its access tokens with it.

    Unknown tokens are ignored (RFC 7009: the answer is 200 either way).
    """
    kinds = [SandboxOAuthToken.Kind.REFRESH, SandboxOAuthToken.Kind.ACCESS]
    if hint == "access_token":
        kinds.reverse()
    found = SandboxOAuthToken.objects.filter(
        token_hash=ids.digest(token or ""), client=client, kind__in=kinds
    ).first()
    if found is None:
        return
    now = timezone.now()
    SandboxOAuthToken.objects.filter(pk=found.pk).update(revoked_at=now)
    if found.kind == SandboxOAuthToken.Kind.REFRESH:
        found.children.filter(revoked_at__isnull=True).update(revoked_at=now)
