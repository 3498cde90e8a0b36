"""The workflow pages: the list, new, duplicate, delete, enable, import, export, versions, restore.

The editor of one workflow is builder/views/editor.py; these pages only send people there.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from builder.models import Run, Workflow
from builder.selectors import draft_differs, workflow_rows
from builder.services import workflows as workflow_service
from builder.services.workflows import WorkflowFileRefused
from builder.triggers.services import TriggerArmError
from builder.views.editor_page import workflow_for
from builder.workspaces import get_for_workspace_or_404, workspace_required
from integrations.models import Connection
from integrations.selectors import connections_of_workspace

CONNECTION_FIELD = "connection__"  # + a connection name in the file: the import's mapping selects


def _editor(workflow: Workflow) -> HttpResponse:
    return redirect("workflow_editor", workflow.pk)


@workspace_required
@require_safe
def workflow_list(request: HttpRequest) -> HttpResponse:
    """List the workspace's workflows: status, last run, runs of the last 7 days, actions."""
    return render(request, "workflows/list.html", {"rows": workflow_rows(request.workspace)})


@workspace_required
@require_POST
def workflow_new(request: HttpRequest) -> HttpResponse:
    """Create an untitled workflow (a manual trigger, no step) and open it in the editor."""
    workflow = workflow_service.workflow_create_blank(
        workspace=request.workspace, user=request.user
    )
    messages.success(request, f"Created “{workflow.name}”; add its first step.")
    return _editor(workflow)


@workspace_required
@require_POST
def workflow_duplicate(request: HttpRequest, pk: int) -> HttpResponse:
    """Copy a workflow's draft into a new workflow "<name> (copy)" and open the copy."""
    copy = workflow_service.workflow_duplicate(
        workflow=workflow_for(request, pk), user=request.user
    )
    messages.success(request, f"Created “{copy.name}”, a copy of the draft.")
    return _editor(copy)


@workspace_required
@require_http_methods(["GET", "HEAD", "POST"])
def workflow_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: ask, saying what goes with the workflow. POST: delete it with its versions and runs."""
    workflow = workflow_for(request, pk)
    if request.method == "POST":
        try:
            workflow_service.workflow_delete(workflow=workflow)
        except workflow_service.WorkflowBusy as busy:
            messages.error(request, _busy(busy.running))
            return redirect("workflow_delete", workflow.pk)
        messages.success(request, f"Deleted “{workflow.name}”.")
        return redirect("workflow_list")
    running = workflow.runs.filter(status=Run.Status.RUNNING).count()
    return render(
        request,
        "workflows/delete.html",
        {
            "workflow": workflow,
            "run_count": workflow.runs.count(),
            "version_count": workflow.versions.count(),
            "busy": _busy(running) if running else "",
        },
    )


def _busy(running: int) -> str:
    if running == 1:
        return "1 run is running right now: wait until it finishes (or cancel it), then delete."
    return (
        f"{running} runs are running right now: wait until they finish (or cancel them), "
        "then delete."
    )


@workspace_required
@require_POST
def workflow_enabled(request: HttpRequest, pk: int) -> HttpResponse:
    """Switch the workflow on (`enabled=on`) or off (no `enabled`); go back to `next`."""
    workflow = workflow_for(request, pk)
    value = request.POST.get("enabled")
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("workflow_list")
    if value not in (None, "on"):
        messages.error(request, "Nothing changed: send enabled=on to enable, nothing to disable.")
    else:
        try:
            # A page cannot show a signing secret once and safely after a redirect: the trigger
            # card's Regenerate URL makes one and shows it in its own answer.
            synced = workflow_service.workflow_set_enabled(
                workflow=workflow, enabled=value == "on", make_secret=False
            )
        except TriggerArmError as error:
            messages.error(
                request, f"“{workflow.name}” is enabled, but its trigger is off: {error}"
            )
            return HttpResponseRedirect(target)
        state = (
            "enabled"
            if workflow.enabled
            else "disabled: its trigger starts no runs by itself (Run now and the API still can)"
        )
        if synced.secret_missing:
            state += (
                ". Its webhook has no signing secret yet: press Regenerate URL on its trigger "
                "card to get one (deliveries are refused until then)"
            )
        messages.success(request, f"“{workflow.name}” is {state}.")
    # A URL, never a view name: redirect() would try to reverse an odd `next` (a 500).
    return HttpResponseRedirect(target)


@workspace_required
@require_safe
def workflow_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the draft (or `?version=N`) as a workflow file: connections by name, no secret."""
    workflow = workflow_for(request, pk)
    name = slugify(workflow.name) or "workflow"
    if "version" in request.GET:
        version = get_object_or_404(workflow.versions, number=_number(request.GET["version"]))
        document = workflow_service.workflow_version_export(version=version)
        name = f"{name}-v{version.number}"
    else:
        document = workflow_service.workflow_export(workflow=workflow)
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{name}.json")
    return response


def _number(text: str) -> int:
    """Return a version number from a query parameter; 404 for anything else."""
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        raise Http404("No such version.")
    return int(text)


