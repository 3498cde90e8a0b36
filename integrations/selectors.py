"""Read-side queries for connections, and what a connection's scopes allow."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache

from django.db.models import QuerySet

from builder.models import Workspace
from integrations.models import Connection, ConnectionEvent
from integrations.sandbox import sandbox


def connections_of_workspace(workspace: Workspace) -> QuerySet[Connection]:
    """Return the workspace's connections without their secrets (lists never need them)."""
    return Connection.objects.for_workspace(workspace).defer("secret").order_by("name", "id")


def usable_connections(workspace: Workspace) -> QuerySet[Connection]:
    """Return the connections a workflow step may use: those `unusable_reason` lets through."""
    usable = connections_of_workspace(workspace).exclude(status__in=Connection.UNUSABLE_STATUSES)
    if sandbox() is None:
        usable = usable.exclude(kind=Connection.Kind.SANDBOX)
    return usable


def connection_events(connection: Connection, limit: int = 50) -> list[ConnectionEvent]:
    return list(connection.events.select_related("user")[:limit])


@cache
def catalog_scopes() -> tuple[str, ...]:
    """Return every scope some catalog action requires, sorted."""
    from integrations.klaviyo.catalog import list_actions

    return tuple(sorted({scope for action in list_actions() for scope in action.scopes}))


def scope_presets() -> dict[str, tuple[str, ...]]:
    """Return the scope presets offered when connecting with OAuth."""
    scopes = catalog_scopes()
    return {"read": tuple(s for s in scopes if s.endswith(":read")), "full": scopes}


def missing_scopes(connection: Connection, required: list[str] | tuple[str, ...]) -> list[str]:
    """Return the scopes in `required` that the connection was not granted.

    Only OAuth connections know their scopes; Klaviyo checks an API key's own scopes per call.
    """
    if connection.kind != Connection.Kind.OAUTH2:
        return []
    granted = set(connection.scopes)
    return sorted(scope for scope in required if scope not in granted)


@dataclass(frozen=True)
class ScopeCoverage:
    blocked_actions: int
    total_actions: int
    missing: list[tuple[str, int]]  # (scope, how many actions need it), most needed first


def scope_coverage(connection: Connection) -> ScopeCoverage:
    """Tell how many catalog actions this connection cannot run for lack of scopes."""
    from integrations.klaviyo.catalog import list_actions

    actions = list_actions()
    needed: Counter[str] = Counter()
    blocked = 0
    for action in actions:
        lacking = missing_scopes(connection, action.scopes)
        if lacking:
            blocked += 1
            needed.update(lacking)
    return ScopeCoverage(blocked, len(actions), needed.most_common())
