"""Arm and disarm a workflow's trigger, and start the runs its events bring.

A workflow's trigger is armed exactly while the workflow is enabled, published, and its
published trigger is one that starts runs by itself (not the manual one); `trigger_sync` makes it
so after every enable, disable, publish and delete. Each type's own arming (a beat entry, a
Klaviyo webhook, a poll cursor) lives in its module, registered in `ARMERS`.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from builder.engine.definition import parse_definition
from builder.engine.triggers import WEBHOOK, Trigger
from builder.models import Run, TriggerEvent, TriggerState, Workflow, WorkflowVersion
from builder.models.triggers import new_token
from builder.services.runs import PayloadInvalid, run_start

logger = logging.getLogger("builder.triggers")


class TriggerArmError(Exception):
    """The trigger could not be armed; the message says why and what to do."""


class Armer(Protocol):
    def arm(self, state: TriggerState, trigger: Trigger) -> None: ...

    def disarm(self, state: TriggerState) -> None: ...


#: Each armable type's arming, by type (filled by the type modules at import: `register`).
ARMERS: dict[str, Armer] = {}


def register(kind: str, armer: Armer) -> None:
    ARMERS[kind] = armer


_triggers: dict[tuple[int, Any], Trigger] = {}


def published_trigger(workflow: Workflow) -> Trigger | None:
    """The trigger of the workflow's published version, or None before the first publish.

    Versions never change, so each one's trigger is read once per process (a webhook's
    deliveries then cost no parse and no load of the version's whole definition). Keyed by id
    and publishing time, so a reused id (a restored database) is read anew.
    """
    version_id = workflow.published_version_id
    if version_id is None:
        return None
    versions = WorkflowVersion.objects.filter(pk=version_id)
    key = (version_id, versions.values_list("published_at", flat=True).first())
    if key not in _triggers:
        if len(_triggers) >= 1024:
            _triggers.clear()
        definition = versions.values_list("definition", flat=True).first() or {}
        _triggers[key] = parse_definition(definition)[0].trigger
    return _triggers[key]


def state_of(workflow: Workflow) -> TriggerState:
    state, _ = TriggerState.objects.get_or_create(workflow=workflow)
    return state


@dataclass
class Synced:
    state: TriggerState
    #: A webhook signing secret made by this arming: shown once, never again.
    new_secret: str | None = None


def _disarm(state: TriggerState) -> None:
    armer = ARMERS.get(state.type)
    if state.armed and armer is not None:
        try:
            armer.disarm(state)
        except TriggerArmError as error:
            state.last_error = str(error)
    state.armed = False
    state.armed_at = None


def trigger_sync(*, workflow: Workflow, make_secret: bool = True) -> Synced:
    """Arm or disarm the workflow's trigger to match its enabled flag and published version.

    A signed webhook's secret is made by the first sync that may show it (`make_secret`: an
    enable, not a publish); until then its URL refuses every delivery. Raise TriggerArmError
    when arming fails (the trigger stays off and says why).
    """
    with transaction.atomic():
        Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
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
            state.type = wanted.type
        elif trigger is not None:
            state.type = trigger.type
        state.save()
    if refused is not None:
        raise refused
    return synced


def trigger_disarm_all(*, workflow: Workflow) -> None:
    """Disarm before the workflow is deleted (a Klaviyo webhook is removed, a schedule stops)."""
    state = TriggerState.objects.filter(workflow=workflow).first()
    if state is not None and state.armed:
        _disarm(state)
        state.save()


def webhook_regenerate(*, workflow: Workflow) -> tuple[TriggerState, str | None]:
    """Give the workflow a new webhook URL (and signing secret): the old ones stop working."""
    trigger = published_trigger(workflow) or parse_definition(workflow.definition)[0].trigger
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
    return state, secret


def webhook_url(state: TriggerState) -> str:
    """The inbound webhook's URL, as senders outside reach the app (SITE_URL)."""
    return settings.SITE_URL.rstrip("/") + reverse("webhook_inbound", args=[state.token])


def signature_matches(secret: str, body: bytes, signature: str, suffix: bytes = b"") -> bool:
    """Compare a hex HMAC-SHA256 of `body + suffix` with `signature`, in constant time."""
    expected = hmac.new(secret.encode(), body + suffix, "sha256").hexdigest()
    return hmac.compare_digest(
        expected.encode(), signature.strip().lower().encode("ascii", "replace")
    )


# --- Runs from events ---------------------------------------------------------------------------


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
                event = TriggerEvent.objects.create(
                    workflow=workflow, kind=kind, external_id=external_id[:200]
                )
                run = run_start(
                    workflow=workflow, payload=payload, trigger=trigger_kind, version=version
                )
                event.run = run
                event.save(update_fields=["run"])
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


def event_record(
    *, workflow: Workflow, kind: str, accepted: bool, detail: str, run: Run | None = None
) -> None:
    """Note a delivery, fire or poll in the trigger's recent events (the card shows them)."""
    TriggerEvent.objects.create(
        workflow=workflow, kind=kind, accepted=accepted, detail=detail[:500], run=run
    )
    TriggerState.objects.filter(workflow=workflow).update(
        last_event_at=timezone.now(), **({} if accepted else {"last_error": detail[:2000]})
    )


def trigger_json(workflow: Workflow) -> dict[str, Any]:
    """The trigger's state for the API: type, armed, URL, last event, last error."""
    trigger = published_trigger(workflow) or parse_definition(workflow.definition)[0].trigger
    state = TriggerState.objects.filter(workflow=workflow).first()
    found: dict[str, Any] = {
        "type": trigger.type,
        "armed": bool(state and state.armed),
        "armed_at": state.armed_at.isoformat() if state and state.armed_at else None,
        "last_event_at": state.last_event_at.isoformat() if state and state.last_event_at else None,
        "last_error": (state.last_error or None) if state else None,
    }
    if trigger.type == WEBHOOK:
        found["url"] = webhook_url(state_of(workflow))
        found["signing"] = trigger.settings.get("signing", "hmac-sha256")
    return found


class _Inbound:
    """An inbound webhook is armed by being enabled: its URL (token) exists from the start."""

    def arm(self, state: TriggerState, trigger: Trigger) -> None:
        return None

    def disarm(self, state: TriggerState) -> None:
        return None


register(WEBHOOK, _Inbound())
