"""The visual editor of one workflow: trigger and step cards, pickers, Test step, Publish, Run now.

Every change posts to its own URL, is saved into the draft through `builder.services.editor`
(so the one validator checks it) and answers the editor page, or for htmx the parts that
changed: the problems in the header, a step card. Links and forms work without JavaScript;
static/js/editor.js adds autosave, the pickers' dialogs and drag to reorder.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from builder.engine.definition import WorkflowProblem
from builder.forms.reading import read_form
from builder.forms.schema import FormRenderer
from builder.forms.steps import (
    read_trigger_fields,
)
from builder.forms.widgets import FieldError
from builder.models import Run
from builder.services.editor import (
    DraftRefused,
    settings_replace,
    trigger_replace,
)
from builder.services.runs import NotPublished, PayloadInvalid, run_start
from builder.services.workflows import (
    WorkflowInvalid,
    errors_of,
    workflow_notices_set,
    workflow_publish,
)
from builder.views.editor_page import (
    Editor,
    answer,
    card_response,
    editor_url,
    page_context,
    refusals,
    workflow_for,
)
from builder.workspaces import workspace_required


@require_safe
@workspace_required
def editor(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the editor; htmx asking for `?card=<key>` gets that step's card, opened."""
    workflow = workflow_for(request, pk)
    card_key = request.GET.get("card", "")
    if request.htmx and card_key:
        return card_response(request, Editor(workflow), card_key)
    test_id = request.GET.get("test", "")
    test = None
    if test_id.isdigit() and len(test_id) < 19:
        test = Run.objects.filter(
            workflow=workflow, trigger_kind=Run.Trigger.TEST, pk=int(test_id)
        ).first()
    return render(request, "editor/editor.html", page_context(request, Editor(workflow), test=test))


@require_POST
@workspace_required
def workflow_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the workflow's name, description, concurrency limit and failure emails."""
    workflow = workflow_for(request, pk)
    if "notify_failures_shown" in request.POST:
        workflow_notices_set(workflow=workflow, on="notify_failures" in request.POST)
    errors: list[tuple[str | None, FieldError]] = []
    limit_text = request.POST.get("max_concurrent_runs", "0").strip() or "0"
    limit = int(limit_text) if limit_text.isdigit() and len(limit_text) < 7 else None
    if limit is None:
        errors.append((None, FieldError("/max_concurrent_runs", "Enter 0 (no limit) or more.")))
    if not errors:
        try:
            settings_replace(
                workflow=workflow,
                name=request.POST.get("name", "").strip(),
                description=request.POST.get("description", "").strip(),
                max_concurrent_runs=limit or 0,
            )
        except DraftRefused as refused:
            errors = refusals(None, refused)
    return answer(request, workflow, errors=errors)


@require_POST
@workspace_required
def trigger_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the manual trigger's input fields from the field builder."""
    workflow = workflow_for(request, pk)
    schema, found = read_trigger_fields(request.POST)
    errors: list[tuple[str | None, FieldError]] = [(None, e) for e in found]
    if not errors:
        try:
            trigger_replace(workflow=workflow, input_schema=schema)
        except DraftRefused as refused:
            errors = refusals(None, refused)
    return answer(request, workflow, errors=errors)


@require_POST
@workspace_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Freeze the draft as a new version, or list the problems that stop it."""
    workflow = workflow_for(request, pk)
    try:
        version = workflow_publish(workflow=workflow, user=request.user)
    except WorkflowInvalid as invalid:
        editor = Editor(workflow)
        count = len(errors_of(invalid.problems))
        context = page_context(request, editor, publish_refused=count)
        return render(request, "editor/editor.html", context, status=400)
    messages.success(request, f"Published version {version.number}. Run now uses it.")
    return redirect(editor_url(workflow))


@workspace_required
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a form of the trigger's fields (GET) and start a run of the published version (POST)."""
    workflow = workflow_for(request, pk)
    version = workflow.published_version
    schema = (version.definition.get("trigger") or {}).get("input_schema") if version else None
    schema = schema if isinstance(schema, dict) else {"type": "object"}
    renderer = FormRenderer(id_prefix="run", mapping=False)
    value: dict[str, Any] = {}
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        value, errors = read_form(schema, request.POST, request.FILES)
        problems = [WorkflowProblem(None, e.pointer, e.message) for e in errors]
        if not problems:
            try:
                run = run_start(workflow=workflow, payload=value)
            except NotPublished as error:
                messages.error(request, str(error))
                return redirect(editor_url(workflow))
            except PayloadInvalid as invalid:
                problems = invalid.problems
            else:
                return redirect("run_detail", pk=run.pk)
        status = 400
    elif request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405)
    context = {
        "workflow": workflow,
        "version": version,
        # A trigger without fields takes an empty object: nothing to fill in.
        "form": renderer.form(schema, value) if schema.get("properties") else "",
        "problems": problems,
    }
    return render(request, "editor/run_now.html", context, status=status)


# --- adding and arranging steps ---------------------------------------------------------------
