"""Run a workflow version's steps, one after another, in one task execution at a time.

`run_execute(run_id)` claims the run with a conditional UPDATE (a redelivered or stale task
message finds it taken and does nothing), then walks the version's steps. Finished StepRuns
from earlier executions are reused as they are: a run that waited (rate limit, delay, a Klaviyo
job) or whose worker died picks up where it stopped. Every StepRun is written before its request
goes out and completed after it. When a run must wait, the executor records why and until when,
asks to be called again then, and returns: no worker slot is held by a sleeping run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from builder.engine.builtins import is_builtin
from builder.engine.conditions import ConditionError, describe, evaluate
from builder.engine.definition import Definition, Step, parse_definition
from builder.engine.klaviyo_steps import run_action_step
from builder.engine.mapping import ResolveError, resolve
from builder.engine.records import (
    Context,
    Wait,
    complete,
    failed,
    ok,
    settle,
    start,
    still_waiting,
    wait_step,
)
from builder.engine.redaction import redact
from builder.engine.safety import safe_to_repeat
from builder.models import Run, StepRun, Workflow
from builder.queue import failure_notice_soon, run_execute_at, run_execute_soon
from builder.runsearch import index_run

logger = logging.getLogger("builder.engine")

Status = Run.Status
StepStatus = StepRun.Status


@dataclass
class Outcome:
    """How a task execution ended: finished, waiting, or nothing to do (not claimed)."""

    status: str
    wait: Wait | None = None


class StopRun(Exception):
    """End the run now with `status` and `message` (a failure, a stop_if, a cancel, a review)."""

    def __init__(self, status: str, message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _stale_before() -> datetime:
    return timezone.now() - timedelta(seconds=settings.RUN_STALE_SECONDS)


# --- Claiming ---------------------------------------------------------------------------------


def claim(run_id: int) -> Run | None:
    """Take the run for this execution; return it, or None when there is nothing to do.

    Queued runs wait their turn under the workflow's concurrency limit, oldest first; a waiting
    run is taken once its time has come. The claim counter makes every other execution of the
    same run (a duplicate message) see that it lost.
    """
    now = timezone.now()
    with transaction.atomic():
        run = Run.objects.select_related("workflow", "version").filter(pk=run_id).first()
        if run is None or run.is_finished:
            return None
        if run.status == Status.RUNNING:
            return None  # another worker has it; the sweeper notices if that worker died
        if run.status == Status.WAITING and run.wake_at and run.wake_at > now:
            return None  # an early or duplicate message; the scheduled one comes later
        if run.status == Status.QUEUED and not _turn_has_come(run):
            return None
        claimed = {
            "status": Status.RUNNING,
            "heartbeat_at": now,
            "started_at": run.started_at or now,
            "waiting_for": "",
            "wake_at": None,
        }
        updated = Run.objects.filter(
            Q(wake_at__isnull=True) | Q(wake_at__lte=now),
            pk=run.pk,
            status=run.status,
            claim=run.claim,
        ).update(claim=F("claim") + 1, **claimed)
        if not updated:
            return None
    # What the UPDATE wrote, without reading the row back.
    for name, value in claimed.items():
        setattr(run, name, value)
    run.claim += 1
    return run


def _turn_has_come(run: Run) -> bool:
    """Tell whether a queued run may start under its workflow's concurrency limit."""
    limit = run.workflow.max_concurrent_runs
    if not limit or run.trigger_kind == Run.Trigger.TEST:
        return True  # a Test step in the editor neither waits for runs nor holds them up
    # Lock the workflow row so two workers cannot both see a free slot (PostgreSQL); SQLite
    # serializes writers anyway.
    type(run.workflow).objects.select_for_update().filter(pk=run.workflow_id).first()
    siblings = (
        Run.objects.filter(workflow_id=run.workflow_id)
        .exclude(pk=run.pk)
        .exclude(trigger_kind=Run.Trigger.TEST)
    )
    if siblings.filter(status__in=Run.IN_PROGRESS).count() >= limit:
        return False
    earlier = siblings.filter(status=Status.QUEUED).filter(
        Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, pk__lt=run.pk)
    )
    return not earlier.exists()


