"""Queue run executions by task name, so services and the engine need not import the tasks.

(The tasks import the services; naming the task keeps the imports one way.)
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime

from celery import current_app

logger = logging.getLogger("builder.queue")

RUN_EXECUTE = "builder.tasks.run_execute"
RUNS_EXECUTE = "builder.tasks.runs_execute"
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


class Outbox:
    """Run ids to queue, sent a few milliseconds later as one message per batch.

    A burst of webhook deliveries or a poll's thousand items would otherwise pay a broker
    message each on the hot path; here one `runs_execute` message carries up to `most` ids and
    the worker fans them out. Nothing is lost if the process dies before sending: a queued run
    that has not started is given a task again by the sweeper (`runs_orphaned`).
    """

    def __init__(self, delay: float = 0.01, most: int = 500) -> None:
        self.delay, self.most = delay, most
        self._ids: list[int] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        atexit.register(self.flush)

    def add(self, run_id: int) -> None:
        with self._lock:
            self._ids.append(run_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="outbox", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self) -> None:
        """Send what is waiting now, as one message per `most` ids."""
        with self._lock:
            ids, self._ids = self._ids, []
        for start in range(0, len(ids), self.most):
            batch = ids[start : start + self.most]
            if len(batch) == 1:
                current_app.send_task(RUN_EXECUTE, args=batch)
            else:
                current_app.send_task(RUNS_EXECUTE, args=[batch])

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            threading.Event().wait(self.delay)  # let the burst gather
            try:
                self.flush()
            except Exception:  # noqa: BLE001 - the sweeper gives these runs a task later
                logger.exception("Queueing a batch of runs failed; the sweeper will requeue them")


#: The process's outbox (webhook intake and trigger items use it).
outbox = Outbox()
