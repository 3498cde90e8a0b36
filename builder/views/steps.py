"""The editor's step views: the action picker, adding and arranging steps, a step's form, the
data picker and Test step. Each change goes through `builder.services.editor`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from builder.engine.kinds import step_title
from builder.engine.typecheck import Scope
from builder.forms.reading import read_form
from builder.forms.steps import (
    data_nodes,
    only_lists,
    read_settings,
)
from builder.forms.widgets import FieldError
from builder.models import Run, Workflow
from builder.selectors import search_steps
from builder.services.editor import (
    DraftRefused,
    EditRefused,
    step_add,
    step_delete,
    step_duplicate,
    step_move,
    step_order,
    step_rename,
    step_replace,
    step_test_start,
)
from builder.strictjson import JsonRefused, loads
from builder.views.editor_page import (
    Editor,
    answer,
    editor_url,
    input_schema_of,
    refusals,
    step_doc,
    steps_of,
    workflow_for,
)
from builder.workspaces import workspace_required


def _position(source: Any) -> int | None:
    """Return where the picker was opened to add a step (None: at the end)."""
    text = str(source.get("position", "")).strip()
    return int(text) if text.isdigit() and len(text) < 5 else None


@require_safe
@workspace_required
def action_picker(request: HttpRequest, pk: int) -> HttpResponse:
    """List the actions to add as a step, searchable; htmx gets just the results."""
    workflow = workflow_for(request, pk)
    query = request.GET.get("q", "").strip()[:200]
    groups = search_steps(query)
    context = {
        "workflow": workflow,
        "groups": groups,
        "count": sum(len(items) for _, items in groups),
        "query": query,
        "position": _position(request.GET),
    }
    if request.htmx and request.GET.get("part") == "results":
        return render(request, "editor/_picker_results.html", context)
    if request.htmx:
        return render(request, "editor/_picker.html", context)
    return render(request, "editor/picker.html", context)


@require_POST
@workspace_required
def step_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = workflow_for(request, pk)
    try:
        key = step_add(
            workflow=workflow,
            action=request.POST.get("action", ""),
            position=_position(request.POST),
        )
    except EditRefused as refused:
        messages.error(request, str(refused))
        return redirect(editor_url(workflow))
    return redirect(editor_url(workflow, key))


def _refusable(
    change: Any, request: HttpRequest, workflow: Workflow, key: str | None
) -> HttpResponse:
    try:
        result = change()
    except EditRefused as refused:
        if request.htmx:
            return HttpResponse(str(refused), status=400)
        messages.error(request, str(refused))
        return redirect(editor_url(workflow))
    return redirect(editor_url(workflow, result if isinstance(result, str) else key))


@require_POST
@workspace_required
def step_order_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the steps in the dragged order (`order`: the keys, comma-separated)."""
    workflow = workflow_for(request, pk)
    keys = [k for k in request.POST.get("order", "").split(",") if k][:500]
    response = _refusable(lambda: step_order(workflow=workflow, keys=keys), request, workflow, None)
    if request.htmx and response.status_code == 302:
        return answer(request, workflow)
    return response


@require_POST
@workspace_required
def step_move_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _refusable(
        lambda: step_move(workflow=workflow, key=key, offset=offset), request, workflow, key
    )


@require_POST
@workspace_required
def step_duplicate_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    return _refusable(lambda: step_duplicate(workflow=workflow, key=key), request, workflow, key)


@require_POST
@workspace_required
def step_delete_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    response = _refusable(lambda: step_delete(workflow=workflow, key=key), request, workflow, None)
    if response.status_code == 302:
        messages.success(request, f"Step “{key}” deleted.")
    return response


@require_POST
@workspace_required
def step_rename_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Give the step a new key; references to it in later steps follow."""
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    new_key = request.POST.get("new_key", "")[:100].strip()

    def change() -> str:
        step_rename(workflow=workflow, key=key, new_key=new_key)
        return new_key

    return _refusable(change, request, workflow, key)


# --- one step's form --------------------------------------------------------------------------


@require_POST
@workspace_required
def step_save(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Save a step's input and settings from its form (autosave posts here too)."""
    workflow = workflow_for(request, pk)
    doc = step_doc(workflow, key)
    value, input_errors = read_form(
        input_schema_of(str(doc.get("action", ""))), request.POST, request.FILES
    )
    step, setting_errors = read_settings(request.POST, doc)
    errors: list[tuple[str | None, FieldError]] = [(key, e) for e in input_errors + setting_errors]
    if not errors:
        step["input"] = value
        try:
            step_replace(workflow=workflow, key=key, step=step)
        except DraftRefused as refused:
            errors = refusals(key, refused)
    return answer(request, workflow, key=key, errors=errors)


