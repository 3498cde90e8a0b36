"""Write-side functions for runs: start one, cancel one, and find orphaned ones (the sweeper)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from jsonschema import Draft202012Validator

from builder import strictjson
from builder.engine.definition import WorkflowProblem
from builder.models import Run, Workflow, WorkflowVersion
from builder.queue import run_execute_soon
from integrations.klaviyo.catalog.validation import FORMAT_CHECKER, errors_for


class NotPublished(Exception):
    """The workflow has no published version to run."""


class PayloadInvalid(Exception):
    """The trigger payload does not match the trigger's input schema; see `problems`."""

    def __init__(self, problems: list[WorkflowProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field or 'input'}: {p.message}" for p in problems))


def payload_problems(version: WorkflowVersion, payload: Any) -> list[WorkflowProblem]:
    """Check a trigger payload against the version's trigger input schema."""
    schema = (version.definition.get("trigger") or {}).get("input_schema") or {"type": "object"}
    if not isinstance(payload, dict):
        return [WorkflowProblem(None, "/input", "The input is an object of trigger fields.")]
    validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return [
        WorkflowProblem(None, "/input" + _pointer(path), message)
        for path, messages in errors_for(validator, payload).items()
        for message in messages
    ]


def _pointer(path: str) -> str:
    return "".join(
        f"/{part}" for part in path.replace("[", ".").replace("]", "").split(".") if part
    )


def run_start(
    *,
    workflow: Workflow,
    payload: Any,
    trigger: str = Run.Trigger.MANUAL,
    version: WorkflowVersion | None = None,
) -> Run:
    """Validate the payload, write a queued Run of the published version, enqueue it on commit.

    Raise NotPublished when there is no version, PayloadInvalid when the payload does not fit.
    """
    version = version or workflow.published_version
    if version is None:
        raise NotPublished("Publish the workflow before running it.")
    problems = payload_problems(version, payload)
    try:
        strictjson.check_document(payload)
    except strictjson.JsonRefused as refused:
        problems.append(WorkflowProblem(None, "/input" + refused.pointer, f"The {refused}."))
    if problems:
        raise PayloadInvalid(problems)
    with transaction.atomic():
        run = Run.objects.create(
            workspace_id=workflow.workspace_id,
            workflow=workflow,
            version=version,
            trigger_kind=trigger,
            trigger_payload=payload,
        )
        transaction.on_commit(lambda: run_execute_soon(run.pk))
    return run


def run_cancel(*, run: Run) -> Run:
    """Cancel a run: a queued or waiting one at once, a running one between its steps."""
    now = timezone.now()
    if run.status in (Run.Status.QUEUED, Run.Status.WAITING):
        Run.objects.filter(pk=run.pk, status=run.status, claim=run.claim).update(
            status=Run.Status.CANCELED, finished_at=now, error="Canceled.", wake_at=None
        )
    Run.objects.filter(pk=run.pk).exclude(status__in=Run.FINISHED).update(cancel_requested=True)
    run.refresh_from_db()
    return run


def runs_orphaned() -> list[int]:
    """Requeue runs whose worker vanished, and return every run id that needs a task again.

    A running run with a stale heartbeat lost its worker (a hard kill); a waiting run past its
    time, or a queued run that has not started for a while, lost its task message (the embedded
    broker drops in-flight messages on a hard kill). The claim makes any duplicate harmless.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.RUN_STALE_SECONDS)
    orphaned = list(
        Run.objects.filter(status=Run.Status.RUNNING, heartbeat_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    if orphaned:
        Run.objects.filter(
            pk__in=orphaned, status=Run.Status.RUNNING, heartbeat_at__lt=stale
        ).update(status=Run.Status.QUEUED, heartbeat_at=None)
    overdue = Run.objects.filter(status=Run.Status.WAITING, wake_at__lt=stale).values_list(
        "pk", flat=True
    )
    forgotten = Run.objects.filter(status=Run.Status.QUEUED, created_at__lt=stale).values_list(
        "pk", flat=True
    )
    return sorted({*orphaned, *overdue, *forgotten})
