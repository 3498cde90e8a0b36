"""Proof of life from Celery workers, read by /healthz."""

from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time a worker process on `hostname` ran the heartbeat task."""

    hostname = models.CharField(max_length=255, unique=True)
    last_seen = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.hostname} at {self.last_seen:%Y-%m-%d %H:%M:%S}"
