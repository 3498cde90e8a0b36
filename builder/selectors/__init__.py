"""Read-side queries of the builder app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from builder.engine.builtins import BUILTINS
from builder.engine.kinds import BUILTIN_CATEGORY
from builder.models import (
    ApiToken,
    Invitation,
    Membership,
    Run,
    StepRun,
    User,
    Workflow,
    Workspace,
)
from integrations.klaviyo.catalog import list_actions


def memberships_of_user(user: User) -> QuerySet[Membership]:
    """Return the user's memberships with their workspaces, alphabetically."""
    return (
        Membership.objects.filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name", "workspace_id")
    )


def workspace_memberships(workspace: Workspace) -> QuerySet[Membership]:
    """Return the workspace's members, owners first."""
    return (
        Membership.objects.filter(workspace=workspace)
        .select_related("user")
        .order_by("-role", "user__email")
    )


def workspace_invitations(workspace: Workspace) -> QuerySet[Invitation]:
    """Return the workspace's invitations that can still be accepted, newest first."""
    return (
        Invitation.objects.for_workspace(workspace)
        .pending()
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_for_token(token: str) -> Invitation | None:
    """Return the invitation whose link carries `token` (in any state), or None."""
    if not token or len(token) > 100:  # ours are 43 characters; no need to hash a novel
        return None
    return (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )


def workspace_api_tokens(workspace: Workspace) -> QuerySet[ApiToken]:
    """Return the workspace's API tokens that still work, newest first."""
    return ApiToken.objects.for_workspace(workspace).filter(revoked_at__isnull=True)


def draft_differs(workflow: Workflow) -> bool:
    """Tell whether the draft has changes its published version lacks (False when unpublished)."""
    published = workflow.published_version
    return published is not None and workflow.definition != published.definition


@dataclass(frozen=True)
class WorkflowRow:
    """A row of the workflows page: the workflow, its last run and its runs of the last week."""

    workflow: Workflow
    last_run_id: int | None
    last_run_status: str | None
    last_run_at: datetime | None
    runs_last_week: int

    @property
    def last_run_label(self) -> str:
        return dict(Run.Status.choices).get(self.last_run_status or "", self.last_run_status or "")

    @property
    def draft_changed(self) -> bool:
        return draft_differs(self.workflow)


def workflow_rows(workspace: Workspace, *, now: datetime | None = None) -> list[WorkflowRow]:
    """Return the workspace's workflows by name with their activity, in one query.

    Runs of a step tested in the editor (trigger "test") are not the workflow's runs.
    """
    since = (now or timezone.now()) - timedelta(days=7)
    runs = Run.objects.filter(workflow=OuterRef("pk")).exclude(trigger_kind=Run.Trigger.TEST)
    last = runs.order_by("-created_at", "-id")
    week = (
        runs.filter(created_at__gte=since)
        .order_by()
        .values("workflow")
        .annotate(count=Count("pk"))
        .values("count")
    )
    workflows = (
        Workflow.objects.for_workspace(workspace)
        .select_related("published_version")
        .annotate(
            last_run_id=Subquery(last.values("pk")[:1]),
            last_run_status=Subquery(last.values("status")[:1]),
            last_run_at=Subquery(last.values("created_at")[:1]),
            runs_last_week=Coalesce(Subquery(week, output_field=IntegerField()), 0),
        )
        .order_by("name", "id")
    )
    return [
        WorkflowRow(
            workflow=workflow,
            last_run_id=workflow.last_run_id,
            last_run_status=workflow.last_run_status,
            last_run_at=workflow.last_run_at,
            runs_last_week=workflow.runs_last_week,
        )
        for workflow in workflows
    ]


def samples_of(workflow: Workflow) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Return each step's last successful test output by key, and the last test's trigger data.

    Looks at the workflow's latest 100 tests (an index of its own keeps this quick however many
    runs the workflow has).
    """
    tests = Run.objects.filter(workflow=workflow, trigger_kind=Run.Trigger.TEST).order_by("-pk")
    tested = dict(tests.values_list("pk", "test_step")[:100])
    outputs = (
        StepRun.objects.filter(
            run_id__in=tested, status=StepRun.Status.SUCCEEDED, item_index__isnull=True
        )
        .order_by("-run_id")
        .values_list("run_id", "step_key", "output")
    )
    samples: dict[str, Any] = {}
    for run_id, key, output in outputs:
        if key == tested[run_id] and output is not None:
            samples.setdefault(key, output)
    trigger = tests.values_list("trigger_payload", flat=True).first() if tested else None
    return samples, trigger


def search_steps(query: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return the built-in steps and actions matching `query`, best first, grouped by category
    (a category shows where its best match ranks)."""
    words = query.lower().split()
    found = [
        {
            "key": b.key,
            "title": b.title,
            "summary": b.description,
            "side_effect": b.side_effect,
            "category": BUILTIN_CATEGORY,
        }
        for b in BUILTINS.values()
        if all(w in f"{b.key} {b.title} {b.description}".lower() for w in words)
    ]
    found += [
        {
            "key": a.key,
            "title": a.title,
            "summary": _summary(a.description),
            "side_effect": a.side_effect,
            "category": a.category,
        }
        for a in list_actions(query=query or None)
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in found:
        groups.setdefault(item["category"], []).append(item)
    return list(groups.items())


def _summary(description: str) -> str:
    """Return the first sentence of an action's description, without its rate-limit notes."""
    text = description.split("*Rate limits", 1)[0].split("**Scopes", 1)[0].strip()
    first = text.split(". ", 1)[0].strip().rstrip(".")
    return first if len(first) <= 140 else first[:137] + "…"
