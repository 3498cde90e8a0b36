"""How a connection reaches Klaviyo: its base URL, credentials, HTTP client and account.

`credentials_for` refreshes an OAuth token that is about to expire (and gives the client a
callback for one more refresh on a 401); the refresh itself is a service (`services.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from integrations.auth import oauth
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials, BearerTokenCredentials, Credentials
from integrations.klaviyo.errors import KlaviyoAuthError, KlaviyoError
from integrations.models import Connection


def base_url_for(connection: Connection) -> str:
    if connection.kind == Connection.Kind.SANDBOX:
        return settings.KLAVIYO_SANDBOX_BASE_URL
    return settings.KLAVIYO_BASE_URL


def credentials_for(connection: Connection) -> Credentials:
    """Return the credentials provider the HTTP client uses for this connection.

    OAuth tokens close to expiry are refreshed first; a 401 later triggers one more refresh.
    """
    from integrations.services import connection_refresh_token

    if connection.kind == Connection.Kind.OAUTH2:
        if connection.token_expires_soon:
            connection_refresh_token(connection=connection)

        def refresh() -> str | None:
            try:
                connection_refresh_token(connection=connection)
            except oauth.OAuthFlowError:
                return None
            return connection.secret.get("access_token")

        return BearerTokenCredentials(
            connection.secret.get("access_token", ""),
            refresh,
            bucket_key=f"oauth:{connection.pk}",
            public_key=connection.public_key or None,
        )
    return ApiKeyCredentials(connection.secret.get("api_key", ""), connection.public_key or None)


def client_for(connection: Connection) -> KlaviyoClient:
    """Return an HTTP client authenticated as this connection."""
    kwargs: dict[str, Any] = {"base_url": base_url_for(connection)}
    if connection.revision:
        kwargs["revision"] = connection.revision
    return KlaviyoClient(credentials_for(connection), **kwargs)


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    public_key: str
    #: Klaviyo accepted the credentials but would not show the account (no accounts:read).
    limited: bool = False


LIMITED_NOTE = "Klaviyo accepted the key, but it cannot read the account's details."


def account_lookup(client: KlaviyoClient) -> AccountInfo:
    """Ask Klaviyo which account the credentials belong to (GET /api/accounts).

    Raise KlaviyoError when Klaviyo refuses or cannot be reached.
    """
    response = client.send("GET", "/api/accounts", tier="XS")
    rows = (response.data or {}).get("data") or []
    if not rows:
        raise KlaviyoError("Klaviyo answered, but listed no account for these credentials.")
    account = rows[0]
    attributes = account.get("attributes") or {}
    contact = attributes.get("contact_information") or {}
    name = contact.get("organization_name") or contact.get("default_sender_name") or ""
    return AccountInfo(
        id=str(account.get("id", "")),
        name=name or f"Klaviyo account {account.get('id', '')}",
        public_key=attributes.get("public_api_key") or "",
    )


def api_key_verify(*, api_key: str, base_url: str | None = None) -> AccountInfo:
    """Return the account behind `api_key`; raise KlaviyoError with Klaviyo's reason if refused.

    A key without the `accounts:read` scope is valid: Klaviyo answers 403, not 401.
    """
    client = KlaviyoClient(ApiKeyCredentials(api_key), base_url=base_url, max_attempts=2)
    try:
        return account_lookup(client)
    except KlaviyoAuthError as error:
        if error.status != 403:
            raise
        return AccountInfo(id="", name="Klaviyo account", public_key="", limited=True)
