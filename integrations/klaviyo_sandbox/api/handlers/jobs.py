"""Asynchronous jobs: created with the effect already applied, reported as they progress.

Klaviyo answers a job POST with 202 and `status: queued`, and the job later reports
`processing` and then `complete`. The sandbox applies the job's effect at once (so every later
read is consistent) and reports the status from the clock: queued for the first half of
`KLAVIYO_SANDBOX_JOB_SECONDS` (default 1), processing for the second half, then complete.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import iso
from integrations.klaviyo_sandbox.api.filters import parse_datetime
from integrations.klaviyo_sandbox.api.operations import resource
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

DEFAULT_JOB_SECONDS = 1.0


def job_seconds() -> float:
    """Return how long a sandbox job takes to report `complete`."""
    return float(getattr(settings, "KLAVIYO_SANDBOX_JOB_SECONDS", DEFAULT_JOB_SECONDS))


def job_error(detail: str, pointer: str, code: str = "invalid") -> dict[str, Any]:
    """Return one entry of a job's `errors` list, shaped like an API error."""
    return {
        "id": str(uuid.uuid4()),
        "code": code,
        "title": "Invalid input.",
        "detail": detail,
        "source": {"pointer": pointer},
    }


def start(
    account: SandboxAccount,
    kind: str,
    *,
    total: int,
    failed: int = 0,
    skipped: int = 0,
    errors: list[dict[str, Any]] | None = None,
    relationships: dict[str, Any] | None = None,
    resource_id: str | None = None,
    internal: dict[str, Any] | None = None,
) -> SandboxResource:
    """Store a job whose effect has been applied; it reports `complete` after `job_seconds()`."""
    job = store.create(
        account,
        kind,
        {},
        resource_id=resource_id,
        relationships=relationships,
        internal={
            "seconds": job_seconds(),
            "total": total,
            "failed": failed,
            "skipped": skipped,
            "errors": errors or [],
            **(internal or {}),
        },
    )
    return job


def status(job: SandboxResource, now: datetime) -> str:
    """Return `cancelled`, `queued`, `processing` or `complete` for a job at `now`."""
    if job.internal.get("cancelled"):
        return "cancelled"
    seconds = float(job.internal.get("seconds", 0))
    elapsed = (now - job.created).total_seconds()
    if elapsed >= seconds:
        return "complete"
    return "queued" if elapsed < seconds / 2 else "processing"


def completed_at(job: SandboxResource) -> datetime:
    """Return when the job completes (or completed)."""
    return job.created + timedelta(seconds=float(job.internal.get("seconds", 0)))


def view_job(job: SandboxResource, attrs: dict[str, Any], now: datetime) -> None:
    """Fill a job's served attributes (only those its type has) from its progress."""
    names = set(resource(job.type).get("attributes", []))
    state = status(job, now)
    done = state == "complete"
    total = int(job.internal.get("total", 0))
    failed = int(job.internal.get("failed", 0))
    skipped = int(job.internal.get("skipped", 0))
    values = {
        "status": state,
        "total_count": total,
        "completed_count": total - failed - skipped if done else 0,
        "failed_count": failed if done else 0,
        "skipped_count": skipped if done else 0,
        "completed_at": iso(completed_at(job)) if done else None,
        "started_at": iso(job.created),
        "created_at": iso(job.created),
        "expires_at": iso(job.created + timedelta(days=7)),
        "errors": job.internal.get("errors", []) if done else [],
    }
    for name, value in values.items():
        if name in names:
            attrs[name] = value


def is_complete(job: SandboxResource, now: datetime) -> bool:
    """Tell whether a job has finished (and was not cancelled)."""
    return status(job, now) == "complete"


def moment(value: Any) -> datetime | None:
    """Parse a stored ISO time (helper for handlers that keep times in `internal`)."""
    return parse_datetime(value)
