"""What a Klaviyo trigger's settings may be: the account's webhook topics, metrics, lists and
segments, read through the connection for the editor's pickers.

Each lookup is one list action of the catalog (all pages, at most `MAX_ITEMS` items), kept in
Django's cache for `CACHE_SECONDS` per connection, so opening the trigger card again costs no
call to Klaviyo. A failed lookup is not cached and comes back with its message: the editor then
lets the user type the value instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache

from builder.models import Workspace
from builder.triggers.base import connection_named
from integrations.models import Connection
from integrations.services import connection_run_action

CACHE_SECONDS = 60
MAX_ITEMS = 500


@dataclass(frozen=True)
class Lookup:
    """How one kind of choice is read: the catalog action, and which attribute names an item."""

    action: str
    #: What the trigger stores: the resource's "id", or an attribute such as "name".
    value: str
    #: What the picker shows ("id" for topics, which have no name).
    label: str
    noun: str


LOOKUPS: dict[str, Lookup] = {
    # Topic ids read like "event:klaviyo.placed_order"; Klaviyo gives them no other name.
    "topics": Lookup("KLAVIYO_GET_WEBHOOK_TOPICS", "id", "id", "webhook topics"),
    # A poll names its metric by name ("Placed Order"), which reads the same in every account.
    "metric": Lookup("KLAVIYO_GET_METRICS", "name", "name", "metrics"),
    "list": Lookup("KLAVIYO_GET_LISTS", "id", "name", "lists"),
    "segment": Lookup("KLAVIYO_GET_SEGMENTS", "id", "name", "segments"),
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Choices:
    """The account's choices of one kind, or why they could not be read (`error`)."""

    kind: str
    items: list[Choice] = field(default_factory=list)
    error: str | None = None
    #: Klaviyo's HTTP status of a failed lookup (403: the key may not read these).
    status: int | None = None

    @property
    def values(self) -> set[str]:
        return {choice.value for choice in self.items}


def trigger_connection(workspace: Workspace, name: str | None) -> Connection | None:
    """Return the workspace's connection called `name` (as the validator picks it), or None."""
    return connection_named(workspace, name)


def _attribute(item: dict[str, Any], name: str) -> str:
    if name == "id":
        return str(item.get("id") or "")
    attributes = item.get("attributes") if isinstance(item.get("attributes"), dict) else {}
    value = attributes.get(name)
    return value if isinstance(value, str) else ""


def _cache_key(connection: Connection, kind: str) -> str:
    return f"builder:trigger-choices:{connection.pk}:{kind}"


def choices_of(*, connection: Connection, kind: str) -> Choices:
    """Return the connection's account's choices of `kind` (a key of LOOKUPS); never raise.

    Raise KeyError for an unknown `kind` (a programming error, not the user's).
    """
    lookup = LOOKUPS[kind]
    cached = cache.get(_cache_key(connection, kind))
    if cached is not None:
        return Choices(kind, [Choice(value, label) for value, label in cached])
    # Not blocking on the rate limit: a page waiting for Klaviyo's budget would look broken;
    # the failure says so and the user can type the value meanwhile.
    result = connection_run_action(
        connection=connection,
        key=lookup.action,
        params={},
        fetch_all=True,
        max_items=MAX_ITEMS,
        block_on_rate_limit=False,
    )
    if not result.successful:
        return Choices(
            kind, error=result.error or "Klaviyo did not answer.", status=result.http_status
        )
    data = result.data.get("data") if isinstance(result.data, dict) else None
    items: dict[str, str] = {}
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, dict):
            continue
        value = _attribute(item, lookup.value)
        if value and value not in items:
            items[value] = _attribute(item, lookup.label) or value
    pairs = sorted(items.items(), key=lambda pair: (pair[1].lower(), pair[0]))
    cache.set(_cache_key(connection, kind), pairs, CACHE_SECONDS)
    return Choices(kind, [Choice(value, label) for value, label in pairs])
