"""How a connection reaches Klaviyo: its base URL, credentials and an authenticated client.

`credentials_for` refreshes an OAuth token that is about to expire (and gives the client a
callback for one more refresh on a 401); the refresh itself lives in `integrations/auth/`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from integrations.auth.refresh import connection_refresh_token
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials, BearerTokenCredentials, Credentials
from integrations.klaviyo.errors import KlaviyoOAuthError
from integrations.models import Connection
from integrations.sandbox import sandbox


def base_url_for(connection: Connection) -> str:
    """Return where this connection's calls go: Klaviyo, or the built-in sandbox."""
    adapter = sandbox() if connection.is_sandbox else None
    return adapter.base_url() if adapter else settings.KLAVIYO_BASE_URL


def credentials_for(connection: Connection) -> Credentials:
    """Return the credentials provider the HTTP client uses for this connection.

    OAuth tokens close to expiry are refreshed first; a 401 later triggers one more refresh.
    """
    if connection.is_oauth:
        if connection.token_expires_soon:
            connection_refresh_token(connection=connection)

        def refresh() -> str | None:
            try:
                connection_refresh_token(connection=connection)
            except KlaviyoOAuthError:
                return None
            return connection.secret.get("access_token")

        return BearerTokenCredentials(
            connection.secret.get("access_token", ""),
            refresh,
            bucket_key=f"oauth:{connection.pk}",
            public_key=connection.public_key or None,
        )
    return ApiKeyCredentials(connection.secret.get("api_key", ""), connection.public_key or None)


def client_for(connection: Connection, **options: Any) -> KlaviyoClient:
    """Return an HTTP client authenticated as this connection (`options`: the client's own)."""
    kwargs: dict[str, Any] = {"base_url": base_url_for(connection), **options}
    if connection.revision:
        kwargs["revision"] = connection.revision
    return KlaviyoClient(credentials_for(connection), **kwargs)
