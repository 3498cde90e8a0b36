"""Write-side functions for connections: create, test, refresh, rename, reconnect, disconnect.

Every change to a connection leaves a ConnectionEvent with the time and the user, so the
connection page can show what happened.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from builder.models import User, Workspace
from integrations.access import LIMITED_NOTE, AccountInfo, account_lookup, client_for
from integrations.auth import oauth
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import BearerTokenCredentials
from integrations.klaviyo.errors import KlaviyoAuthError, KlaviyoError
from integrations.models import Connection, ConnectionEvent

logger = logging.getLogger(__name__)

Status = Connection.Status
Event = ConnectionEvent.Kind


def mask_secret(secret: str) -> str:
    """Return `pk_…abcd`: enough to recognise a key, useless to anyone who sees it."""
    prefix = secret[:3] if secret.startswith(("pk_", "sk_")) else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


def _log(connection: Connection, kind: str, message: str = "", user: User | None = None) -> None:
    ConnectionEvent.objects.create(
        connection=connection, kind=kind, message=message[:500], user=user
    )


def _apply_account(connection: Connection, account: AccountInfo) -> None:
    connection.account_id = account.id
    connection.account_name = account.name
    if account.public_key:
        connection.public_key = account.public_key


# --- Creating -------------------------------------------------------------------------------------


@transaction.atomic
def connection_create_api_key(
    *,
    workspace: Workspace,
    user: User | None,
    name: str,
    api_key: str,
    public_key: str = "",
    account: AccountInfo,
    kind: str = Connection.Kind.API_KEY,
    sandbox_account_id: int | None = None,
) -> Connection:
    """Store a connection whose key Klaviyo has already accepted (see `api_key_verify`)."""
    connection = Connection(
        workspace=workspace,
        kind=kind,
        name=name.strip() or account.name,
        status_message=LIMITED_NOTE if account.limited else "",
        public_key=public_key.strip(),
        secret={"api_key": api_key},
        key_hint=mask_secret(api_key),
        created_by=user,
        last_checked_at=timezone.now(),
        sandbox_account_id=sandbox_account_id,
    )
    _apply_account(connection, account)
    connection.save()
    _log(connection, Event.CREATED, f"Connected to {connection.account_name}.", user)
    return connection


def connection_create_sandbox(*, workspace: Workspace, user: User | None, name: str) -> Connection:
    """Create an isolated sandbox account with demo data and a connection to it.

    Raise ValidationError when the sandbox is switched off or the workspace has its maximum.
    """
    from integrations.klaviyo.sandbox.services import sandbox_account_create

    if not settings.KLAVIYO_SANDBOX_ENABLED:
        raise ValidationError("The sandbox is switched off on this Step Builder.")
    existing = Connection.objects.for_workspace(workspace).filter(kind=Connection.Kind.SANDBOX)
    limit = settings.KLAVIYO_SANDBOX_MAX_PER_WORKSPACE
    if existing.exclude(status=Status.REVOKED).count() >= limit:
        raise ValidationError(
            f"This workspace already has {limit} sandboxes; reset or disconnect one instead."
        )

    account, api_key = sandbox_account_create(name=name or f"{workspace.name} sandbox")
    info = AccountInfo(id=str(account.public_key), name=account.name, public_key=account.public_key)
    return connection_create_api_key(
        workspace=workspace,
        user=user,
        name=name or "Klaviyo sandbox",
        api_key=api_key,
        public_key=account.public_key,
        account=info,
        kind=Connection.Kind.SANDBOX,
        sandbox_account_id=account.pk,
    )


def _token_fields(token: dict[str, Any], previous: dict[str, Any] | None = None) -> dict[str, Any]:
    secret = {
        "access_token": token["access_token"],
        # Klaviyo may or may not rotate the refresh token; keep the old one when it does not.
        "refresh_token": token.get("refresh_token") or (previous or {}).get("refresh_token", ""),
    }
    expires_in = token.get("expires_in")
    expires_at = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    return {"secret": secret, "token_expires_at": expires_at}


def connection_save_oauth(
    *,
    workspace: Workspace,
    user: User | None,
    name: str,
    token: dict[str, Any],
    connection: Connection | None = None,
) -> Connection:
    """Store the tokens of a finished authorization: a new connection, or a reconnected one.

    Raise OAuthFlowError (after revoking the new tokens) when the account cannot be read or a
    reconnect authorized a different Klaviyo account than the connection's.
    """
    fields = _token_fields(token)
    scope = token.get("scope") or ""
    scopes = sorted(set(scope.split() if isinstance(scope, str) else scope))
    creating = connection is None
    if creating:
        connection = Connection(
            workspace=workspace, kind=Connection.Kind.OAUTH2, name=name, created_by=user
        )
    connection.secret = fields["secret"]
    connection.token_expires_at = fields["token_expires_at"]
    connection.scopes = scopes
    connection.key_hint = f"OAuth · {len(scopes)} scopes"
    client = KlaviyoClient(
        BearerTokenCredentials(
            fields["secret"]["access_token"], bucket_key=f"oauth:new:{user.pk if user else 0}"
        ),
        base_url=settings.KLAVIYO_BASE_URL,
        max_attempts=2,
    )
    try:
        account = account_lookup(client)
    except KlaviyoError as error:
        _revoke_quietly(fields["secret"]["refresh_token"])
        raise oauth.OAuthFlowError(
            f"Klaviyo issued a token, but reading the account failed: {error.message}"
        ) from error
    if not creating and connection.account_id and account.id != connection.account_id:
        _revoke_quietly(fields["secret"]["refresh_token"])
        raise oauth.OAuthFlowError(
            f"You authorized {account.name} ({account.id}), but this connection is for "
            f"{connection.account_name} ({connection.account_id}). Reconnect with that account, "
            "or add a new connection for the other one."
        )
    _apply_account(connection, account)
    connection.name = connection.name.strip() or account.name
    connection.status = Status.HEALTHY
    connection.status_message = ""
    connection.last_checked_at = timezone.now()
    with transaction.atomic():
        connection.save()
        if creating:
            _log(connection, Event.CREATED, f"Connected to {account.name} with OAuth.", user)
        else:
            _log(connection, Event.RECONNECTED, "Authorized again with OAuth.", user)
    return connection


def _revoke_quietly(refresh_token: str) -> None:
    """Give back tokens we will not store; a failure only leaves them to expire."""
    if not refresh_token:
        return
    try:
        oauth.token_revoke(oauth.oauth_app(), token=refresh_token)
    except oauth.OAuthFlowError as error:
        logger.warning("Revoking an unused OAuth token failed: %s", error.log_message)


# --- Keeping it healthy ---------------------------------------------------------------------------
#
# Tests and refreshes talk to Klaviyo for a while; the user may disconnect meanwhile. So they
# write back with a conditional UPDATE that never touches a revoked connection, and only the
# fields they own: a slow health check can never bring back a deleted key.


def _update_unless_revoked(connection: Connection, **fields: Any) -> bool:
    """Write `fields` unless the connection was disconnected meanwhile; mirror them in memory."""
    updated = (
        Connection.objects.filter(pk=connection.pk)
        .exclude(status=Status.REVOKED)
        .update(**{name: _prep(connection, name, value) for name, value in fields.items()})
    )
    if updated:
        for name, value in fields.items():
            setattr(connection, name, value)
    else:
        connection.refresh_from_db()
    return bool(updated)


def _prep(connection: Connection, name: str, value: Any) -> Any:
    """Encrypt the secret for a queryset update (which bypasses the field's own saving)."""
    if name == "secret":
        return Connection._meta.get_field("secret").get_prep_value(value)
    return value


def _mark(connection: Connection, status: str, message: str, user: User | None) -> None:
    """Record a failure; log it only when it changes what the connection page says."""
    changed = (connection.status, connection.status_message) != (status, message[:500])
    updated = _update_unless_revoked(
        connection, status=status, status_message=message[:500], last_checked_at=timezone.now()
    )
    if updated and changed:
        _log(connection, Event.FAILED, message, user)


def connection_refresh_token(*, connection: Connection, user: User | None = None) -> Connection:
    """Refresh an OAuth connection's access token and store the new one.

    A refused refresh marks the connection "needs reconnect" (or "failing" when Klaviyo could
    not be reached) and raises OAuthFlowError. When another worker refreshed the same
    connection first, its tokens are adopted instead.
    """
    refresh_token = connection.secret.get("refresh_token")
    if not refresh_token:
        _mark(connection, Status.NEEDS_RECONNECT, "There is no refresh token; reconnect.", user)
        raise oauth.OAuthFlowError("No refresh token stored.", code="invalid_grant")
    try:
        token = oauth.token_refresh(oauth.oauth_app(), refresh_token=refresh_token)
    except oauth.OAuthFlowError as error:
        fresh = Connection.objects.filter(pk=connection.pk).first()
        if fresh and fresh.secret.get("refresh_token") not in (None, "", refresh_token):
            connection.refresh_from_db()  # someone else refreshed (and rotated) it first
            return connection
        status = Status.NEEDS_RECONNECT if error.needs_reconnect else Status.FAILING
        _mark(connection, status, error.log_message, user)
        raise
    fields = _token_fields(token, connection.secret)
    healed = {"status": Status.HEALTHY, "status_message": ""}
    if _update_unless_revoked(
        connection, **fields, **(healed if connection.status == Status.FAILING else {})
    ):
        _log(connection, Event.REFRESHED, "Access token refreshed.", user)
    return connection


def connection_test(*, connection: Connection, user: User | None = None) -> Connection:
    """Call Klaviyo with the connection's credentials and record whether it works."""
    if connection.status == Status.REVOKED:
        return connection
    try:
        account = account_lookup(client_for(connection))
    except oauth.OAuthFlowError:
        return connection  # already marked by the refresh
    except KlaviyoAuthError as error:
        if error.status == 403 and connection.kind != Connection.Kind.OAUTH2:
            # The key works but may not read account details (no accounts:read scope).
            if _update_unless_revoked(
                connection, status=Status.HEALTHY, status_message=LIMITED_NOTE,
                last_checked_at=timezone.now(),
            ):  # fmt: skip
                _log(connection, Event.TESTED, LIMITED_NOTE, user)
            return connection
        _mark(connection, Status.NEEDS_RECONNECT, error.message, user)
        return connection
    except KlaviyoError as error:
        _mark(connection, Status.FAILING, error.message, user)
        return connection
    fields = {
        "account_id": account.id,
        "account_name": account.name,
        "public_key": account.public_key or connection.public_key,
        "status": Status.HEALTHY,
        "status_message": "",
        "last_checked_at": timezone.now(),
    }
    if _update_unless_revoked(connection, **fields):
        _log(connection, Event.TESTED, f"Klaviyo answered for {account.name}.", user)
    return connection


def connection_rename(*, connection: Connection, name: str, user: User | None) -> Connection:
    old = connection.name
    connection.name = name.strip()
    connection.save(update_fields=["name"])
    _log(connection, Event.RENAMED, f"Renamed from “{old}”.", user)
    return connection


def connection_replace_key(
    *, connection: Connection, api_key: str, account: AccountInfo, user: User | None
) -> Connection:
    """Reconnect an API-key connection with a new key Klaviyo has accepted."""
    connection.secret = {"api_key": api_key}
    connection.key_hint = mask_secret(api_key)
    _apply_account(connection, account)
    connection.status, connection.status_message = Status.HEALTHY, ""
    connection.last_checked_at = timezone.now()
    connection.save()
    _log(connection, Event.RECONNECTED, "A new API key was saved.", user)
    return connection


def connection_disconnect(*, connection: Connection, user: User | None) -> Connection:
    """Revoke OAuth tokens at Klaviyo, forget every secret and mark the connection revoked."""
    note = "Disconnected; the stored credentials were deleted."
    if connection.kind == Connection.Kind.OAUTH2 and connection.secret.get("refresh_token"):
        try:
            oauth.token_revoke(oauth.oauth_app(), token=connection.secret["refresh_token"])
            note = "Disconnected; Klaviyo revoked the refresh token."
        except oauth.OAuthFlowError as error:
            logger.warning("Revoking connection %s failed: %s", connection.pk, error.log_message)
            note = f"Disconnected; Klaviyo did not confirm the revocation: {error.detail}"
    connection.secret = {}
    connection.token_expires_at = None
    connection.status = Status.REVOKED
    connection.status_message = ""
    connection.save()
    _log(connection, Event.REVOKED, note, user)
    return connection


def connection_sandbox_reset(*, connection: Connection, user: User | None) -> dict[str, int]:
    """Wipe a sandbox connection's account and seed the demo store again; return the counts."""
    from integrations.klaviyo.sandbox.models import SandboxAccount
    from integrations.klaviyo.sandbox.services import sandbox_account_reset

    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    counts = sandbox_account_reset(account=account)
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    _log(connection, Event.RESET, f"Demo data restored: {summary}.", user)
    return counts


def connection_touch(*, connection: Connection) -> None:
    """Record that a workflow just used the connection."""
    Connection.objects.filter(pk=connection.pk).update(last_used_at=timezone.now())
