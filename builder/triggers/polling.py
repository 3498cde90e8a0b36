"""Klaviyo polling: new events of a metric, profiles added to a list or segment, new profiles.

Arming finds the metric, list or segment (by id or by name) and starts the cursor at now, so
what happened before the enable does not flood in. Each poll asks for what is at or after the
cursor, oldest first, through every page, up to TRIGGER_POLL_MAX_ITEMS items: one run per item
not seen before (an item's id is its TriggerEvent's external id, so overlapping polls start
nothing twice), the cursor moved to the newest item taken. When the cap cut the answer short,
the next poll comes at once and goes on from Klaviyo's page cursor, so a burst within one
second (Klaviyo's times have no finer grain) is taken whole, however large. Polls take tokens
from the connection's shared rate-limit buckets without waiting: when the workflows' own steps
have used them up, the round is skipped (and noted) rather than making those steps wait.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.utils import timezone

from builder.engine.triggers import KLAVIYO_POLL, POLL_SOURCES, Trigger
from builder.models import Run, TriggerEvent, TriggerState
from builder.triggers.base import (
    TriggerArmError,
    connection_of,
    event_record,
    published_trigger,
    refused_item,
    runs_from_items,
)
from integrations.klaviyo.catalog import get_action
from integrations.models import Connection
from integrations.services import connection_run_action


@dataclass(frozen=True)
class Source:
    #: The catalog action that lists the items, and the attribute its cursor follows.
    action: str
    time_field: str
    #: The input naming the list or segment (None: the filter names the metric, or nothing).
    target_param: str | None
    #: (target, cursor time, "greater-or-equal" or "greater-than") -> Klaviyo filter.
    filter: Callable[[str | None, str, str], str]
    #: How an item's id becomes a TriggerEvent external id (once per id across polls).
    external_id: Callable[[dict[str, Any]], str]
    #: The action listing the targets to find one by name (metric, list, segment).
    lookup: str | None = None


def _time(item: dict[str, Any], field: str) -> str:
    return str((item.get("attributes") or {}).get(field) or "")


def _metric_filter(target: str | None, after: str, op: str) -> str:
    return f'and(equals(metric_id,"{target}"),{op}(datetime,{after}))'


def _joined_filter(target: str | None, after: str, op: str) -> str:
    return f"{op}(joined_group_at,{after})"


def _created_filter(target: str | None, after: str, op: str) -> str:
    # `created` takes greater-than only: from the second before, to keep the cursor's own.
    if op == "greater-than":
        return f"greater-than(created,{after})"
    before = datetime.fromisoformat(after) - timedelta(seconds=1)
    return f"greater-than(created,{_stamp(before)})"


def _event_id(item: dict[str, Any]) -> str:
    return f"event:{item.get('id')}"


def _member_id(item: dict[str, Any]) -> str:
    # A profile that leaves and joins again starts a new run: its join time is part of the id.
    return f"member:{item.get('id')}:{_time(item, 'joined_group_at')}"


def _profile_id(item: dict[str, Any]) -> str:
    return f"profile:{item.get('id')}"


SOURCES: dict[str, Source] = {
    "metric_event": Source(
        "KLAVIYO_GET_EVENTS", "datetime", None, _metric_filter, _event_id, "KLAVIYO_GET_METRICS"
    ),
    "list_member": Source(
        "KLAVIYO_GET_LIST_PROFILES", "joined_group_at", "list_id", _joined_filter, _member_id,
        "KLAVIYO_GET_LISTS",
    ),
    "segment_member": Source(
        "KLAVIYO_GET_SEGMENT_PROFILES", "joined_group_at", "segment_id", _joined_filter,
        _member_id, "KLAVIYO_GET_SEGMENTS",
    ),
    "new_profile": Source("KLAVIYO_GET_PROFILES", "created", None, _created_filter, _profile_id),
}  # fmt: skip


def page_cursor(link: Any) -> str | None:
    """The `page[cursor]` of a `links.next` URL (None on the last page)."""
    if not isinstance(link, str) or not link:
        return None
    values = parse_qs(urlsplit(link).query).get("page[cursor]")
    return values[0] if values else None


def _page_size(action: str) -> int:
    """The largest page the action's input schema allows (Klaviyo's own maximum)."""
    schema = get_action(action).input_schema.get("properties", {}).get("page_size", {})
    return int(schema.get("maximum") or 100)


#: How long after its second the cursor's own second may still get new items (created in
#: the same second, just after the last poll). Until then a poll asks from that second on and
#: re-reads it (its items start nothing twice); after, it asks for what is strictly later.
SETTLED = timedelta(seconds=60)


def _operator(after: str, now: datetime) -> str:
    try:
        settled = now - datetime.fromisoformat(after) > SETTLED
    except ValueError:
        settled = False
    return "greater-than" if settled else "greater-or-equal"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def find_target(connection: Connection, source: str, value: str) -> str | None:
    """Return the id of the metric, list or segment called `value` (or with that id)."""
    spec = SOURCES[source]
    if spec.lookup is None:
        return None
    result = connection_run_action(
        connection=connection, key=spec.lookup, params={}, fetch_all=True, max_items=5000
    )
    if not result.successful:
        raise TriggerArmError(
            f"Klaviyo did not list the {POLL_SOURCES[source][0]}s: {result.error}"
        )
    wanted = value.strip()
    items = (result.data or {}).get("data") or []
    for item in items:
        if item.get("id") == wanted:
            return wanted
    for item in items:
        if str((item.get("attributes") or {}).get("name") or "").casefold() == wanted.casefold():
            return str(item.get("id"))
    noun = POLL_SOURCES[source][0]
    raise TriggerArmError(
        f"This Klaviyo account has no {noun} “{wanted}” (by id or name): check the trigger card."
    )


def _key(connection: Connection, trigger: Trigger) -> list[Any]:
    source = trigger.settings.get("source")
    target = trigger.settings.get(POLL_SOURCES.get(source, (None,))[0] or "", "")
    return [connection.pk, source, target]


class PollArmer:
    """Arming resolves the target and starts the cursor at now (kept when a new version polls
    the same thing); the first poll is one interval away."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None:
        connection = connection_of(state.workflow, trigger)
        key = _key(connection, trigger)
        now = timezone.now()
        if not (state.armed and state.cursor.get("key") == key):
            needs = POLL_SOURCES[trigger.settings["source"]][0]
            target = find_target(
                connection, trigger.settings["source"], trigger.settings.get(needs or "", "")
            )
            state.cursor = {"key": key, "target": target, "after": _stamp(now)}
        state.due_at = now + timedelta(minutes=trigger.settings["every_minutes"])

    def disarm(self, state: TriggerState) -> None:
        state.due_at = None
        state.cursor = {}