class Heartbeat:
    """Tell the database every few seconds that this execution still holds the run."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)
        #: Set when the run stopped being ours to go on with: canceled, or claimed by another.
        self.interrupted = threading.Event()
        #: Set only when someone canceled the run: its requests stop between two tries. (A run
        #: another execution took over keeps its step as it is, for that one to handle.)
        self.canceled = threading.Event()

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _beat(self) -> None:
        interval = settings.RUN_HEARTBEAT_SECONDS
        try:
            while not self._stop.wait(interval):
                if not self.touch():
                    if _cancel_requested(self.run):
                        self.canceled.set()
                    self.interrupted.set()
                    return
        finally:
            close_old_connections()

    def touch(self) -> bool:
        """Refresh the heartbeat; return False when the run was canceled or is not ours."""
        return bool(
            Run.objects.filter(
                pk=self.run.pk, claim=self.run.claim, status=Status.RUNNING, cancel_requested=False
            ).update(heartbeat_at=timezone.now())
        )


# --- Executing --------------------------------------------------------------------------------


def execute(run: Run) -> Outcome:
    """Walk the claimed run's steps until it finishes or must wait; record the outcome."""
    definition = _definition(run)
    context = Context(
        trigger=run.trigger_payload,
        run={
            "id": run.pk,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "workflow_id": run.workflow_id,
            "version": run.version.number if run.version else None,
        },
        # A test run's samples stand in for the outputs of the steps above the tested one.
        steps=dict(run.test_samples) if run.version is None else {},
    )
    # A run's first execution (its first claim) has no steps on record yet, unless it replays
    # from a failed step: then the steps before it carry the original's records.
    existing = _step_runs(run) if run.claim > 1 or run.replay_from else {}
    deadline = (run.started_at or timezone.now()) + timedelta(seconds=settings.RUN_TIMEOUT_SECONDS)
    with Heartbeat(run) as heartbeat:
        context.stop = heartbeat.canceled
        try:
            for step in definition.steps:
                if heartbeat.interrupted.is_set() or run.cancel_requested:
                    if run.cancel_requested or _cancel_requested(run):
                        raise StopRun(Status.CANCELED, "Canceled.")
                    if heartbeat.interrupted.is_set():
                        return Outcome("lost")  # another execution holds the run now
                if timezone.now() > deadline:
                    raise StopRun(
                        Status.FAILED,
                        f"The run took longer than {settings.RUN_TIMEOUT_SECONDS} s and was "
                        "stopped; split the work or raise RUN_TIMEOUT_SECONDS.",
                    )
                wait = _run_step(run, definition, step, context, existing)
                if wait is not None:
                    return _wait(run, wait)
        except StopRun as stop:
            return _finish(run, stop.status, stop.message)
    return _finish(run, Status.SUCCEEDED, "")


_parsed: dict[tuple[int, datetime], Definition] = {}


def _definition(run: Run) -> Definition:
    """Return the run's parsed steps; versions are immutable, so each is parsed once.

    Keyed by id and publishing time, so a reused id (a restored database) is parsed anew. A test
    run (no version) carries its own one-step draft.
    """
    version = run.version
    if version is None:
        return parse_definition(run.test_definition or {})[0]
    key = (version.pk, version.published_at)
    if key not in _parsed:
        if len(_parsed) >= 256:
            _parsed.clear()
        _parsed[key] = parse_definition(version.definition)[0]
    return _parsed[key]


def _step_runs(run: Run) -> dict[tuple[str, int | None], StepRun]:
    return {(s.step_key, s.item_index): s for s in StepRun.objects.filter(run=run)}


def _cancel_requested(run: Run) -> bool:
    return Run.objects.filter(pk=run.pk, cancel_requested=True).exists()


def _finish(run: Run, status: str, message: str) -> Outcome:
    now = timezone.now()
    duration = (now - (run.started_at or now)).total_seconds() * 1000
    finished = Run.objects.filter(pk=run.pk, claim=run.claim).update(
        status=status,
        error=message[:5000],
        finished_at=now,
        heartbeat_at=None,
        wake_at=None,
        duration_ms=duration,
    )
    if finished and run.trigger_kind != Run.Trigger.TEST:
        if message:
            index_run(run.pk, run.workspace_id, error=message)
        if status in (Status.FAILED, Status.NEEDS_REVIEW):
            _notice_failure(run, now)
    _start_next(run)
    return Outcome(status)


def _notice_failure(run: Run, now: datetime) -> None:
    """Ask for a failure email, unless the workflow had one in the last few minutes."""
    quiet = now - timedelta(minutes=settings.FAILURE_NOTICE_MINUTES)
    due = (
        Workflow.objects.filter(pk=run.workflow_id, notify_failures=True)
        .filter(Q(failure_notified_at__isnull=True) | Q(failure_notified_at__lte=quiet))
        .update(failure_notified_at=now)
    )
    if due:
        failure_notice_soon(run.pk)


