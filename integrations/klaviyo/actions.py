"""Run one catalog action against Klaviyo and describe the outcome: `run_action`.

This is the single entry point the workflow engine, the `run_action` command and the tests use:
it validates the input (no HTTP call on invalid input), sends the request(s) through the HTTP
client with the action's own rate limits, follows pages when asked, and turns every failure
into a sentence a marketer can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from integrations.klaviyo.catalog import (
    Action,
    InvalidInput,
    KlaviyoRequest,
    UnknownAction,
    execute,
    get_action,
)
from integrations.klaviyo.client import Attempt, KlaviyoClient
from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo.pagination import next_link
from integrations.klaviyo.ratelimit import Tier

if TYPE_CHECKING:
    from integrations.models import Connection

#: How many items `fetch_all` collects when no `max_items` is given.
DEFAULT_MAX_ITEMS = 1000


@dataclass
class ActionResult:
    """The outcome of one action: the output schema's `{successful, error, data}` plus telemetry.

    `invalid_input` is set when nothing was sent because the input did not validate.
    """

    successful: bool
    error: str | None
    data: Any
    http_status: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    invalid_input: InvalidInput | None = None
    retryable: bool = False

    def output(self) -> dict[str, Any]:
        """Return what the action's output schema describes (what later steps map from)."""
        return {"successful": self.successful, "error": self.error, "data": self.data}


def tier_of(action: Action) -> Tier:
    """Return the action's own limits as a rate-limit tier (the spec's numbers, not the name's)."""
    limit = action.rate_limit
    return Tier(limit.tier, limit.burst, limit.steady, limit.daily)


def run_action(
    target: Connection | KlaviyoClient,
    key: str | Action,
    params: dict[str, Any],
    *,
    fetch_all: bool = False,
    max_items: int | None = None,
    block_on_rate_limit: bool = True,
) -> ActionResult:
    """Run the action `key` with `params` for a connection (or a ready client).

    Never raises for Klaviyo's or the input's faults: they come back as `successful=False` with
    an actionable `error`. `fetch_all` follows `links.next` on list actions, up to `max_items`;
    list actions also take both as input fields.
    """
    try:
        action = key if isinstance(key, Action) else get_action(key)
    except UnknownAction as error:
        return ActionResult(False, str(error), None)
    if isinstance(target, KlaviyoClient):
        client = target
    else:
        unusable = _unusable(target)
        if unusable:
            return ActionResult(False, unusable, None)
        try:
            client = _client_for(target)
        except Exception as error:  # noqa: BLE001 - e.g. a refused token refresh
            return ActionResult(
                False, f"The connection “{target.name}” cannot be used: {error}", None
            )
    tier = tier_of(action)
    attempts: list[Attempt] = []
    status: list[int] = []

    def send(request: KlaviyoRequest) -> Any:
        response = client.send_request(request, tier=tier, block_on_rate_limit=block_on_rate_limit)
        attempts.extend(response.attempts)
        status.append(response.status)
        return response.data

    fetch_all = bool(params.get("fetch_all", fetch_all))
    max_items = params.get("max_items", max_items)
    try:
        data = execute(action, params, send)
        if fetch_all and action.paginates and isinstance(data, dict):
            data = _follow_pages(
                client,
                data,
                send_tier=tier,
                attempts=attempts,
                limit=max_items,
                block_on_rate_limit=block_on_rate_limit,
            )
    except InvalidInput as error:
        return ActionResult(False, error.message, None, invalid_input=error)
    except KlaviyoError as error:
        attempts.extend(a for a in error.attempts if a not in attempts)
        _touch(target, attempts)
        return ActionResult(
            False,
            error.message,
            None,
            http_status=error.status,
            attempts=attempts,
            retryable=error.retryable,
        )
    _touch(target, attempts)
    last_status = status[-1] if status else None
    return ActionResult(True, None, data, http_status=last_status, attempts=attempts)


def _touch(target: Connection | KlaviyoClient, attempts: list[Attempt]) -> None:
    """Record the connection as used when a request actually went out."""
    if attempts and not isinstance(target, KlaviyoClient):
        from integrations.services import connection_touch

        connection_touch(connection=target)


def _unusable(connection: Connection) -> str | None:
    """Say why a connection cannot make calls now, or return None when it can."""
    if connection.status == connection.Status.REVOKED:
        return (
            f"The connection “{connection.name}” was disconnected; choose another connection "
            "or add this Klaviyo account again."
        )
    if connection.status == connection.Status.NEEDS_RECONNECT:
        reason = f" ({connection.status_message})" if connection.status_message else ""
        return f"The connection “{connection.name}” needs to be reconnected{reason}."
    return None


def _client_for(connection: Connection) -> KlaviyoClient:
    from integrations.access import client_for

    return client_for(connection)


def _follow_pages(
    client: KlaviyoClient,
    first: dict[str, Any],
    *,
    send_tier: Tier,
    attempts: list[Attempt],
    limit: int | None,
    block_on_rate_limit: bool,
) -> dict[str, Any]:
    """Append the `data` (and `included`) of the following pages to the first page's document.

    Stop once `limit` items are collected. When the cap cuts a page short, `links.next` points
    at that page again (its `self` link) and `meta.truncated` is true, so the items beyond the
    cap are never silently skipped by a caller who continues.
    """
    limit = limit or DEFAULT_MAX_ITEMS
    document = dict(first)
    items = list(document.get("data") or [])
    included = list(document.get("included") or [])
    page_link = (document.get("links") or {}).get("self")
    next_url = next_link(document)
    while next_url and len(items) < limit:
        response = client.send(
            "GET", next_url, tier=send_tier, block_on_rate_limit=block_on_rate_limit
        )
        attempts.extend(response.attempts)
        page = response.data or {}
        page_link = next_url
        items.extend(page.get("data") or [])
        included.extend(page.get("included") or [])
        next_url = next_link(page)
    truncated = len(items) > limit
    document["data"] = items[:limit]
    if included:
        document["included"] = included
    document["links"] = {
        **(document.get("links") or {}),
        "next": page_link if truncated else next_url,
    }
    document["meta"] = {**(document.get("meta") or {}), "truncated": truncated}
    return document
