"""Run history: the runs list (filters and search in the URL, keyset pages), and what is done to
runs from it and from a run's page: replay (one or several), cancel, delete, export.

The page of one run is builder/views/run_page.py.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from builder.api.serializers import run_json
from builder.forms.runs import ReplayForm, RunFilterForm
from builder.models import Run, Workflow
from builder.selectors.run_stats import run_stats
from builder.selectors.runs import cursor_read, run_page
from builder.services.replays import ReplayPlan, ReplayRefused, replay_plan, run_replay
from builder.services.runs import RunBusy, run_cancel, run_delete
from builder.workspaces import get_for_workspace_or_404, workspace_required

#: Most runs replayed by one "Replay selected".
MAX_SELECTED = 100


@workspace_required
@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    """Every run of the workspace (or of one workflow), newest first, filtered and searched."""
    form = RunFilterForm(request.GET, workspace=request.workspace)
    form.is_valid()
    filters = form.filters()
    cursor_text = request.GET.get("cursor", "")
    cursor = cursor_read(cursor_text) if cursor_text else None
    bad_cursor = bool(cursor_text) and cursor is None
    page = run_page(request.workspace, filters, cursor=cursor)
    query = request.GET.copy()
    query.pop("cursor", None)
    following = None
    if page.following:
        query["cursor"] = page.following
        following = f"?{query.urlencode()}"
        query.pop("cursor")
    workflow = stats = None
    if filters.workflow_id is not None:
        workflow = Workflow.objects.for_workspace(request.workspace).get(pk=filters.workflow_id)
        stats = run_stats(request.workspace, workflow=workflow)
    context = {
        "form": form,
        "page": page,
        "following": following,
        "first_page": f"?{query.urlencode()}" if cursor_text else None,
        "bad_cursor": bad_cursor,
        "filtered": any(form.cleaned_data.get(name) for name in form.fields)
        if form.is_bound
        else False,
        "workflow": workflow,
        "stats": stats,
        "retention_days": request.workspace.run_retention_days,
        "statuses": Run.Status,
    }
    return render(request, "runs/list.html", context)


def _run_for(request: HttpRequest, pk: int) -> Run:
    return get_for_workspace_or_404(
        Run.objects.select_related("workflow", "workflow__published_version", "version"),
        request.workspace,
        pk=pk,
    )


def _confirm_page(
    request: HttpRequest, form: ReplayForm, plans: list[ReplayPlan], refused: list[tuple[Run, str]]
) -> HttpResponse:
    return render(
        request,
        "runs/replay_confirm.html",
        {"form": form, "plans": plans, "refused": refused, "single": len(plans) == 1},
    )


@workspace_required
@require_POST
def run_replay_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Replay one run; first ask when it would repeat a send, a consent change or a delete."""
    run = _run_for(request, pk)
    form = ReplayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose where the replay starts and which version it runs.")
        return redirect("run_detail", run.pk)
    try:
        plan = replay_plan(
            run=run, start=form.cleaned_data["start"], version=form.cleaned_data["version"]
        )
    except ReplayRefused as refused:
        messages.error(request, str(refused))
        return redirect("run_detail", run.pk)
    if plan.needs_confirmation and not form.cleaned_data["confirm"]:
        return _confirm_page(request, form, [plan], [])
    replay = run_replay(plan=plan)
    messages.success(request, f"Replaying run {run.pk} as run {replay.pk}.")
    return redirect("run_detail", replay.pk)


def _selected_ids(request: HttpRequest) -> list[int]:
    ids: list[int] = []
    for value in request.POST.getlist("run"):
        if value.isdigit() and 0 < int(value) < 2**63 and int(value) not in ids:
            ids.append(int(value))
    return ids[:MAX_SELECTED]


@workspace_required
@require_POST
def runs_replay(request: HttpRequest) -> HttpResponse:
    """Replay the runs selected on the list, after one confirmation naming what would repeat."""
    back = reverse("run_list") + _list_query(request)
    ids = _selected_ids(request)
    if not ids:
        messages.error(request, "Select the runs to replay first.")
        return redirect(back)
    form = ReplayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose where the replays start and which version they run.")
        return redirect(back)
    runs = (
        Run.objects.for_workspace(request.workspace)
        .select_related("workflow", "workflow__published_version", "version")
        .filter(pk__in=ids)
        .order_by("-created_at", "-id")
    )
    plans, refused = [], []
    for run in runs:
        try:
            plans.append(
                replay_plan(
                    run=run,
                    start=form.cleaned_data["start"],
                    version=form.cleaned_data["version"],
                )
            )
        except ReplayRefused as why:
            refused.append((run, str(why)))
    confirmed = form.cleaned_data["confirm"]
    if not confirmed and (refused or any(plan.needs_confirmation for plan in plans)):
        return _confirm_page(request, form, plans, refused)
    replays = [run_replay(plan=plan) for plan in plans]
    if replays:
        messages.success(request, f"Started {len(replays)} replay{'s' * (len(replays) != 1)}.")
    for run, why in refused:
        messages.error(request, f"Run {run.pk} was not replayed: {why}")
    return redirect(reverse("run_list") + "?trigger=replay")


def _list_query(request: HttpRequest) -> str:
    """The list's filters a form on it carried along (`back`), to return to the same list."""
    back = request.POST.get("back", "")
    return back if back.startswith("?") and len(back) < 2000 else ""


@workspace_required
@require_POST
def run_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a queued, waiting or running run (a running one stops between its steps)."""
    run = _run_for(request, pk)
    if run.is_finished:
        messages.info(request, f"Run {run.pk} had already ended ({run.get_status_display()}).")
    else:
        run = run_cancel(run=run)
        if run.is_finished:
            messages.success(request, f"Canceled run {run.pk}.")
        else:
            messages.success(request, f"Run {run.pk} stops after the step it is on.")
    return redirect("run_detail", run.pk)


@workspace_required
@require_POST
def run_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a finished run with its steps and attempts."""
    run = _run_for(request, pk)
    try:
        run_delete(run=run)
    except RunBusy as busy:
        messages.error(request, str(busy))
        return redirect("run_detail", run.pk)
    messages.success(request, f"Deleted run {pk}.")
    return redirect(reverse("run_list") + _list_query(request))


@workspace_required
@require_safe
def run_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the run as JSON: what the API's GET /runs/<id> answers (secrets redacted)."""
    run = _run_for(request, pk)
    document = {"format": "stepbuilder.run/1", **run_json(run)}
    response = HttpResponse(
        json.dumps(document, indent=2, ensure_ascii=False) + "\n",
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = content_disposition_header(True, f"run-{run.pk}.json")
    return response