def _wait(run: Run, wait: Wait) -> Outcome:
    Run.objects.filter(pk=run.pk, claim=run.claim).update(
        status=Status.WAITING, waiting_for=wait.reason[:200], wake_at=wait.until, heartbeat_at=None
    )
    run_execute_at(run.pk, wait.until)
    return Outcome(Status.WAITING, wait)


def _start_next(run: Run) -> None:
    """Let the oldest queued run of a concurrency-limited workflow start."""
    if not run.workflow.max_concurrent_runs:
        return
    following = (
        Run.objects.filter(workflow_id=run.workflow_id, status=Status.QUEUED)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if following:
        run_execute_soon(following)


def _run_step(
    run: Run,
    definition: Definition,
    step: Step,
    context: Context,
    existing: dict[tuple[str, int | None], StepRun],
) -> Wait | None:
    """Run one step (all its items); put its output in `context`; return a Wait if it must."""
    if step.for_each is None:
        record, wait = _run_once(run, step, context, existing, item=None, item_index=None)
        if wait is not None:
            return wait
        context.steps[step.key] = record.output
        _after(step, record)
        return None
    return _run_items(run, step, context, existing)


def _after(step: Step, record: StepRun) -> None:
    """Raise StopRun when a finished step ends the run."""
    if record.status == StepStatus.FAILED and step.on_error.mode != "continue":
        raise StopRun(Status.FAILED, f"Step “{step.name or step.key}” failed: {record.error}")
    if record.status == StepStatus.NEEDS_REVIEW:
        raise StopRun(Status.NEEDS_REVIEW, record.error)
    if record.status == StepStatus.CANCELED:
        raise StopRun(Status.CANCELED, "Canceled.")
    stop = (record.output or {}).get("data") if step.action == "builtin.stop_if" else None
    if isinstance(stop, dict) and stop.get("stopped"):
        outcome = step.input.get("outcome", "succeeded")
        message = step.input.get("message") or f"Stopped at step “{step.name or step.key}”."
        raise StopRun(Status.FAILED if outcome == "failed" else Status.SUCCEEDED, message)


def _run_items(
    run: Run, step: Step, context: Context, existing: dict[tuple[str, int | None], StepRun]
) -> Wait | None:
    assert step.for_each is not None  # noqa: S101
    try:
        items = resolve(step.for_each.items, context.values())
    except ResolveError as error:
        record = _record_failure(run, step, None, None, f"The list to go through: {error}")
        _after(step, record)
        return None
    if not isinstance(items, list):
        message = f"for_each needs a list, but {step.for_each.items} is not one."
        _after(step, _record_failure(run, step, None, None, message))
        return None
    items = items[: step.for_each.max_items]

    def one(index: int) -> tuple[StepRun, Wait | None]:
        try:
            return _run_once(run, step, context, existing, item=items[index], item_index=index)
        finally:
            if step.for_each and step.for_each.in_flight > 1:
                close_old_connections()

    if step.for_each.in_flight > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=step.for_each.in_flight) as pool:
            results = list(pool.map(one, range(len(items))))
    else:
        results = [one(index) for index in range(len(items))]
    waits = [wait for _, wait in results if wait is not None]
    if waits:
        return min(waits, key=lambda wait: wait.until)
    records = [record for record, _ in results]
    failed = [record for record in records if record.status != StepStatus.SUCCEEDED]
    context.steps[step.key] = {
        "successful": not failed,
        "error": failed[0].error if failed else None,
        "data": [(record.output or {}).get("data") for record in records],
    }
    for record in failed:
        _after(step, record)
    return None


def _record_failure(
    run: Run, step: Step, item_index: int | None, item_input: Any, message: str
) -> StepRun:
    return settle(
        run, step, item_index, StepStatus.FAILED, failed(message),
        input=redact(item_input), error=message,
    )  # fmt: skip


def _run_once(
    run: Run,
    step: Step,
    context: Context,
    existing: dict[tuple[str, int | None], StepRun],
    *,
    item: Any,
    item_index: int | None,
) -> tuple[StepRun, Wait | None]:
    """Run the step (or one item of it) unless an earlier execution finished it."""
    record = existing.get((step.key, item_index))
    if record is not None and record.status in StepRun.FINISHED:
        return record, None
    in_flight = record is not None and record.status == StepStatus.RUNNING
    if in_flight and not safe_to_repeat(step.action):
        # In flight when its worker died: it may or may not have reached Klaviyo.
        return _needs_review(record, step), None
    values = context.values(item, item_index)
    if record is None and step.run_if is not None:
        try:
            holds = evaluate(step.run_if, values)
        except (ResolveError, ConditionError) as error:
            return _record_failure(run, step, item_index, None, f"Run if: {error}"), None
        if not holds:
            return _skip(run, step, item_index, describe(step.run_if, values)), None
    if record is not None and record.status == StepStatus.WAITING:
        wait = still_waiting(record)
        if wait is not None:
            return record, wait
        overdue = _overdue(step, record)
        if overdue:
            return complete(record, StepStatus.FAILED, failed(overdue), overdue), None
    try:
        params = resolve(step.input, values)
    except ResolveError as error:
        return _record_failure(run, step, item_index, None, str(error)), None
    record = start(run, step, item_index, params, record)
    if is_builtin(step.action):
        return _builtin(record, step, params, values)
    return run_action_step(run, record, step, params, context, stop=context.stop)


