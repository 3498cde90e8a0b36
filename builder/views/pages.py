"""The dashboard: the workspace at a glance."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from builder.selectors import workspace_memberships
from builder.selectors.run_stats import run_stats
from builder.workspaces import workspace_required


@workspace_required
def dashboard(request: HttpRequest) -> HttpResponse:
    from integrations.klaviyo.catalog import all_actions
    from integrations.selectors import connections_of_workspace

    connections = connections_of_workspace(request.workspace)
    return render(
        request,
        "pages/dashboard.html",
        {
            "member_count": workspace_memberships(request.workspace).count(),
            "connection_count": connections.count(),
            "healthy_count": connections.filter(status="healthy").count(),
            "action_count": len(all_actions()),
            "stats": run_stats(request.workspace),
        },
    )
