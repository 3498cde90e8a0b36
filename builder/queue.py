"""Queue run executions by task name, so services and the engine need not import the tasks.

(The tasks import the services; naming the task keeps the imports one way.)
"""

from __future__ import annotations

from datetime import datetime

from celery import current_app

RUN_EXECUTE = "builder.tasks.run_execute"
FAILURE_NOTICE = "builder.tasks.failure_notice_send"
TRIGGER_POLL = "builder.tasks.trigger_poll"


def run_execute_soon(run_id: int) -> None:
    """Queue the run's execution now."""
    current_app.send_task(RUN_EXECUTE, args=[run_id])


def run_execute_at(run_id: int, when: datetime) -> None:
    """Queue the run's execution for `when` (a wait ends); the worker holds no slot meanwhile."""
    current_app.send_task(RUN_EXECUTE, args=[run_id], eta=when)


def failure_notice_soon(run_id: int) -> None:
    """Queue the email that tells a workflow's owner its run failed."""
    current_app.send_task(FAILURE_NOTICE, args=[run_id])


def trigger_poll_soon(state_id: int) -> None:
    """Queue one poll of a Klaviyo polling trigger (its TriggerState id)."""
    current_app.send_task(TRIGGER_POLL, args=[state_id])
