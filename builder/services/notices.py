"""Failure notices: an email to a workflow's owner when its runs fail.

The executor decides when one is due (at most one per workflow per FAILURE_NOTICE_MINUTES, and
only while the workflow's notices are on) and queues `failure_notice_send`; this module writes it.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from builder.models import Membership, Run

logger = logging.getLogger("builder.notices")


def notice_recipients(run: Run) -> list[str]:
    """Return who hears of the run's failure: the workflow's creator while a member, or else
    the workspace's owners."""
    members = Membership.objects.filter(workspace_id=run.workspace_id, user__is_active=True)
    creator = run.workflow.created_by_id
    if creator and members.filter(user_id=creator).exists():
        return list(members.filter(user_id=creator).values_list("user__email", flat=True))
    owners = members.filter(role=Membership.Role.OWNER)
    return sorted(owners.values_list("user__email", flat=True))


def failure_notice_send(*, run_id: int) -> int:
    """Email the run's failure to its workflow's owner; return how many were sent."""
    run = Run.objects.select_related("workflow", "version").filter(pk=run_id).first()
    if run is None:
        return 0
    recipients = notice_recipients(run)
    if not recipients:
        return 0
    site = settings.SITE_URL.rstrip("/")
    failures = (
        reverse("run_list") + "?" + urlencode({"workflow": run.workflow_id, "status": run.status})
    )
    context = {
        "run": run,
        "run_url": site + reverse("run_detail", args=[run.pk]),
        "failures_url": site + failures,
        "settings_url": site + reverse("workflow_editor", args=[run.workflow_id]),
        "quiet_minutes": settings.FAILURE_NOTICE_MINUTES,
    }
    subject = f"Step Builder: a run of “{run.workflow.name}” {run.get_status_display().lower()}"
    body = render_to_string("runs/failure_email.txt", context)
    sent = send_mail(subject, body, None, recipients)
    logger.info("Failure notice for run %s sent to %d people", run.pk, len(recipients))
    return sent
