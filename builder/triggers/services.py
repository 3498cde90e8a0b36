"""Arm and disarm a workflow's trigger, and start the runs its events bring.

A workflow's trigger is armed exactly while the workflow is enabled, published, and its
published trigger is one that starts runs by itself (not the manual one); `trigger_sync` makes it
so after every enable, disable, publish and delete. Each type's own arming (a schedule's next
slot, a Klaviyo webhook, a poll's cursor) lives in its module, listed in `ARMERS`; the beat's
tick (`triggers_due`) fires the due schedules and queues the due polls.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from builder.engine.definition import parse_definition
from builder.engine.triggers import KLAVIYO_POLL, KLAVIYO_WEBHOOK, SCHEDULE, WEBHOOK, Trigger
from builder.models import TriggerEvent, TriggerState, Workflow
from builder.models.triggers import new_token
from builder.queue import trigger_poll_soon
from builder.triggers.base import TriggerArmError, forget_armed, published_trigger, state_of
from builder.triggers.klaviyo import KlaviyoWebhookArmer, klaviyo_webhook_url
from builder.triggers.polling import PollArmer, Polled, poll
from builder.triggers.schedule import ScheduleArmer, due_fire

logger = logging.getLogger("builder.triggers")

__all__ = ["TriggerArmError", "published_trigger", "state_of", "trigger_json", "trigger_sync"]


class Armer(Protocol):
    """Arms one trigger type. `arm` is also called on an armed state when a new version is
    published (`state.armed` is then True): it keeps what still holds (a poll's cursor, a
    Klaviyo webhook with the same topics) and redoes the rest. Both may change `state` (the
    caller saves it) and raise TriggerArmError with a message a marketer can act on."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None: ...

    def disarm(self, state: TriggerState) -> None: ...


@dataclass
class Synced:
    state: TriggerState
    #: A webhook signing secret made by this arming: shown once, never again.
    new_secret: str | None = None
    #: A signed webhook armed without a secret yet (its deliveries are refused until one is made).
    secret_missing: bool = False


def _disarm(state: TriggerState) -> None:
    armer = ARMERS.get(state.type)
    if state.armed and armer is not None:
        try:
            armer.disarm(state)
        except TriggerArmError as error:
            state.last_error = str(error)
    state.armed = False
    state.armed_at = None


SYNCED_FIELDS = ["type", "armed", "armed_at", "secret", "external_id", "cursor", "due_at",
                 "last_error"]  # fmt: skip


def trigger_sync(*, workflow: Workflow, make_secret: bool = True) -> Synced:
    """Arm or disarm the workflow's trigger to match its enabled flag and published version.

    Re-arming follows a new version (new topics, a new schedule). A signed webhook's secret is
    made by the first sync that may show it (`make_secret`: an enable, not a publish); until
    then its URL refuses every delivery. Raise TriggerArmError when arming fails (the trigger
    stays off and says why). Arming may call Klaviyo, so it runs outside any transaction (the
    sandbox answering it writes to the same database); call it after the caller's commit.
    """
    state = state_of(workflow)
    trigger = published_trigger(workflow)
    wanted = trigger if workflow.enabled and trigger and trigger.armable else None
    synced = Synced(state)
    refused: TriggerArmError | None = None
    if state.armed and (wanted is None or wanted.type != state.type):
        _disarm(state)
    if wanted is not None:
        signed = wanted.type == WEBHOOK and wanted.settings.get("signing") != "none"
        if signed and make_secret and not state.secret.get("signing"):
            synced.new_secret = secrets.token_hex(32)
            state.secret = {**state.secret, "signing": synced.new_secret}
        synced.secret_missing = signed and not state.secret.get("signing")
        state.type = wanted.type
        armer = ARMERS.get(wanted.type)
        try:
            if armer is None:
                raise TriggerArmError(
                    f"{wanted.title} triggers cannot be armed by this version of Step "
                    "Builder yet; start runs with Run now or the API meanwhile."
                )
            armer.arm(state, wanted)
        except TriggerArmError as error:
            refused = error
            state.armed, state.armed_at, state.last_error = False, None, str(error)
        else:
            if not state.armed:
                state.armed_at = timezone.now()
            state.armed, state.last_error = True, ""
    elif trigger is not None:
        state.type = trigger.type
    # Not the token: a Regenerate URL meanwhile keeps its new one.
    state.save(update_fields=SYNCED_FIELDS)
    forget_armed()
    if refused is not None:
        raise refused
    return synced


def trigger_sync_after_commit(*, workflow: Workflow) -> None:
    """Re-sync once the caller's transaction commits (a publish); failures stay on the state."""

    def sync() -> None:
        with contextlib.suppress(TriggerArmError):
            trigger_sync(workflow=Workflow.objects.get(pk=workflow.pk), make_secret=False)

    transaction.on_commit(sync)


