"""Write-side functions for runs: start, cancel, delete and prune them, and find orphaned ones
(the sweeper). Replays are in `builder/services/replays.py`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min
from django.utils import timezone
from jsonschema import Draft202012Validator

from builder import strictjson
from builder.engine import rows
from builder.engine.definition import WorkflowProblem, parse_definition
from builder.engine.triggers import KLAVIYO_POLL, KLAVIYO_WEBHOOK
from builder.models import (
    Run,
    RunSearchTerm,
    StepAttempt,
    StepRun,
    TriggerEvent,
    Workflow,
    WorkflowVersion,
)
from builder.queue import outbox, run_execute_soon
from builder.runsearch import index_run, terms_of
from integrations.klaviyo.catalog.validation import FORMAT_CHECKER, errors_for

logger = logging.getLogger("builder.runs")


class NotPublished(Exception):
    """The workflow has no published version to run."""


class PayloadInvalid(Exception):
    """The trigger payload does not match the trigger's input schema; see `problems`."""

    def __init__(self, problems: list[WorkflowProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field or 'input'}: {p.message}" for p in problems))


_validators: dict[tuple[int, datetime], Draft202012Validator] = {}


def _data_validator(version: WorkflowVersion) -> Draft202012Validator:
    """The validator of the version's trigger data (versions are immutable: built once)."""
    key = (version.pk, version.published_at)
    if key not in _validators:
        if len(_validators) >= 256:
            _validators.clear()
        trigger = parse_definition(version.definition)[0].trigger
        # What Klaviyo sends is typed for the picker, not refused: Klaviyo adds fields to its
        # resources over time, and an event lost to a strict schema could not be run again.
        klaviyo = trigger.type in (KLAVIYO_WEBHOOK, KLAVIYO_POLL)
        schema = {"type": "object"} if klaviyo else trigger.data_schema or {"type": "object"}
        _validators[key] = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
    return _validators[key]


def payload_problems(version: WorkflowVersion, payload: Any) -> list[WorkflowProblem]:
    """Check a run's trigger data against the schema of its version's trigger's data."""
    if not isinstance(payload, dict):
        return [WorkflowProblem(None, "/input", "The input is an object of trigger fields.")]
    return [
        WorkflowProblem(None, "/input" + _pointer(path), message)
        for path, messages in errors_for(_data_validator(version), payload).items()
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
    burst: bool = False,
    delivery: str = "",
) -> Run:
    """Validate the payload, write a queued Run of the published version, enqueue it on commit.

    Raise NotPublished when there is no version, PayloadInvalid when the payload does not fit,
    RunNotStored when the database could not take it. `burst`: one of many (webhook
    deliveries, a poll's items): its task message goes through the outbox, and outside any
    transaction its write through the run writer when that is on. `delivery`: note the run in
    the trigger's activity as an accepted delivery with this detail, written with it.
    """
    if version is None and workflow.published_version_id is not None:
        # Its definition is not needed here (the payload schema is cached per version): a
        # webhook's delivery does not load and decode the whole document each time.
        version = WorkflowVersion.objects.defer("definition").get(pk=workflow.published_version_id)
    if version is None:
        raise NotPublished("Publish the workflow before running it.")
    problems = payload_problems(version, payload)
    try:
        strictjson.check_document(payload)
    except strictjson.JsonRefused as refused:
        problems.append(WorkflowProblem(None, "/input" + refused.pointer, f"The {refused}."))
    if problems:
        raise PayloadInvalid(problems)
    run = Run(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        version=version,
        trigger_kind=trigger,
        trigger_payload=payload,
    )
    if burst and writer.on and not transaction.get_connection().in_atomic_block:
        return writer.write(run, delivery)
    enqueue = outbox.add if burst else run_execute_soon
    with transaction.atomic():
        run.save(force_insert=True)
        index_run(run.pk, workflow.workspace_id, payload=payload)
        if delivery:
            TriggerEvent.objects.create(
                workflow=workflow, kind=TriggerEvent.Kind.DELIVERY, detail=delivery, run=run
            )
        transaction.on_commit(lambda: enqueue(run.pk))
    return run


class RunNotStored(Exception):
    """The run could not be written (the database refused or was too slow): nothing started."""


@dataclass
class _Pending:
    run: Run
    delivery: str = ""
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    #: The request stopped waiting (and answered 503): the run must not be written after all.
    abandoned: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class RunWriter:
    """Writes the queued runs of a burst of deliveries together: one transaction for all that
    arrived while the last batch was written, and their task messages through the outbox.

    On one web process a delivery's own transaction is most of its cost (and on SQLite the
    writers queue for one lock); a batch pays it once. Each request still waits for its own
    run to be stored, so a 202 always means a run in the database. Off by default; the web
    server turns it on (`builder/wsgi.py`), where requests come from many threads at once.
    """

    def __init__(self, most: int = 200, timeout: float = 30.0, idle: float = 5.0) -> None:
        self.on = False
        self.most, self.timeout, self.idle = most, timeout, idle
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def write(self, run: Run, delivery: str = "") -> Run:
        pending = _Pending(run, delivery)
        self._queue.put(pending)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="run-writer", daemon=True)
                self._thread.start()
        if not pending.done.wait(self.timeout):
            with pending.lock:
                if not pending.done.is_set():
                    pending.abandoned = True
                    raise RunNotStored("The run was not stored in time.")
        if pending.error is not None:
            raise RunNotStored(str(pending.error)) from pending.error
        return pending.run

    def release(self, timeout: float = 5.0) -> None:
        """Have the writer close its database connection now (before a database is dropped)."""
        if self._thread is None or not self._thread.is_alive():
            return
        closed = threading.Event()
        self._queue.put(closed)  # type: ignore[arg-type]
        closed.wait(timeout)

    def _loop(self) -> None:
        from django.db import close_old_connections

        while True:
            try:
                first = self._queue.get(timeout=self.idle)
            except queue.Empty:
                connection.close()  # idle: hold no database session between bursts
                continue
            if isinstance(first, threading.Event):  # `release`
                connection.close()
                first.set()
                continue
            batch = [first]
            while len(batch) < self.most:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            close_old_connections()  # as around a request: a broken or old connection goes
            for pending in batch:
                pending.lock.acquire()  # released once its request is told
            alive = [pending for pending in batch if not pending.abandoned]
            try:
                if alive:
                    self._store(alive)
            except Exception as error:  # noqa: BLE001 - every waiting request is told
                logger.exception("Storing %d queued runs failed", len(batch))
                for pending in batch:
                    pending.error = error
                close_old_connections()
            for pending in batch:
                pending.done.set()
                pending.lock.release()

    @staticmethod
    def _store(batch: list[_Pending]) -> None:
        runs = [pending.run for pending in batch]
        # Three statements for the whole batch (rows.py: the SQL built once, not per call).
        with transaction.atomic():
            rows.insert_many(runs, returning=True)
            rows.insert_many(
                [
                    RunSearchTerm(run_id=run.pk, workspace_id=run.workspace_id, term=term)
                    for run in runs
                    for term in terms_of(run.trigger_payload, "")
                ]
            )
            rows.insert_many(
                [
                    TriggerEvent(
                        workflow_id=p.run.workflow_id, kind=TriggerEvent.Kind.DELIVERY,
                        detail=p.delivery, run=p.run,
                    )
                    for p in batch
                    if p.delivery
                ]
            )  # fmt: skip
        for run in runs:
            outbox.add(run.pk)