@dataclass
class Polled:
    found: int = 0
    started: int = 0
    duplicates: int = 0
    requests: int = 0
    more: bool = False
    skipped: str = ""
    error: str = ""


def poll(state: TriggerState, now: datetime | None = None) -> Polled:
    """Poll once for what is new since the cursor; start a run per new item; move the cursor."""
    now = now or timezone.now()
    workflow = state.workflow
    trigger = published_trigger(workflow)
    polled = Polled()
    if trigger is None or trigger.type != KLAVIYO_POLL or not state.armed:
        return polled
    every = timedelta(minutes=trigger.settings["every_minutes"])
    try:
        connection = connection_of(workflow, trigger)
    except TriggerArmError as error:
        polled.error = str(error)
        return _noted(state, polled, now + every)
    spec = SOURCES[trigger.settings["source"]]
    cap = max(1, settings.TRIGGER_POLL_MAX_ITEMS)
    after = state.cursor.get("after") or _stamp(now)
    # Going on through a cut answer's pages asks exactly what its first page asked.
    op = state.cursor.get("op") if state.cursor.get("page") else _operator(after, now)
    target = state.cursor.get("target")
    params: dict[str, Any] = {
        "filter": spec.filter(target, after, op),
        "sort": spec.time_field,
        "page_size": min(cap, settings.TRIGGER_POLL_PAGE_SIZE or 10**6, _page_size(spec.action)),
    }
    if spec.target_param:
        params[spec.target_param] = target
    if state.cursor.get("page"):
        params["page_cursor"] = state.cursor["page"]
    result = connection_run_action(
        connection=connection, key=spec.action, params=params, fetch_all=True,
        max_items=cap, block_on_rate_limit=False,
    )  # fmt: skip
    polled.requests = len(result.attempts)
    if not result.successful:
        limited = result.http_status == 429 or (
            result.failure is not None and result.failure.code == "rate_limited_locally"
        )
        if limited:
            polled.skipped = (
                "Skipped this poll: the connection's Klaviyo rate limit is in use by running "
                "steps; the next poll takes what is new."
            )
        else:
            polled.error = f"Klaviyo refused the poll: {result.error}"
            if state.cursor.get("page") and result.http_status and result.http_status < 500:
                # A page cursor Klaviyo no longer takes: start again from the time cursor.
                cursor = {k: v for k, v in state.cursor.items() if k not in ("page", "op")}
                TriggerState.objects.filter(pk=state.pk).update(cursor=cursor)
        return _noted(state, polled, now + every)
    document = result.data or {}
    items = sorted(
        (item for item in document.get("data") or [] if isinstance(item, dict)),
        key=lambda item: _time(item, spec.time_field),
    )
    next_page = page_cursor((document.get("links") or {}).get("next"))
    polled.more = next_page is not None
    started = runs_from_items(
        workflow=workflow,
        items=[(spec.external_id(item), {"data": item}) for item in items],
        trigger_kind=Run.Trigger.KLAVIYO_POLL,
        on_refused=refused_item(workflow),
    )
    polled.started, polled.duplicates = len(started.runs), started.duplicates
    polled.found = len(items) - started.duplicates
    if next_page is not None:
        # The same query goes on from the page the cap cut (items taken on it are seen again,
        # and start nothing): ties of one second, however many, are never skipped.
        cursor = {**state.cursor, "page": next_page, "op": op}
    else:
        newest = max((_time(item, spec.time_field) for item in items), default="")
        cursor = {k: v for k, v in state.cursor.items() if k not in ("page", "op")}
        cursor["after"] = max(newest, after)
    TriggerState.objects.filter(pk=state.pk).update(cursor=cursor)
    state.cursor = cursor
    # The cap cut it short: take the rest at the next tick, not one interval later.
    return _noted(state, polled, now if polled.more else now + every)


def _noted(state: TriggerState, polled: Polled, due: datetime) -> Polled:
    if polled.error:
        detail, accepted = polled.error, False
    elif polled.skipped:
        detail, accepted = polled.skipped, True
    else:
        detail = f"{polled.found} new: {polled.started} run(s) started"
        if polled.more:
            detail += "; more waiting, taken by the next poll"
        accepted = True
    event_record(
        workflow=state.workflow, kind=TriggerEvent.Kind.POLL, accepted=accepted, detail=detail
    )
    TriggerState.objects.filter(pk=state.pk, armed=True).update(
        due_at=due, last_found=polled.started, **({"last_error": ""} if accepted else {})
    )
    return polled