@require_safe
@workspace_required
def data_picker(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Show the data a step can map: the trigger's fields and every upstream step's outputs."""
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    editor = Editor(workflow)
    scope = editor.scopes.get(key) or Scope()
    sources = [data_nodes("trigger", "Trigger", scope.trigger, editor.trigger_sample)]
    titles = {
        str(s.get("key")): s.get("name") or step_title(str(s.get("action")))
        for s in steps_of(workflow)
    }
    for step_key, schema in scope.steps.items():
        node = data_nodes(
            f"steps.{step_key}",
            f"{titles.get(step_key, step_key)} ({step_key})",
            schema,
            editor.samples.get(step_key),
        )
        sources.append(node)
    if scope.item is not None:
        sources.append(data_nodes("item", "For-each item", scope.item))
        sources.append(data_nodes("item_index", "For-each item number", {"type": "integer"}))
    want = request.GET.get("want", "")
    if want == "array":
        sources = [kept for node in sources if (kept := only_lists(node)) is not None]
    context = {"workflow": workflow, "key": key, "sources": sources, "want": want}
    template = "editor/_data_picker.html" if request.htmx else "editor/data_picker.html"
    return render(request, template, context)


# --- Test step ----------------------------------------------------------------------------------


def _read_samples(
    request: HttpRequest, workflow: Workflow, key: str, stored: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    samples: dict[str, Any] = {}
    errors: list[FieldError] = []
    for step in steps_of(workflow):
        step_key = str(step.get("key"))
        if step_key == key:
            break
        typed = request.POST.get(f"sample/{step_key}", "").strip()
        if typed:
            try:
                value = loads(typed)
            except JsonRefused as error:
                errors.append(FieldError("/test", f"The sample for “{step_key}”: {error}."))
                continue
            samples[step_key] = (
                value
                if isinstance(value, dict) and "data" in value
                else {"successful": True, "error": None, "data": value}
            )
        elif step_key in stored:
            samples[step_key] = stored[step_key]
    return samples, errors


def _test_result(request: HttpRequest, editor: Editor, key: str, run: Run) -> HttpResponse:
    """Show a test run's result in the step's card: polled by htmx until it ends."""
    workflow = editor.workflow
    if not request.htmx:
        return redirect(f"{editor_url(workflow, key).split('#')[0]}&test={run.pk}#step-{key}")
    index = next(i for i, s in enumerate(steps_of(workflow)) if s.get("key") == key)
    card = editor.card(index, step_doc(workflow, key), test=run)
    return render(request, "editor/_test_result.html", {"workflow": workflow, "card": card})


@require_POST
@workspace_required
def step_test(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Run only this step now, through the worker, with the test data posted and the samples."""
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    editor = Editor(workflow)
    trigger_schema = editor.definition.input_schema or {"type": "object"}
    trigger, errors = read_form(
        trigger_schema, request.POST, request.FILES, prefix="sample", pointer="/test/trigger"
    )
    samples, more = _read_samples(request, workflow, key, editor.samples)
    errors += more
    if errors:
        return answer(request, workflow, key=key, errors=[(key, e) for e in errors])
    try:
        run = step_test_start(workflow=workflow, key=key, trigger=trigger, samples=samples)
    except DraftRefused as refused:
        return answer(request, workflow, key=key, errors=refusals(key, refused))
    return _test_result(request, editor, key, run)


@require_safe
@workspace_required
def step_test_result(request: HttpRequest, pk: int, key: str, run_id: int) -> HttpResponse:
    """Show how a test of the step went (htmx polls this while it runs)."""
    workflow = workflow_for(request, pk)
    step_doc(workflow, key)
    run = (
        Run.objects.for_workspace(request.workspace)
        .filter(workflow=workflow, test_step=key, trigger_kind=Run.Trigger.TEST, pk=run_id)
        .first()
    )
    if run is None:
        raise Http404("There is no such test of this step.")
    return _test_result(request, Editor(workflow), key, run)
