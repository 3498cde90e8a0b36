"""Schedules: a cron expression or an interval, in a time zone, fired by the beat's tick.

An armed schedule keeps its next slot in `TriggerState.due_at`. Every TRIGGER_TICK_SECONDS the
beat's `triggers_due` task takes the due states (`due_fire`): each is claimed by a conditional
UPDATE that moves `due_at` on to the first slot after now, so two beats never fire one slot
twice, and a system that was down for several slots fires once on return (for the latest one
missed), not once per slot. The fire's external id is its slot, so a slot runs once at most.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from builder.engine.triggers import Trigger, next_times
from builder.models import Run, TriggerEvent, TriggerState
from builder.triggers.base import published_trigger, runs_from_items

#: How many missed slots are walked to find the latest one (beyond that, the walk jumps).
MAX_WALK = 10_000


def slots_between(trigger: Trigger, due: datetime, now: datetime) -> tuple[datetime, int, datetime]:
    """Return (the latest slot at or before `now`, how many slots were due, the next slot).

    `due` is the first slot not yet fired (at or before `now`).
    """
    if "cron" not in trigger.settings:
        every = timedelta(minutes=trigger.settings.get("every_minutes") or 1)
        missed = int((now - due) // every)
        latest = due + every * missed
        return latest, missed + 1, latest + every
    latest, count = due, 1
    upcoming = next_times(trigger, due, count=1)[0]
    while upcoming <= now and count < MAX_WALK:
        latest, count = upcoming, count + 1
        upcoming = next_times(trigger, upcoming, count=1)[0]
    if upcoming <= now:  # down for longer than MAX_WALK slots: start again from now
        upcoming = next_times(trigger, now, count=1)[0]
    return latest, count, upcoming


class ScheduleArmer:
    """Arming sets the first slot after now; a new version's schedule starts from now too."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None:
        state.due_at = next_times(trigger, timezone.now(), count=1)[0]

    def disarm(self, state: TriggerState) -> None:
        state.due_at = None


def due_fire(state: TriggerState, now: datetime | None = None) -> int:
    """Fire a due schedule once (claiming its slot); return the number of runs started (0/1)."""
    now = now or timezone.now()
    workflow = state.workflow
    trigger = published_trigger(workflow)
    if trigger is None or trigger.type != "schedule" or state.due_at is None:
        return 0
    latest, due_count, upcoming = slots_between(trigger, state.due_at, now)
    with transaction.atomic():  # the slot is claimed with its run, or not at all
        claimed = TriggerState.objects.filter(pk=state.pk, armed=True, due_at=state.due_at)
        if not claimed.update(due_at=upcoming):
            return 0  # another beat took it
        return _fire(state, trigger, latest, due_count, now)


def _fire(
    state: TriggerState, trigger: Trigger, latest: datetime, due_count: int, now: datetime
) -> int:
    workflow = state.workflow
    zone = trigger.settings.get("timezone") or "UTC"
    payload = {"scheduled_at": latest.astimezone(ZoneInfo(zone)).isoformat(), "timezone": zone}
    detail = f"Fired for {payload['scheduled_at']}" + (
        f"; {due_count - 1} earlier slot(s) missed while stopped ran once" if due_count > 1 else ""
    )
    started = runs_from_items(
        workflow=workflow,
        items=[(f"slot:{latest.astimezone(ZoneInfo('UTC')).isoformat()}", payload)],
        trigger_kind=Run.Trigger.SCHEDULE,
        kind=TriggerEvent.Kind.FIRE,
        detail=detail,
    )
    TriggerState.objects.filter(pk=state.pk).update(
        last_event_at=now, last_found=len(started.runs), last_error=""
    )
    return len(started.runs)
