"""Keep an OAuth connection's access token fresh: refresh it, store it, or mark it broken."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from builder.models import User
from integrations.auth import oauth
from integrations.klaviyo.errors import KlaviyoOAuthError
from integrations.models import Connection, ConnectionEvent
from integrations.records import event_log, mark_failed, update_unless_revoked

Status = Connection.Status


def token_fields(token: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return the `secret` and `token_expires_at` to store for a token answer."""
    secret = {
        "access_token": token["access_token"],
        # Klaviyo may or may not rotate the refresh token; keep the old one when it does not.
        "refresh_token": token.get("refresh_token") or (previous or {}).get("refresh_token", ""),
    }
    expires_in = token.get("expires_in")
    expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    return {"secret": secret, "token_expires_at": expires_at}


def connection_refresh_token(*, connection: Connection, user: User | None = None) -> Connection:
    """Refresh an OAuth connection's access token and store the new one.

    A refused refresh marks the connection "needs reconnect" (or "failing" when Klaviyo could
    not be reached) and raises KlaviyoOAuthError. When another worker refreshed the same
    connection first, its tokens are adopted instead.
    """
    refresh_token = connection.secret.get("refresh_token")
    if not refresh_token:
        mark_failed(
            connection, Status.NEEDS_RECONNECT, "There is no refresh token; reconnect.", user
        )
        raise KlaviyoOAuthError("No refresh token stored.", code="invalid_grant")
    try:
        token = oauth.token_refresh(oauth.oauth_app(), refresh_token=refresh_token)
    except KlaviyoOAuthError as error:
        fresh = Connection.objects.filter(pk=connection.pk).first()
        if fresh and fresh.secret.get("refresh_token") not in (None, "", refresh_token):
            connection.refresh_from_db()  # someone else refreshed (and rotated) it first
            return connection
        status = Status.NEEDS_RECONNECT if error.needs_reconnect else Status.FAILING
        mark_failed(connection, status, error.log_message, user)
        raise
    fields = token_fields(token, connection.secret)
    healed = {"status": Status.HEALTHY, "status_message": ""}
    if update_unless_revoked(
        connection, **fields, **(healed if connection.status == Status.FAILING else {})
    ):
        event_log(connection, ConnectionEvent.Kind.REFRESHED, "Access token refreshed.", user)
    return connection