def trigger_disarm_all(*, workflow: Workflow) -> None:
    """Disarm as the workflow is deleted (a Klaviyo webhook is removed, a schedule stops).

    The state row goes with the workflow; what Klaviyo holds is removed after the commit.
    """
    state = TriggerState.objects.select_related("workflow").filter(workflow=workflow).first()
    if state is not None and state.armed:
        transaction.on_commit(lambda: _disarm(state))
        transaction.on_commit(forget_armed)


def webhook_regenerate(*, workflow: Workflow) -> tuple[TriggerState, str | None]:
    """Give the workflow a new webhook URL (and signing secret): the old ones stop working."""
    published = published_trigger(workflow)
    draft = parse_definition(workflow.definition)[0].trigger
    # The URL exists from the start: it can be renewed while the webhook is still a draft.
    trigger = published if published is not None and published.type == WEBHOOK else draft
    if trigger.type != WEBHOOK:
        raise TriggerArmError("This workflow's trigger is not an inbound webhook.")
    with transaction.atomic():
        state = state_of(workflow)
        state.token = new_token()
        secret = None
        if trigger.type == WEBHOOK and trigger.settings.get("signing") != "none":
            secret = secrets.token_hex(32)
            state.secret = {**state.secret, "signing": secret}
        state.save()
    forget_armed()
    return state, secret


def webhook_url(state: TriggerState) -> str:
    """The inbound webhook's URL, as senders outside reach the app (SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + reverse("webhook_inbound", args=[state.token])


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def trigger_json(workflow: Workflow) -> dict[str, Any]:
    """The trigger's state for the API: type, armed, URL, last event, what is next, last error.

    `last_event_at` is the last fire, poll or delivery; `next_at` a schedule's next fire or a
    poll's next round; `last_found` the runs the last fire, poll or delivery started.
    """
    trigger = published_trigger(workflow) or parse_definition(workflow.definition)[0].trigger
    state = TriggerState.objects.filter(workflow=workflow).first()
    armed = bool(state and state.armed)
    found: dict[str, Any] = {
        "type": trigger.type,
        "armed": armed,
        "armed_at": _iso(state.armed_at) if state else None,
        "last_event_at": _iso(state.last_event_at) if state else None,
        "last_found": state.last_found if state and state.last_event_at else None,
        "last_error": (state.last_error or None) if state else None,
    }
    if trigger.type in (SCHEDULE, KLAVIYO_POLL):
        found["next_at"] = _iso(state.due_at) if state and armed else None
    if trigger.type == WEBHOOK:
        found["url"] = webhook_url(state_of(workflow))
        found["signing"] = trigger.settings.get("signing", "hmac-sha256")
    if trigger.type == KLAVIYO_WEBHOOK:
        found["url"] = klaviyo_webhook_url(state_of(workflow))
        found["klaviyo_webhook_id"] = (state.external_id or None) if state else None
    return found


class _Inbound:
    """An inbound webhook is armed by being enabled: its URL (token) exists from the start."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None:
        return None

    def disarm(self, state: TriggerState) -> None:
        return None


#: Each armable type's arming.
ARMERS: dict[str, Armer] = {
    WEBHOOK: _Inbound(),
    SCHEDULE: ScheduleArmer(),
    KLAVIYO_WEBHOOK: KlaviyoWebhookArmer(),
    KLAVIYO_POLL: PollArmer(),
}

#: How long a queued poll holds its state before the tick may queue it again (a lost worker).
POLL_LEASE = timedelta(minutes=5)


def triggers_due(now: datetime | None = None, limit: int = 500) -> int:
    """Fire the due schedules and queue the due polls (the beat's tick); return how many."""
    now = now or timezone.now()
    due = list(
        TriggerState.objects.select_related("workflow")
        .filter(armed=True, due_at__lte=now, type__in=[SCHEDULE, KLAVIYO_POLL])
        .order_by("due_at")[:limit]
    )
    taken = 0
    for state in due:
        try:
            if state.type == SCHEDULE:
                taken += due_fire(state, now)
                continue
            claimed = TriggerState.objects.filter(pk=state.pk, armed=True, due_at=state.due_at)
            if claimed.update(due_at=now + POLL_LEASE):
                trigger_poll_soon(state.pk)
                taken += 1
        except Exception as error:  # noqa: BLE001 - one broken trigger must not stop the others
            logger.exception("The trigger of workflow %s could not be taken", state.workflow_id)
            TriggerState.objects.filter(pk=state.pk, due_at=state.due_at).update(
                due_at=now + POLL_LEASE, last_error=f"This trigger could not run: {error}"[:2000]
            )
    return taken


def trigger_poll(state_id: int) -> Polled | None:
    """Poll one armed Klaviyo polling trigger (the worker's task)."""
    state = TriggerState.objects.select_related("workflow").filter(pk=state_id).first()
    if state is None or not state.armed or not state.workflow.enabled:
        return None
    return poll(state)


def recent_events(workflow: Workflow, limit: int = 10) -> list[TriggerEvent]:
    """The trigger's latest deliveries, polls and fires (refusals with why), newest first."""
    return list(TriggerEvent.objects.filter(workflow=workflow).select_related("run")[:limit])