#: The process's run writer (`builder/wsgi.py` turns it on in the web server).
writer = RunWriter()


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
    queued = Run.objects.filter(status=Run.Status.QUEUED, created_at__lt=stale)
    forgotten = queued.filter(workflow__max_concurrent_runs=0).values_list("pk", flat=True)
    # Under a concurrency limit the queued runs wait their turn, each started by the one before
    # it (a burst of a thousand may wait long): the oldest is enough to restart the chain.
    heads = (
        queued.filter(workflow__max_concurrent_runs__gt=0)
        .values("workflow_id")
        .annotate(first=Min("pk"))
        .values_list("first", flat=True)
    )
    return sorted({*orphaned, *overdue, *forgotten, *heads})


class RunBusy(Exception):
    """The run is still in progress; cancel it first."""


def runs_delete(ids: list[int]) -> int:
    """Delete these runs with their steps, attempts and search terms; return the steps deleted.

    Plain DELETE statements: Django's cascading delete would first load every step into memory.
    A replay of a deleted run keeps its records and loses only the link.
    """
    StepAttempt.objects.filter(step_run__run_id__in=ids)._raw_delete(StepAttempt.objects.db)
    steps = StepRun.objects.filter(run_id__in=ids)
    count = steps.count()
    steps._raw_delete(steps.db)
    RunSearchTerm.objects.filter(run_id__in=ids)._raw_delete(RunSearchTerm.objects.db)
    Run.objects.filter(replay_of_id__in=ids).update(replay_of=None)
    Run.objects.filter(pk__in=ids)._raw_delete(Run.objects.db)
    return count


def run_delete(*, run: Run) -> None:
    """Delete a finished run with everything it recorded; raise RunBusy while it is in progress."""
    with transaction.atomic():
        if not Run.objects.filter(pk=run.pk, status__in=Run.FINISHED).exists():
            raise RunBusy("The run is still in progress: cancel it, then delete it.")
        runs_delete([run.pk])


@dataclass
class Pruned:
    runs: int = 0
    steps: int = 0
    #: The longest a batch's transaction (and so its write lock) lasted.
    longest_batch_ms: float = 0.0


PRUNE_BATCH = 500


def runs_prune(*, now: datetime | None = None, batch_size: int = PRUNE_BATCH) -> Pruned:
    """Delete finished runs older than their workspace's retention, a batch per transaction.

    Each batch is one short transaction, so the web and the workers write in between; a run
    still in progress is kept, however old.
    """
    from builder.models import Workspace

    now = now or timezone.now()
    pruned = Pruned()
    for workspace_id, days in Workspace.objects.values_list("pk", "run_retention_days"):
        cutoff = now - timedelta(days=days)
        # What triggers noted (deliveries, polled ids) goes with the runs of the same age.
        TriggerEvent.objects.filter(
            workflow__workspace_id=workspace_id, received_at__lt=cutoff
        )._raw_delete(TriggerEvent.objects.db)
        old = Run.objects.filter(
            workspace_id=workspace_id, created_at__lt=cutoff, status__in=Run.FINISHED
        ).order_by()
        while True:
            began = time.perf_counter()
            with transaction.atomic():
                ids = list(old.values_list("pk", flat=True)[:batch_size])
                if not ids:
                    break
                pruned.steps += runs_delete(ids)
            pruned.runs += len(ids)
            elapsed = time.perf_counter() - began
            pruned.longest_batch_ms = max(pruned.longest_batch_ms, elapsed * 1000)
            if connection.vendor == "sqlite":
                # SQLite's busy handler retries a waiting writer only every 100 ms or so: without
                # a pause the next batch takes the lock first, again and again.
                time.sleep(min(elapsed, 0.1))
    return pruned
