"""How connection changes are written: conditional updates and the connection's event log.

Tests and refreshes talk to Klaviyo for a while; the user may disconnect meanwhile. So they write
back with a conditional UPDATE that never touches a revoked connection, and only the fields they
own: a slow health check can never bring back a deleted key. Services and the token refresh in
`integrations/auth/` both write through here.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from builder.models import User
from integrations.models import Connection, ConnectionEvent


def event_log(
    connection: Connection, kind: str, message: str = "", user: User | None = None
) -> None:
    """Add a line to the connection's event log (what happened, when, by whom)."""
    ConnectionEvent.objects.create(
        connection=connection, kind=kind, message=message[:500], user=user
    )


def update_unless_revoked(connection: Connection, **fields: Any) -> bool:
    """Write `fields` unless the connection was disconnected meanwhile; mirror them in memory."""
    updated = (
        Connection.objects.filter(pk=connection.pk)
        .exclude(status=Connection.Status.REVOKED)
        .update(**{name: _prep(name, value) for name, value in fields.items()})
    )
    if updated:
        for name, value in fields.items():
            setattr(connection, name, value)
    else:
        connection.refresh_from_db()
    return bool(updated)


def _prep(name: str, value: Any) -> Any:
    """Encrypt the secret for a queryset update (which bypasses the field's own saving)."""
    if name == "secret":
        return Connection._meta.get_field("secret").get_prep_value(value)
    return value


def mark_failed(connection: Connection, status: str, message: str, user: User | None) -> None:
    """Record a failure; log it only when it changes what the connection page says."""
    changed = (connection.status, connection.status_message) != (status, message[:500])
    updated = update_unless_revoked(
        connection, status=status, status_message=message[:500], last_checked_at=timezone.now()
    )
    if updated and changed:
        event_log(connection, ConnectionEvent.Kind.FAILED, message, user)