def _overdue(step: Step, record: StepRun) -> str:
    """Return why a resumed step is past its timeout, or "" while it may go on."""
    timeout = step.timeout_seconds
    if timeout is None and step.action != "builtin.delay":
        timeout = settings.RUN_STEP_TIMEOUT_SECONDS  # a delay waits as long as it was told to
    if timeout is None or record.started_at is None:
        return ""
    if timezone.now() - record.started_at <= timedelta(seconds=timeout):
        return ""
    doing = record.state.get("waiting_for") or "its work"
    return (
        f"Step “{step.name or step.key}” did not finish within its timeout of {timeout:g} s "
        f"(it was waiting for {doing}); raise timeout_seconds in the step's settings or "
        "look at why it took so long."
    )


def _skip(run: Run, step: Step, item_index: int | None, reason: str) -> StepRun:
    return settle(
        run, step, item_index, StepStatus.SKIPPED, ok(None),
        error="", state={"skipped_because": reason},
    )  # fmt: skip


def _needs_review(record: StepRun, step: Step) -> StepRun:
    message = (
        f"Step “{step.name or step.key}” was sending its request when its worker stopped, so "
        "it is not known whether Klaviyo received it. It was not repeated, to avoid doing it "
        "twice: check Klaviyo, then replay the run from this step or skip it."
    )
    record.status = StepStatus.NEEDS_REVIEW
    record.error = message
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at"])
    return record


# --- Built-in steps ---------------------------------------------------------------------------


def _builtin(
    record: StepRun, step: Step, params: dict[str, Any], values: dict[str, Any]
) -> tuple[StepRun, Wait | None]:
    if step.action == "builtin.delay":
        started = record.state.get("delay_from")
        if started is None:
            if "until" in params:
                target = datetime.fromisoformat(str(params["until"]).replace("Z", "+00:00"))
                if timezone.is_naive(target):
                    target = timezone.make_aware(target, timezone.UTC)
            else:
                target = timezone.now() + timedelta(seconds=float(params.get("seconds", 0)))
            seconds = (target - timezone.now()).total_seconds()
            if seconds > 0:
                return record, wait_step(
                    record, f"a delay until {target:%Y-%m-%d %H:%M:%S} UTC", seconds,
                    delay_from=timezone.now().isoformat(), delay_until=target.isoformat(),
                )  # fmt: skip
            started, record.state["delay_until"] = timezone.now().isoformat(), target.isoformat()
        waited = (timezone.now() - datetime.fromisoformat(started)).total_seconds()
        data = {"waited_seconds": round(waited, 3), "until": record.state.get("delay_until")}
        return complete(record, StepStatus.SUCCEEDED, ok(data)), None
    if step.action == "builtin.stop_if":
        try:
            holds = evaluate(step.input.get("condition"), values)
        except (ResolveError, ConditionError) as error:
            message = f"The stop condition: {error}"
            return complete(record, StepStatus.FAILED, failed(message), message), None
        return complete(record, StepStatus.SUCCEEDED, ok({"stopped": bool(holds)})), None
    if step.action == "builtin.set":
        return complete(record, StepStatus.SUCCEEDED, ok(params.get("values") or {})), None
    message = f"Unknown built-in step {step.action!r}."
    return complete(record, StepStatus.FAILED, failed(message), message), None


# --- Entry point ------------------------------------------------------------------------------


def run_execute(run_id: int, *, on_claimed: Callable[[Run], None] | None = None) -> Outcome:
    """Claim the run and execute it; the Celery task calls this."""
    run = claim(run_id)
    if run is None:
        return Outcome("not claimed")
    if on_claimed is not None:
        on_claimed(run)
    try:
        return execute(run)
    except Exception as error:  # noqa: BLE001 - the run records it; the worker lives on
        logger.exception("Run %s failed unexpectedly", run_id)
        return _finish(run, Status.FAILED, f"Step Builder failed while running this: {error}")
