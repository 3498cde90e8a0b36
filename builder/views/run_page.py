"""The page of one run: its steps on a timeline, their inputs, outputs, errors and HTTP attempts.

While the run goes on, the part that changes (templates/runs/_live.html) polls this same URL with
`?live=1` and is swapped by htmx; the fragment of an ended run has no trigger, so polling stops
by itself (STYLE.md 8). What is done to the run (replay, cancel, delete, export) is posted to
builder/views/runs.py.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

from builder.models import Run
from builder.selectors.run_detail import run_timeline
from builder.workspaces import get_for_workspace_or_404, workspace_required


@require_safe
@workspace_required
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the run; with `?live=1`, just the part of the page that changes while it runs."""
    run = get_for_workspace_or_404(
        Run.objects.select_related("workflow", "workflow__published_version", "version"),
        request.workspace,
        pk=pk,
    )
    context = {"run": run, "timeline": run_timeline(run)}
    if request.GET.get("live") == "1":
        response = render(request, "runs/_live.html", context)
        add_never_cache_headers(response)  # a poll must never be answered from a cache
        return response
    return render(request, "runs/detail.html", context)
