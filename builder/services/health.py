"""Worker heartbeats: how /healthz knows a worker is alive."""

from __future__ import annotations

from django.utils import timezone

from builder.models import WorkerHeartbeat


def heartbeat_record(*, hostname: str) -> None:
    """Note that the worker `hostname` (its Celery node name) is alive now."""
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"last_seen": timezone.now()}
    )
