"""Run one catalog action with a Klaviyo client and describe the outcome: `run_action`.

This is the single entry point the workflow engine, the `run_action` command and the tests use
(through `connection_run_action` when a stored connection is involved): it validates the input
(no HTTP call on invalid input), sends the request(s) through the HTTP client with each
request's own rate limits, follows pages when asked, and keeps every failure as the typed
`KlaviyoError` it was, with a sentence a marketer can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import Action, InvalidInput, KlaviyoRequest, UnknownAction, execute, get_action
from .client import Attempt, KlaviyoClient
from .errors import KlaviyoError
from .pagination import follow_pages
from .ratelimit import Tier

#: How many items `fetch_all` collects when no `max_items` is given.
DEFAULT_MAX_ITEMS = 1000


@dataclass
class ActionResult:
    """The outcome of one action: the output schema's `{successful, error, data}` plus telemetry.

    On failure exactly one of `failure` (what Klaviyo or the network did, typed: `status`,
    `code`, `retry_after`, `retryable`, `reached`, `duplicate_profile_id` on a 409) and
    `invalid_input` (nothing was sent) is set, or neither for an unknown action key.
    """

    successful: bool
    error: str | None
    data: Any
    http_status: int | None = None
    attempts: list[Attempt] = field(default_factory=list)
    invalid_input: InvalidInput | None = None
    failure: KlaviyoError | None = None

    @property
    def retryable(self) -> bool:
        """Tell whether the same request may succeed later (a 429, a 5xx, no answer)."""
        return self.failure is not None and self.failure.retryable

    def output(self) -> dict[str, Any]:
        """Return what the action's output schema describes (what later steps map from)."""
        return {"successful": self.successful, "error": self.error, "data": self.data}

    @classmethod
    def failed(
        cls,
        error: KlaviyoError,
        attempts: list[Attempt] | None = None,
        *,
        message: str | None = None,
    ) -> ActionResult:
        """Return the result of a call that failed with `error` (after `attempts`)."""
        return cls(
            False,
            message or error.message,
            None,
            http_status=error.status,
            attempts=attempts if attempts is not None else list(error.attempts),
            failure=error,
        )


def tier_for(action: Action, request: KlaviyoRequest) -> Tier:
    """Return the rate-limit tier a request draws on: its action's own limits for its query.

    A request built for another action (a composite's lookups) uses that action's limits, and
    costly query values (`additional-fields[list]=profile_count`) their stricter ones.
    """
    if request.action_key and request.action_key != action.key:
        action = get_action(request.action_key)
    limit = action.rate_limit.for_query(request.query)
    return Tier(limit.tier, limit.burst, limit.steady, limit.daily)


def run_action(
    client: KlaviyoClient,
    key: str | Action,
    params: dict[str, Any],
    *,
    fetch_all: bool = False,
    max_items: int | None = None,
    block_on_rate_limit: bool = True,
) -> ActionResult:
    """Run the action `key` with `params` through `client`.

    Never raises for Klaviyo's or the input's faults: they come back as `successful=False` with
    an actionable `error`. `fetch_all` follows `links.next` on list actions, up to `max_items`;
    list actions also take both as input fields.
    """
    try:
        action = key if isinstance(key, Action) else get_action(key)
    except UnknownAction as error:
        return ActionResult(False, str(error), None)
    attempts: list[Attempt] = []
    status: list[int] = []
    last_tier: list[Tier] = []

    def send(request: KlaviyoRequest) -> Any:
        tier = tier_for(action, request)
        last_tier[:] = [tier]
        response = client.send_request(request, tier=tier, block_on_rate_limit=block_on_rate_limit)
        attempts.extend(response.attempts)
        status.append(response.status)
        return response.data

    def get_page(url: str) -> Any:
        response = client.send(
            "GET", url, tier=last_tier[0], block_on_rate_limit=block_on_rate_limit
        )
        attempts.extend(response.attempts)
        return response.data

    fetch_all = bool(params.get("fetch_all", fetch_all))
    max_items = params.get("max_items", max_items)
    try:
        data = execute(action, params, send)
        if fetch_all and action.paginates and isinstance(data, dict):
            data = follow_pages(get_page, data, limit=max_items or DEFAULT_MAX_ITEMS)
    except InvalidInput as error:
        return ActionResult(False, error.message, None, invalid_input=error)
    except KlaviyoError as error:
        attempts.extend(a for a in error.attempts if a not in attempts)
        return ActionResult.failed(error, attempts)
    last_status = status[-1] if status else None
    return ActionResult(True, None, data, http_status=last_status, attempts=attempts)
