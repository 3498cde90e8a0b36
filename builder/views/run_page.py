"""Run pages: one run with its steps, their resolved inputs, outputs, errors and HTTP attempts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from builder.api.serializers import run_json
from builder.models import Run
from builder.workspaces import get_for_workspace_or_404, workspace_required


@require_safe
@workspace_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_for_workspace_or_404(
        Run.objects.select_related("workflow", "version"), request.workspace, pk=pk
    )
    return render(request, "runs/detail.html", {"run": run, "data": run_json(run)})
