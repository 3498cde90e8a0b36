"""The dashboard and the sections whose content arrives with later work."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from builder.selectors import workspace_memberships
from builder.workspaces import workspace_required


@workspace_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pages/dashboard.html",
        {"member_count": workspace_memberships(request.workspace).count()},
    )


SECTIONS = {
    "workflows": {
        "title": "Workflows",
        "lead": "Build multi-step workflows out of Klaviyo's 225 actions.",
        "coming": [
            "Pick a trigger: manual, schedule or webhook.",
            "Add steps from the catalog and fill forms generated from each action's schema.",
            "Map earlier outputs into later inputs, checked before you publish.",
        ],
    },
    "runs": {
        "title": "Runs",
        "lead": "Every run of every workflow, live while it runs.",
        "coming": [
            "Each step's resolved input, output and error.",
            "Every HTTP attempt with status, timing and rate-limit wait.",
            "Replay a failed run.",
        ],
    },
    "connections": {
        "title": "Connections",
        "lead": "Connect Klaviyo once and reuse it in every workflow of this workspace.",
        "coming": [
            "Private API key or OAuth2, tested when saved and stored encrypted.",
            "A built-in sandbox account with demo data for trying things safely.",
            "Health checks, token refresh and an event log per connection.",
        ],
    },
    "catalog": {
        "title": "Catalog",
        "lead": "All 225 Klaviyo actions, typed from Klaviyo's own API specification.",
        "coming": [
            "Search by name or category.",
            "Each action's inputs, outputs, required scopes and rate-limit tier.",
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
