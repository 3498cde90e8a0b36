"""Catalog pages: search the 225 Klaviyo actions and read one action's inputs and outputs."""

from __future__ import annotations

from itertools import groupby

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from builder.workspaces import workspace_required
from integrations.klaviyo.catalog import UnknownAction, categories, get_action, list_actions
from integrations.klaviyo.schema_view import input_rows, output_rows


@require_safe
@workspace_required
@vary_on_headers("HX-Request")
def catalog(request: HttpRequest) -> HttpResponse:
    """List actions grouped by category; htmx requests get just the results."""
    query = request.GET.get("q", "").strip()
    category = request.GET.get("category", "")
    actions = list_actions(category=category or None, query=query or None)
    grouped = [
        (name, list(items))
        for name, items in groupby(sorted(actions, key=lambda a: a.category), lambda a: a.category)
    ]
    context = {
        "groups": grouped,
        "count": len(actions),
        "query": query,
        "category": category,
        "categories": categories(),
    }
    # A history restore (back button after hx-push-url) needs the whole page, not the results.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "catalog/_results.html" if partial else "catalog/list.html"
    return render(request, template, context)


@require_safe
@workspace_required
def action_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        action = get_action(key)
    except UnknownAction as error:
        raise Http404(str(error)) from error
    return render(
        request,
        "catalog/detail.html",
        {
            "action": action,
            "inputs": input_rows(action.input_schema),
            "outputs": output_rows(action.output_schema),
        },
    )
