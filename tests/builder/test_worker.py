"""A real task through the real broker to a real worker process (not eager mode)."""

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from builder.models import WorkerHeartbeat
from builder.tasks import worker_heartbeat
from tests.conftest import wait_for

pytestmark = pytest.mark.worker


def test_a_task_sent_through_the_broker_runs_in_a_worker_process(celery_worker_process):
    assert (
        not settings.CELERY_TASK_ALWAYS_EAGER
        if hasattr(settings, "CELERY_TASK_ALWAYS_EAGER")
        else True
    )
    with transaction.atomic():
        transaction.on_commit(worker_heartbeat.delay)

    def worker_reported():
        """the worker's heartbeat row"""
        return WorkerHeartbeat.objects.filter(hostname=celery_worker_process).first()

    beat = wait_for(worker_reported, timeout=60)
    assert beat.hostname == celery_worker_process


def test_healthz_turns_ok_once_the_worker_answers(client, celery_worker_process):
    first = client.get(reverse("healthz"))  # the worker reports itself once it is ready

    def healthy():
        """/healthz to answer 200"""
        return client.get(reverse("healthz")).status_code == 200

    assert first.json()["broker"]["ok"] is True
    wait_for(healthy, timeout=60, interval=0.5)
