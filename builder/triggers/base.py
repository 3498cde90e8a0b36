"""What every trigger type shares: its error, the published trigger, signatures, and turning
items (webhook deliveries, polled events, schedule fires) into queued runs, each exactly once.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from builder.engine.definition import parse_definition
from builder.engine.triggers import Trigger
from builder.models import Run, TriggerEvent, TriggerState, Workflow, WorkflowVersion
from builder.services.runs import PayloadInvalid, run_start
from integrations.models import Connection

logger = logging.getLogger("builder.triggers")


class TriggerArmError(Exception):
    """The trigger could not be armed; the message says why and what to do."""


_triggers: dict[tuple[int, Any], Trigger] = {}


def published_trigger(workflow: Workflow, published_at: datetime | None = None) -> Trigger | None:
    """The trigger of the workflow's published version, or None before the first publish.

    Versions never change, so each one's trigger is read once per process (a webhook's
    deliveries then cost no parse and no load of the version's whole definition). Keyed by id
    and publishing time, so a reused id (a restored database) is read anew; a caller that read
    the version's `published_at` with the workflow passes it and saves a query.
    """
    version_id = workflow.published_version_id
    if version_id is None:
        return None
    if published_at is None:
        versions = WorkflowVersion.objects.filter(pk=version_id)
        published_at = versions.values_list("published_at", flat=True).first()
    key = (version_id, published_at)
    found = _triggers.get(key)  # other threads may clear the cache meanwhile: read it once
    if found is None:
        if len(_triggers) >= 1024:
            _triggers.clear()
        versions = WorkflowVersion.objects.filter(pk=version_id)
        definition = versions.values_list("definition", flat=True).first() or {}
        found = _triggers[key] = parse_definition(definition)[0].trigger
    return found


def state_of(workflow: Workflow) -> TriggerState:
    state, _ = TriggerState.objects.get_or_create(workflow=workflow)
    return state


#: What a webhook URL's token is made of (`new_token`: URL-safe base64).
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: (token, type) -> (when read, the armed state with its workflow and version time).
_armed: dict[tuple[str, str], tuple[float, TriggerState | None]] = {}
#: How long a URL's armed state is reused: a burst of deliveries reads it once a second. An
#: enable, disable or new URL in this process is seen at once (`forget_armed`), in another
#: web process within this time.
ARMED_TTL = 1.0


def armed_state(token: str, kind: str) -> TriggerState | None:
    """The armed trigger of an enabled workflow with this URL token, with its version's time."""
    if not TOKEN.fullmatch(token):
        return None  # no URL has it (and a NUL would not even reach PostgreSQL)
    key = (token, kind)
    now = time.monotonic()
    found = _armed.get(key)
    if found is not None and now - found[0] < ARMED_TTL:
        return found[1]
    state = (
        TriggerState.objects.select_related("workflow")
        .annotate(published_at=F("workflow__published_version__published_at"))
        .filter(token=key[0], armed=True, type=kind, workflow__enabled=True)
        .first()
    )
    if len(_armed) >= 4096:
        _armed.clear()
    _armed[key] = (now, state)
    return state


def forget_armed() -> None:
    """Drop the armed states read so far (a trigger was armed, disarmed or given a new URL)."""
    _armed.clear()
    _delivered.clear()


#: When each trigger's last accepted delivery was written down (by this process).
_delivered: dict[int, datetime] = {}
#: How stale the trigger's `last_event_at` may get during a burst of deliveries.
DELIVERED_GRAIN = timedelta(seconds=1)


def note_delivered(state: TriggerState, at: datetime) -> None:
    """Note an accepted delivery on the trigger (last time, last error cleared): once a second
    at most during a burst, and always the first after a refusal."""
    last = _delivered.get(state.pk)
    if last is None or at - last > DELIVERED_GRAIN:
        _delivered[state.pk] = at
        TriggerState.objects.filter(pk=state.pk).update(
            last_event_at=at, last_found=1, last_error=""
        )


def note_refused(state: TriggerState) -> None:
    """A delivery was refused: the next accepted one clears the error at once."""
    _delivered.pop(state.pk, None)


