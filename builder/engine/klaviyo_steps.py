"""Run a catalog action as a step: send it, record its HTTP attempts, wait for a Klaviyo job.

A rate-limited request waits (the run is called again later; no worker sleeps), a failure is
retried only as the step's `on_error` allows and only where a repeat is harmless.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings

from builder.engine import rows
from builder.engine.definition import Step
from builder.engine.jobs import DONE, FAILED, JOB_POLLS
from builder.engine.records import Context, Wait, complete, failed, wait_step
from builder.engine.redaction import redact
from builder.engine.safety import safe_to_repeat
from builder.models import Run, StepAttempt, StepRun
from integrations.klaviyo.actions import ActionResult
from integrations.klaviyo.errors import KlaviyoCanceled
from integrations.models import Connection
from integrations.services import connection_run_action

StepStatus = StepRun.Status


def _connection(run: Run, step: Step, context: Context) -> Connection | None:
    name = step.connection or ""
    if name not in context.connections:
        context.connections[name] = (
            Connection.objects.for_workspace(run.workspace_id)
            .filter(name=name)
            .exclude(status=Connection.Status.REVOKED)
            .order_by("pk")
            .first()
        )
    return context.connections[name]


def run_action_step(
    run: Run,
    record: StepRun,
    step: Step,
    params: dict[str, Any],
    context: Context,
    stop: threading.Event | None = None,
) -> tuple[StepRun, Wait | None]:
    """Send the step's request(s); `stop` set (the run canceled) ends it between tries."""
    connection = _connection(run, step, context)
    if connection is None:
        message = (
            f"There is no connection named “{step.connection}” in this workspace any more; "
            "choose another one in the step's settings."
        )
        return complete(record, StepStatus.FAILED, failed(message), message), None
    job_id = record.state.get("job_id")
    if job_id is not None:
        return _poll_job(record, step, connection, job_id)
    result = connection_run_action(
        connection=connection,
        key=step.action,
        params=params,
        block_on_rate_limit=False,
        stop=stop,
    )
    attempts = _attempts(record, result)
    if result.successful and not (step.await_job and step.action in JOB_POLLS):
        # The common case: the attempts and the outcome in one write.
        return complete(record, StepStatus.SUCCEEDED, result.output(), attempts=attempts), None
    # The attempts first, then the outcome: a worker dying between the two leaves the step
    # running with its attempts on record, which a later execution treats as in flight.
    rows.insert_many(attempts)
    if result.successful:
        return _start_job_wait(record, step, connection, result)
    return _failure(record, step, result)


def _attempts(record: StepRun, result: ActionResult) -> list[StepAttempt]:
    """Return the result's HTTP tries as rows to write, numbered on from the step's earlier ones."""
    start = record.state.get("attempts", 0)
    record.state["attempts"] = start + len(result.attempts)
    return [
        StepAttempt(
            step_run=record,
            number=start + index + 1,
            method=attempt.method,
            path=attempt.path[:500],
            http_status=attempt.status,
            duration_ms=attempt.duration_ms,
            rate_limit_wait_ms=attempt.rate_limit_wait_ms,
            request_id=attempt.request_id or "",
            error=redact(attempt.error or ""),
            started_at=attempt.started_at,
        )
        for index, attempt in enumerate(result.attempts)
    ]


def _failure(record: StepRun, step: Step, result: ActionResult) -> tuple[StepRun, Wait | None]:
    failure = result.failure
    if isinstance(failure, KlaviyoCanceled):
        return complete(record, StepStatus.CANCELED, result.output(), "Canceled."), None
    if failure is not None and failure.status in (429, None) and failure.retry_after:
        # Our shared bucket (or Klaviyo) said not now: nothing was applied, so come back then.
        waits = record.state.get("rate_limit_waits", 0) + 1
        if waits <= settings.RUN_MAX_RATE_LIMIT_WAITS:
            return record, wait_step(
                record, "Klaviyo's rate limit", failure.retry_after, rate_limit_waits=waits
            )
    retries = record.state.get("retries", 0)
    may_retry = step.on_error.mode == "retry" and retries < step.on_error.retries
    # A failure that may have been applied is repeated only where doing it twice is harmless.
    harmless = failure is None or not failure.reached or safe_to_repeat(step.action)
    if may_retry and result.retryable and harmless:
        return record, wait_step(
            record, f"retry {retries + 1} of {step.on_error.retries}", min(2**retries, 60),
            retries=retries + 1,
        )  # fmt: skip
    message = result.error or "The step failed."
    return complete(record, StepStatus.FAILED, result.output(), message), None


def _start_job_wait(
    record: StepRun, step: Step, connection: Connection, result: ActionResult
) -> tuple[StepRun, Wait | None]:
    poll = JOB_POLLS[step.action]
    data = result.data if isinstance(result.data, dict) else {}
    job = data.get("data") if isinstance(data.get("data"), dict) else {}
    job_id = job.get("id") or (record.input or {}).get(poll.id_field)
    if not job_id:
        message = "Klaviyo started the job but did not say its id, so it cannot be awaited."
        return complete(record, StepStatus.FAILED, result.output(), message), None
    record.output = redact(result.output())
    rows.update(record, ("output",))
    return record, wait_step(record, "the Klaviyo job", 1, job_id=job_id, polls=0)


def _poll_job(
    record: StepRun, step: Step, connection: Connection, job_id: str
) -> tuple[StepRun, Wait | None]:
    poll = JOB_POLLS[step.action]
    polls = record.state.get("polls", 0) + 1
    result = connection_run_action(
        connection=connection,
        key=poll.get_action,
        params={poll.id_field: job_id},
        block_on_rate_limit=False,
    )
    attempts = _attempts(record, result)
    record.state["polls"] = polls
    rows.update(record, ("state",), inserting=attempts)
    if not result.successful:
        if result.retryable and polls < settings.RUN_MAX_JOB_POLLS:
            delay = (
                result.failure.retry_after if result.failure and result.failure.retry_after else 5
            )
            return record, wait_step(record, "the Klaviyo job", delay, polls=polls)
        message = f"Checking the Klaviyo job failed: {result.error}"
        return complete(record, StepStatus.FAILED, result.output(), message), None
    job = (result.data or {}).get("data") or {}
    status = str((job.get("attributes") or {}).get("status", "")).lower()
    started = record.output or {}
    if status in DONE:
        output = {**started, "data": {**(started.get("data") or {}), "job": job}}
        return complete(record, StepStatus.SUCCEEDED, output), None
    if status in FAILED:
        message = f"The Klaviyo job {job_id} ended as {status}."
        return complete(record, StepStatus.FAILED, {**started, "successful": False}, message), None
    if polls >= settings.RUN_MAX_JOB_POLLS:
        message = f"The Klaviyo job {job_id} was still {status or 'running'} after {polls} checks."
        return complete(record, StepStatus.FAILED, started, message), None
    delay = min(1.5**polls, 60)
    return record, wait_step(record, f"the Klaviyo job ({status or 'queued'})", delay, polls=polls)
