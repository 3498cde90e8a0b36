"""Periodic connection health: re-test connections and refresh OAuth tokens nearing expiry."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Q

from integrations import services
from integrations.auth.refresh import connection_refresh_token
from integrations.klaviyo.errors import KlaviyoOAuthError
from integrations.models import Connection


@shared_task(ignore_result=True)
def connections_check_all() -> int:
    """Queue a check of every connection that is not disconnected; return how many."""
    ids = list(
        Connection.objects.exclude(status=Connection.Status.REVOKED).values_list("pk", flat=True)
    )
    for pk in ids:
        connection_check.delay(pk)
    return len(ids)


@shared_task(ignore_result=True)
def connection_check(connection_id: int) -> str:
    """Refresh the token if it expires soon, then test the connection; return its status."""
    connection = (
        Connection.objects.filter(pk=connection_id)
        .exclude(Q(status=Connection.Status.REVOKED))
        .first()
    )
    if connection is None:
        return "gone"
    if connection.token_expires_soon:
        try:
            connection_refresh_token(connection=connection)
        except KlaviyoOAuthError:
            return connection.status
    return services.connection_test(connection=connection).status
