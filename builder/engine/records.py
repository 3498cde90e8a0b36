"""Writing a run's steps: what a StepRun records as it starts, waits, settles or completes.

Shared by the executor and the step kinds it runs (Klaviyo actions, built-in steps).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from builder.engine import rows
from builder.engine.definition import Step
from builder.engine.redaction import redact
from builder.models import Run, StepAttempt, StepRun
from integrations.models import Connection

StepStatus = StepRun.Status


@dataclass
class Wait:
    """The run must wait: for what (words for the run page) and until when."""

    reason: str
    until: datetime


@dataclass
class Context:
    """What references resolve against while a run executes."""

    trigger: dict[str, Any]
    run: dict[str, Any]
    steps: dict[str, Any] = field(default_factory=dict)
    #: The run's connections by name, loaded (and decrypted) once per execution.
    connections: dict[str, Connection | None] = field(default_factory=dict)
    #: Set when the run is canceled: its requests stop between two tries.
    stop: threading.Event | None = None

    def values(self, item: Any = None, item_index: int | None = None) -> dict[str, Any]:
        values = {"trigger": self.trigger, "steps": self.steps, "run": self.run}
        if item_index is not None:
            values["item"] = item
            values["item_index"] = item_index
        return values


def ok(data: Any) -> dict[str, Any]:
    return {"successful": True, "error": None, "data": data}


def failed(message: str) -> dict[str, Any]:
    return {"successful": False, "error": message, "data": None}


def settle(
    run: Run, step: Step, item_index: int | None, status: str, output: Any, **fields: Any
) -> StepRun:
    """Write a step that ends without a request: failed before sending, or skipped."""
    now = timezone.now()
    record, _ = StepRun.objects.update_or_create(
        run=run,
        step_key=step.key,
        item_index=item_index,
        defaults={
            "position": step.position,
            "status": status,
            "output": output,
            "started_at": now,
            "finished_at": now,
            **fields,
        },
    )
    return record


def still_waiting(record: StepRun) -> Wait | None:
    until = record.state.get("until")
    if not until:
        return None
    moment = datetime.fromisoformat(until)
    if moment > timezone.now():
        return Wait(record.state.get("waiting_for", "waiting"), moment)
    return None


def start(
    run: Run, step: Step, item_index: int | None, params: Any, record: StepRun | None
) -> StepRun:
    """Write the StepRun as running before anything is sent."""
    now = timezone.now()
    if record is None:
        record = StepRun(
            run=run,
            step_key=step.key,
            position=step.position,
            item_index=item_index,
            status=StepStatus.RUNNING,
            input=redact(params),
            started_at=now,
        )
        rows.insert(record)
    else:
        record.status = StepStatus.RUNNING
        record.input = redact(params)
        record.started_at = record.started_at or now
        rows.update(record, ("status", "input", "started_at"))
    return record


def complete(
    record: StepRun,
    status: str,
    output: Any,
    error: str = "",
    *,
    attempts: Sequence[StepAttempt] = (),
) -> StepRun:
    """Write the step's outcome and its new HTTP `attempts` (the hot path of every step)."""
    record.status = status
    record.output = redact(output)
    record.error = redact(error)
    record.finished_at = timezone.now()
    rows.update(record, ("status", "output", "error", "finished_at", "state"), inserting=attempts)
    return record


def wait_step(record: StepRun, reason: str, seconds: float, **state: Any) -> Wait:
    until = timezone.now() + timedelta(seconds=max(seconds, 0.05))
    record.status = StepStatus.WAITING
    record.state = {**record.state, **state, "until": until.isoformat(), "waiting_for": reason}
    rows.update(record, ("status", "state"))
    return Wait(reason, until)
