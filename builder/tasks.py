"""Celery tasks of the builder app: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from builder.services.health import heartbeat_record


@shared_task(bind=True, ignore_result=True)
def worker_heartbeat(self) -> str:  # type: ignore[no-untyped-def]
    """Record that this worker (its Celery node name) is alive; /healthz reads it."""
    hostname = self.request.hostname or "unknown"
    heartbeat_record(hostname=hostname)
    return hostname
