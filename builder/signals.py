"""Signal handlers of the builder app."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_ready


@worker_ready.connect
def report_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    """Record a heartbeat as soon as a worker can take tasks, before beat's first one."""
    from builder.services.health import heartbeat_record

    heartbeat_record(hostname=getattr(sender, "hostname", None) or "unknown")