@workspace_required
@require_safe
def workflow_versions(request: HttpRequest, pk: int) -> HttpResponse:
    """List the published versions, newest first, each with what changed since the one before."""
    workflow = get_for_workspace_or_404(
        Workflow.objects.select_related("published_version"), request.workspace, pk=pk
    )
    versions = list(workflow.versions.select_related("published_by").order_by("number"))
    entries = []
    previous = None
    for version in versions:
        changes = workflow_service.version_changes(
            previous.definition if previous else None, version.definition
        )
        entries.append({"version": version, "changes": changes})
        previous = version
    latest = versions[-1] if versions else None
    return render(
        request,
        "workflows/versions.html",
        {
            "workflow": workflow,
            "entries": entries[::-1],
            "latest": latest,
            "draft_changed": draft_differs(workflow),
            "draft_changes": (
                workflow_service.version_changes(latest.definition, workflow.definition)
                if latest
                else []
            ),
        },
    )


@workspace_required
@require_POST
def workflow_restore(request: HttpRequest, pk: int, number: int) -> HttpResponse:
    """Put a version's definition back as the draft (publishing it again is the editor's job)."""
    workflow = workflow_for(request, pk)
    version = get_object_or_404(workflow.versions, number=number)
    workflow_service.workflow_update(workflow=workflow, definition=version.definition)
    messages.success(request, f"Version {version.number} restored as the draft.")
    return _editor(workflow)


# --- Import --------------------------------------------------------------------------------------


class WorkflowFileForm(forms.Form):
    """The import page's upload: a workflow file, read by `workflow_file_read`."""

    file = forms.FileField(
        label="Workflow file",
        help_text="A .json file in the workflow format, such as an export (at most 2 MB).",
        error_messages={"required": "Choose a workflow file (.json) to import."},
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self) -> dict[str, Any]:
        upload = self.cleaned_data["file"]
        if upload.size > workflow_service.MAX_FILE_BYTES:  # refused before reading it
            raise forms.ValidationError(
                "The file is larger than 2 MB; a workflow file is far smaller."
            )
        try:
            return workflow_service.workflow_file_read(upload.read())
        except WorkflowFileRefused as refused:
            raise forms.ValidationError(str(refused)) from refused


@workspace_required
@require_http_methods(["GET", "HEAD", "POST"])
def workflow_import(request: HttpRequest) -> HttpResponse:
    """Import a workflow file in two steps.

    1. The file (`file`) is read and previewed: its problems, and a select for each connection
       it names that this workspace lacks.
    2. The preview posts the document back (`document`, read and validated again: it came from
       the browser) with the chosen connections, and the workflow is created as a draft.
    """
    if request.method != "POST":
        return render(request, "workflows/import.html", {"form": WorkflowFileForm()})
    if "document" in request.POST:
        return _import_create(request)
    form = WorkflowFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "workflows/import.html", {"form": form}, status=400)
    return _import_preview(request, form.cleaned_data["file"])


def _import_connections(request: HttpRequest) -> list[Connection]:
    return list(
        connections_of_workspace(request.workspace).exclude(status=Connection.Status.REVOKED)
    )


def _import_preview(
    request: HttpRequest,
    document: dict[str, Any],
    *,
    errors: list[str] | None = None,
    chosen: dict[str, str] | None = None,
) -> HttpResponse:
    parsed, problems = workflow_service.workflow_validate(
        definition=document, workspace=request.workspace
    )
    missing = workflow_service.import_missing_connections(
        document=document, workspace=request.workspace
    )
    chosen = chosen or {}
    return render(
        request,
        "workflows/import_preview.html",
        {
            "definition": parsed,
            "problems": problems,
            "error_count": len(workflow_service.errors_of(problems)),
            "mappings": [
                {"name": name, "field": CONNECTION_FIELD + name, "chosen": chosen.get(name, "")}
                for name in missing
            ],
            "connections": _import_connections(request),
            # ASCII only (\\u escapes), so the hidden field survives any browser and encoding.
            "document": json.dumps(document, separators=(",", ":")),
            "errors": errors or [],
        },
        status=400 if errors else 200,
    )


def _import_create(request: HttpRequest) -> HttpResponse:
    try:
        document = workflow_service.workflow_file_read(request.POST["document"])
    except WorkflowFileRefused as refused:
        context = {"form": WorkflowFileForm(), "error": f"{refused} Choose the file again."}
        return render(request, "workflows/import.html", context, status=400)
    by_pk = {str(connection.pk): connection for connection in _import_connections(request)}
    chosen: dict[str, str] = {}
    mapping: dict[str, Connection] = {}
    errors = []
    for name in workflow_service.import_missing_connections(
        document=document, workspace=request.workspace
    ):
        value = request.POST.get(CONNECTION_FIELD + name, "")
        if not value:
            continue
        chosen[name] = value
        if value in by_pk:
            mapping[name] = by_pk[value]
        else:
            errors.append(f"Choose one of this workspace's connections for “{name}”.")
    if errors:
        return _import_preview(request, document, errors=errors, chosen=chosen)
    workflow, problems = workflow_service.workflow_import(
        workspace=request.workspace, user=request.user, document=document, connections=mapping
    )
    errors_left = workflow_service.errors_of(problems)
    if errors_left:
        listed = "; ".join(
            f"{problem.step or 'workflow'}{problem.field}: {problem.message}"
            for problem in errors_left[:3]
        )
        more = f" (and {len(errors_left) - 3} more)" if len(errors_left) > 3 else ""
        messages.warning(
            request,
            f"Imported “{workflow.name}” as a draft with {len(errors_left)} "
            f"problem{'' if len(errors_left) == 1 else 's'} to fix before publishing: "
            f"{listed}{more}.",
        )
    else:
        messages.success(request, f"Imported “{workflow.name}” as a draft, ready to publish.")
    return _editor(workflow)
