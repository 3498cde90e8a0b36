"""Celery tasks of the builder app: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from builder.engine import executor
from builder.services.health import heartbeat_record
from builder.services.notices import failure_notice_send as notice_send
from builder.services.runs import runs_orphaned
from builder.services.runs import runs_prune as prune
from builder.triggers import services as triggers


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self) -> str:  # type: ignore[no-untyped-def]
    """Record that this worker (its Celery node name) is alive; /healthz reads it."""
    hostname = self.request.hostname or "unknown"
    heartbeat_record(hostname=hostname)
    return hostname


@shared_task(ignore_result=True, acks_late=True)
def run_execute(run_id: int) -> str:
    """Execute a run until it finishes or must wait; a duplicate message does nothing."""
    return executor.run_execute(run_id).status


@shared_task(ignore_result=True)
def runs_execute(run_ids: list[int]) -> int:
    """Give each run of a batch (an intake's outbox) its own task; return how many."""
    for run_id in run_ids:
        run_execute.delay(run_id)
    return len(run_ids)


@shared_task(ignore_result=True)
def runs_sweep() -> int:
    """Give every orphaned run a task again; return how many."""
    ids = runs_orphaned()
    for run_id in ids:
        run_execute.delay(run_id)
    return len(ids)


@shared_task(ignore_result=True)
def failure_notice_send(run_id: int) -> int:
    """Email a workflow's owner that its run failed."""
    return notice_send(run_id=run_id)


@shared_task(ignore_result=True)
def runs_prune() -> int:
    """Delete runs past their workspace's retention; return how many."""
    return prune().runs


@shared_task(ignore_result=True)
def triggers_due() -> int:
    """Fire the due schedules and queue the due Klaviyo polls; return how many."""
    return triggers.triggers_due()


@shared_task(ignore_result=True)
def trigger_poll(state_id: int) -> int:
    """Poll one Klaviyo polling trigger; return the runs it started."""
    polled = triggers.trigger_poll(state_id)
    return polled.started if polled else 0
