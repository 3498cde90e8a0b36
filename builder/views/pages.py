"""The dashboard and the sections whose content arrives with later work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from builder.selectors import workspace_memberships
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
        },
    )


SECTIONS = {
    "runs": {
        "title": "Runs",
        "lead": "Every run of every workflow, live while it runs.",
        "coming": [
            "Each step's resolved input, output and error.",
            "Every HTTP attempt with status, timing and rate-limit wait.",
            "Replay a failed run.",
        ],
    },
}


def section(name: str):  # type: ignore[no-untyped-def]
    """Return a view for a section of the app that is still empty."""

    @workspace_required
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "pages/section.html", {"section": SECTIONS[name], "name": name})

    view.__name__ = f"{name}_page"
    return view
