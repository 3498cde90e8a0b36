"""Write-side functions for connections: create, test, refresh, rename, reconnect, disconnect.

Every change to a connection leaves a ConnectionEvent with the time and the user, so the
connection page can show what happened.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from builder.models import User, Workspace
from integrations.access import base_url_for, client_for
from integrations.auth import oauth
from integrations.auth.refresh import token_fields
from integrations.klaviyo.accounts import LIMITED_NOTE, AccountInfo, account_lookup, api_key_verify
from integrations.klaviyo.actions import ActionResult, run_action
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import BearerTokenCredentials
from integrations.klaviyo.errors import (
    KlaviyoAuthError,
    KlaviyoError,
    KlaviyoOAuthError,
    interruptible_sleep,
)
from integrations.models import Connection, ConnectionEvent
from integrations.records import event_log, mark_failed, update_unless_revoked
from integrations.sandbox import sandbox

logger = logging.getLogger(__name__)

Status = Connection.Status
Event = ConnectionEvent.Kind


def mask_secret(secret: str) -> str:
    """Return `pk_…abcd`: enough to recognise a key, useless to anyone who sees it."""
    prefix = secret[:3] if secret.startswith(("pk_", "sk_")) else ""
    return f"{prefix}…{secret[-4:]}" if len(secret) > 8 else "…"


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
    event_log(connection, Event.CREATED, f"Connected to {connection.account_name}.", user)
    return connection


def connection_add_api_key(
    *, workspace: Workspace, user: User | None, name: str, api_key: str, public_key: str = ""
) -> Connection:
    """Check a private key with Klaviyo and store a connection for it.

    Raise KlaviyoError with Klaviyo's reason (nothing is stored) when the key is refused.
    """
    account = api_key_verify(api_key=api_key)
    return connection_create_api_key(
        workspace=workspace,
        user=user,
        name=name,
        api_key=api_key,
        public_key=public_key,
        account=account,
    )


def connection_create_sandbox(*, workspace: Workspace, user: User | None, name: str) -> Connection:
    """Create an isolated sandbox account with demo data and a connection to it.

    Raise ValidationError when the sandbox is switched off, the workspace has its maximum, or
    the person has (in any workspace, or through the sandbox's consent page).
    """
    adapter = sandbox()
    if adapter is None:
        raise ValidationError("The sandbox is switched off on this Step Builder.")
    existing = Connection.objects.for_workspace(workspace).filter(kind=Connection.Kind.SANDBOX)
    limit = settings.KLAVIYO_SANDBOX_MAX_PER_WORKSPACE
    if existing.exclude(status=Status.REVOKED).count() >= limit:
        raise ValidationError(
            f"This workspace already has {limit} sandboxes; reset or disconnect one instead."
        )
    account = adapter.account_create(
        name=name or f"{workspace.name} sandbox", user_id=user.pk if user else None
    )
    info = AccountInfo(id=account.public_key, name=account.name, public_key=account.public_key)
    return connection_create_api_key(
        workspace=workspace,
        user=user,
        name=name or "Klaviyo sandbox",
        api_key=account.api_key,
        public_key=account.public_key,
        account=info,
        kind=Connection.Kind.SANDBOX,
        sandbox_account_id=account.id,
    )


def connection_save_oauth(
    *,
    workspace: Workspace,
    user: User | None,
    name: str,
    token: dict[str, Any],
    connection: Connection | None = None,
) -> Connection:
    """Store the tokens of a finished authorization: a new connection, or a reconnected one.

    Raise KlaviyoOAuthError (after revoking the new tokens) when the account cannot be read or a
    reconnect authorized a different Klaviyo account than the connection's.
    """
    fields = token_fields(token)
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
        raise KlaviyoOAuthError(
            f"Klaviyo issued a token, but reading the account failed: {error.message}"
        ) from error
    if not creating and connection.account_id and account.id != connection.account_id:
        _revoke_quietly(fields["secret"]["refresh_token"])
        raise KlaviyoOAuthError(
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
            event_log(connection, Event.CREATED, f"Connected to {account.name} with OAuth.", user)
        else:
            event_log(connection, Event.RECONNECTED, "Authorized again with OAuth.", user)
    return connection


def _revoke_quietly(refresh_token: str) -> None:
    """Give back tokens we will not store; a failure only leaves them to expire."""
    if not refresh_token:
        return
    try:
        oauth.token_revoke(oauth.oauth_app(), token=refresh_token)
    except KlaviyoOAuthError as error:
        logger.warning("Revoking an unused OAuth token failed: %s", error.log_message)


# --- Keeping it healthy ---------------------------------------------------------------------------


def connection_test(*, connection: Connection, user: User | None = None) -> Connection:
    """Call Klaviyo with the connection's credentials and record whether it works."""
    if connection.status == Status.REVOKED:
        return connection
    try:
        account = account_lookup(client_for(connection))
    except KlaviyoOAuthError:
        return connection  # already marked by the refresh
    except KlaviyoAuthError as error:
        if error.status == 403 and connection.kind != Connection.Kind.OAUTH2:
            # The key works but may not read account details (no accounts:read scope).
            if update_unless_revoked(
                connection, status=Status.HEALTHY, status_message=LIMITED_NOTE,
                last_checked_at=timezone.now(),
            ):  # fmt: skip
                event_log(connection, Event.TESTED, LIMITED_NOTE, user)
            return connection
        mark_failed(connection, Status.NEEDS_RECONNECT, error.message, user)
        return connection
    except KlaviyoError as error:
        mark_failed(connection, Status.FAILING, error.message, user)
        return connection
    fields = {
        "account_id": account.id,
        "account_name": account.name,
        "public_key": account.public_key or connection.public_key,
        "status": Status.HEALTHY,
        "status_message": "",
        "last_checked_at": timezone.now(),
    }
    if update_unless_revoked(connection, **fields):
        event_log(connection, Event.TESTED, f"Klaviyo answered for {account.name}.", user)
    return connection


def connection_rename(*, connection: Connection, name: str, user: User | None) -> Connection:
    old = connection.name
    connection.name = name.strip()
    connection.save(update_fields=["name"])
    event_log(connection, Event.RENAMED, f"Renamed from “{old}”.", user)
    return connection


def connection_replace_key(
    *, connection: Connection, api_key: str, user: User | None
) -> Connection:
    """Check a new private key with Klaviyo and keep it, if it reaches the connection's account.

    Raise KlaviyoError when Klaviyo refuses the key, and ValidationError when it belongs to
    another account (or will not say which): that is a new connection, not a new key, since the
    workflows using this one expect its lists, profiles and metrics.
    """
    account = api_key_verify(api_key=api_key, base_url=base_url_for(connection))
    if connection.account_id and account.id != connection.account_id:
        if account.limited:
            raise ValidationError(
                "Klaviyo would not say which account this key belongs to (it lacks the "
                "accounts:read scope), so it cannot replace the key of "
                f"{connection.account_name}. Give the key that scope, or add it as a new "
                "connection."
            )
        raise ValidationError(
            f"This key belongs to {account.name} ({account.id}), but this connection is for "
            f"{connection.account_name} ({connection.account_id}). Add it as a new connection."
        )
    connection.secret = {"api_key": api_key}
    connection.key_hint = mask_secret(api_key)
    _apply_account(connection, account)
    connection.status = Status.HEALTHY
    connection.status_message = LIMITED_NOTE if account.limited else ""
    connection.last_checked_at = timezone.now()
    connection.save()
    event_log(connection, Event.RECONNECTED, "A new API key was saved.", user)
    return connection


def connection_disconnect(*, connection: Connection, user: User | None) -> Connection:
    """Revoke OAuth tokens at Klaviyo, forget every secret and mark the connection revoked.

    A sandbox connection's sandbox account is deleted with all its data, so its key stops
    working at once and it no longer counts against anyone's sandbox limit.
    """
    note = "Disconnected; the stored credentials were deleted."
    adapter = sandbox() if connection.is_sandbox else None
    if adapter is not None and connection.sandbox_account_id:
        adapter.account_delete(account_id=connection.sandbox_account_id)
        note = "Disconnected; the sandbox account and its data were deleted."
    if connection.is_oauth and connection.secret.get("refresh_token"):
        try:
            oauth.token_revoke(oauth.oauth_app(), token=connection.secret["refresh_token"])
            note = "Disconnected; Klaviyo revoked the refresh token."
        except KlaviyoOAuthError as error:
            logger.warning("Revoking connection %s failed: %s", connection.pk, error.log_message)
            note = f"Disconnected; Klaviyo did not confirm the revocation: {error.detail}"
    connection.secret = {}
    connection.token_expires_at = None
    connection.status = Status.REVOKED
    connection.status_message = ""
    connection.save()
    event_log(connection, Event.REVOKED, note, user)
    return connection


def connection_sandbox_reset(*, connection: Connection, user: User | None) -> dict[str, int]:
    """Wipe a sandbox connection's account and seed the demo store again; return the counts.

    Raise ValidationError when the sandbox is switched off.
    """
    adapter = sandbox()
    if adapter is None or not connection.sandbox_account_id:
        raise ValidationError("The sandbox is switched off on this Step Builder.")
    counts = adapter.account_reset(account_id=connection.sandbox_account_id)
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    event_log(connection, Event.RESET, f"Demo data restored: {summary}.", user)
    return counts


def connection_touch(*, connection: Connection) -> None:
    """Record that a workflow just used the connection (at most once a minute per object)."""
    now = timezone.now()
    if connection.last_used_at and now - connection.last_used_at < TOUCH_INTERVAL:
        return
    Connection.objects.filter(pk=connection.pk).update(last_used_at=now)
    connection.last_used_at = now


# --- Running actions ------------------------------------------------------------------------------


def connection_run_action(
    *,
    connection: Connection,
    key: str,
    params: dict[str, Any],
    fetch_all: bool = False,
    max_items: int | None = None,
    block_on_rate_limit: bool = True,
    stop: threading.Event | None = None,
) -> ActionResult:
    """Run a catalog action as this connection; never raise for Klaviyo's or the input's faults.

    An unusable connection (disconnected, awaiting reconnect, a switched-off sandbox) or a
    refused token refresh comes back as a failed result that sent nothing; the connection is
    marked as used whenever a request went out. Once `stop` is set, no further try is made:
    the result fails with the code "canceled".
    """
    reason = connection.unusable_reason()
    if reason:
        return ActionResult.failed(KlaviyoError(reason, code="connection_unusable"))
    options = {"sleep": interruptible_sleep(stop)} if stop is not None else {}
    try:
        client = client_for(connection, **options)
    except KlaviyoError as error:  # e.g. a refused token refresh
        message = f"The connection “{connection.name}” cannot be used: {error.message}"
        return ActionResult.failed(error, message=message)
    result = run_action(
        client,
        key,
        params,
        fetch_all=fetch_all,
        max_items=max_items,
        block_on_rate_limit=block_on_rate_limit,
    )
    if result.attempts:
        connection_touch(connection=connection)
    return result


#: How stale `last_used_at` may get before a use writes it again (one write, not one per call).
TOUCH_INTERVAL = timedelta(minutes=1)
