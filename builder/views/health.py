"""/healthz: is the database reachable, the broker reachable, a worker alive?

Anonymous callers (load balancers) read it, so failures are named, never explained: the
details go to the log.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from builder.celery import app as celery_app
from builder.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any failure means "down"
        logger.exception("Health check: the database is unreachable")
        return {"ok": False, "error": "The database is unreachable."}
    return {"ok": True, "vendor": connection.vendor}


def _check_broker() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
            transport = conn.transport_cls
    except Exception:  # noqa: BLE001
        logger.exception("Health check: the broker is unreachable")
        return {"ok": False, "error": "The task broker is unreachable."}
    return {"ok": True, "transport": str(transport)}


def _check_worker() -> dict:
    try:
        beat = WorkerHeartbeat.objects.order_by("-last_seen").first()
    except Exception:  # noqa: BLE001
        return {"ok": False, "error": "Worker heartbeats cannot be read."}
    if beat is None:
        return {"ok": False, "error": "No worker has reported yet."}
    age = timezone.now() - beat.last_seen
    ok = age <= timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    result = {"ok": ok, "hostname": beat.hostname, "last_seen": beat.last_seen.isoformat()}
    if not ok:
        result["error"] = f"The last worker heartbeat is {int(age.total_seconds())} s old."
    return result


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database, the broker and a worker are all fine, else 503."""
    checks = {
        "database": _check_database(),
        "broker": _check_broker(),
        "worker": _check_worker(),
    }
    ok = all(check["ok"] for check in checks.values())
    return JsonResponse({"status": "ok" if ok else "fail", **checks}, status=200 if ok else 503)