_versions: dict[tuple[int, Any], WorkflowVersion] = {}


def published_version(workflow: Workflow, published_at: datetime | None) -> WorkflowVersion | None:
    """The workflow's published version without its definition, read once per process."""
    key = (workflow.published_version_id, published_at)
    if key[0] is None:
        return None
    found = _versions.get(key)
    if found is None:
        if len(_versions) >= 1024:
            _versions.clear()
        found = _versions[key] = WorkflowVersion.objects.defer("definition").get(pk=key[0])
    return found


def connection_named(workspace: Any, name: str | None) -> Connection | None:
    """The workspace's connection called `name`, as steps and the validator pick it, or None."""
    if not name:
        return None
    return (
        Connection.objects.for_workspace(workspace)
        .filter(name=name)
        .exclude(status=Connection.Status.REVOKED)
        .order_by("pk")
        .first()
    )


def connection_of(workflow: Workflow, trigger: Trigger) -> Connection:
    """The workspace's connection the trigger names; TriggerArmError when there is none."""
    name = trigger.connection or ""
    connection = connection_named(workflow.workspace_id, name)
    if connection is None:
        raise TriggerArmError(
            f"This workspace has no connection named “{name}”: choose one on the trigger card."
        )
    reason = connection.unusable_reason()
    if reason:
        raise TriggerArmError(f"The connection “{name}” cannot be used: {reason}")
    return connection


def signature_matches(secret: str, body: bytes, signature: str, suffix: bytes = b"") -> bool:
    """Compare a hex HMAC-SHA256 of `body + suffix` with `signature`, in constant time."""
    expected = hmac.new(secret.encode(), body + suffix, "sha256").hexdigest()
    return hmac.compare_digest(
        expected.encode(), signature.strip().lower().encode("ascii", "replace")
    )


@dataclass
class Started:
    runs: list[Run]
    duplicates: int = 0
    refused: int = 0


def runs_from_items(
    *,
    workflow: Workflow,
    items: Iterable[tuple[str, Any]],
    trigger_kind: str,
    kind: str = TriggerEvent.Kind.ITEM,
    detail: str = "",
    on_refused: Callable[[str, PayloadInvalid], None] | None = None,
) -> Started:
    """Start one run per (external id, trigger data), skipping ids seen before; in order.

    Each item is its own transaction with its event row, so a redelivery (or a poll that sees
    an item again) starts nothing twice, and a crash between items loses none already taken.
    """
    started = Started([])
    version = workflow.published_version
    for external_id, payload in items:
        try:
            with transaction.atomic():
                run = run_start(
                    workflow=workflow, payload=payload, trigger=trigger_kind, version=version,
                    burst=True,
                )  # fmt: skip
                # A repeated id fails here and takes its run back with it.
                TriggerEvent.objects.create(
                    workflow=workflow, kind=kind, external_id=external_id[:200],
                    detail=detail or external_id[:500], run=run,
                )  # fmt: skip
        except IntegrityError:
            started.duplicates += 1
            continue
        except PayloadInvalid as invalid:
            started.refused += 1
            if on_refused is not None:
                on_refused(external_id, invalid)
            continue
        started.runs.append(run)
    return started


def refused_item(workflow: Workflow) -> Callable[[str, PayloadInvalid], None]:
    """Note an item that could not become a run (its data cannot be stored) in the activity."""

    def note(external_id: str, invalid: PayloadInvalid) -> None:
        event_record(
            workflow=workflow, kind=TriggerEvent.Kind.ITEM, accepted=False,
            detail=f"{external_id}: not started, its data cannot be stored: {invalid}",
        )  # fmt: skip

    return note


def event_record(
    *, workflow: Workflow, kind: str, accepted: bool, detail: str, run: Run | None = None
) -> None:
    """Note a delivery, fire or poll in the trigger's recent events (the card shows them)."""
    TriggerEvent.objects.create(
        workflow=workflow, kind=kind, accepted=accepted, detail=detail[:500], run=run
    )
    TriggerState.objects.filter(workflow=workflow).update(
        last_event_at=timezone.now(), last_error="" if accepted else detail[:2000]
    )
