"""The visual editor of one workflow: trigger and step cards, pickers, Test step, Publish, Run now.

Every change posts to its own URL, is saved into the draft through `builder.services.editor`
(so the one validator checks it) and answers the editor page, or for htmx the parts that
changed: the problems in the header, a step card. Links and forms work without JavaScript;
static/js/editor.js adds autosave, the pickers' dialogs and drag to reorder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST, require_safe

from builder.engine.builtins import BUILTINS, is_builtin
from builder.engine.definition import WorkflowProblem
from builder.engine.jobs import JOB_POLLS
from builder.engine.typecheck import Scope
from builder.forms.conditions import render_condition
from builder.forms.schema import FieldError, FormRenderer, field_id, label_of, read_form
from builder.forms.steps import (
    FIELD_TYPES,
    LIMITS,
    Chips,
    data_nodes,
    on_error_parts,
    only_lists,
    read_settings,
    read_trigger_fields,
    trigger_fields,
)
from builder.models import Run, StepRun, Workflow
from builder.services.editor import (
    EditRefused,
    action_title,
    settings_replace,
    step_add,
    step_delete,
    step_duplicate,
    step_move,
    step_order,
    step_rename,
    step_replace,
    step_test_start,
    trigger_replace,
)
from builder.services.runs import NotPublished, PayloadInvalid, run_start
from builder.services.workflows import (
    WorkflowInvalid,
    connection_facts,
    errors_of,
    workflow_publish,
    workflow_validate,
)
from builder.strictjson import JsonRefused, loads, text_problem
from builder.workspaces import get_for_workspace_or_404, workspace_required
from integrations.klaviyo.catalog import UnknownAction, get_action, list_actions

PICKER_CATEGORY_BUILTIN = "Built-in steps"


# --- reading the draft -------------------------------------------------------------------------


def _workflow(request: HttpRequest, pk: int) -> Workflow:
    return get_for_workspace_or_404(
        Workflow.objects.select_related("published_version"), request.workspace, pk=pk
    )


def _steps_of(workflow: Workflow) -> list[dict[str, Any]]:
    steps = (workflow.definition or {}).get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _step_doc(workflow: Workflow, key: str) -> dict[str, Any]:
    for step in _steps_of(workflow):
        if step.get("key") == key:
            return step
    raise Http404("There is no such step in this workflow.")


def _input_schema(action: str) -> dict[str, Any]:
    if is_builtin(action):
        builtin = BUILTINS.get(action)
        return builtin.input_schema if builtin else {"type": "object"}
    try:
        return get_action(action).input_schema
    except UnknownAction:
        return {"type": "object"}


def _action_facts(action: str) -> tuple[str, str, tuple[str, ...]]:
    """Return an action's category, side-effect class and OAuth scopes."""
    if is_builtin(action):
        builtin = BUILTINS.get(action)
        return PICKER_CATEGORY_BUILTIN, builtin.side_effect if builtin else "read", ()
    try:
        found = get_action(action)
    except UnknownAction:
        return "Unknown", "read", ()
    return found.category, found.side_effect, found.scopes


def samples_of(workflow: Workflow) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Return each step's last successful test output by key, and the last test's trigger data.

    Looks at the workflow's latest 100 tests (an index of its own keeps this quick however many
    runs the workflow has).
    """
    tests = Run.objects.filter(workflow=workflow, trigger_kind=Run.Trigger.TEST).order_by("-pk")
    tested = dict(tests.values_list("pk", "test_step")[:100])
    outputs = (
        StepRun.objects.filter(
            run_id__in=tested, status=StepRun.Status.SUCCEEDED, item_index__isnull=True
        )
        .order_by("-run_id")
        .values_list("run_id", "step_key", "output")
    )
    samples: dict[str, Any] = {}
    for run_id, key, output in outputs:
        if key == tested[run_id] and output is not None:
            samples.setdefault(key, output)
    trigger = tests.values_list("trigger_payload", flat=True).first() if tested else None
    return samples, trigger


@dataclass
class StepCard:
    index: int
    key: str
    doc: dict[str, Any]
    title: str
    action_name: str
    category: str
    side_effect: str
    form: str
    problems: list[WorkflowProblem] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    test: Run | None = None
    test_steps: list[StepRun] = field(default_factory=list)
    upstream_without_sample: list[str] = field(default_factory=list)
    trigger_form: str = ""
    run_if_form: str = ""
    #: False for a closed card whose body loads when it is opened.
    full: bool = True

    @property
    def error_count(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warning_count(self) -> int:
        return sum(1 for p in self.problems if p.severity != "error")


class Editor:
    """Everything the editor page shows of a workflow, built from one validation."""

    def __init__(
        self, workflow: Workflow, errors: list[tuple[str | None, FieldError]] | None = None
    ) -> None:
        self.workflow = workflow
        self.scopes: dict[str, Scope] = {}
        self.definition, problems = workflow_validate(
            definition=workflow.definition, workspace=workflow.workspace, scopes=self.scopes
        )
        self.problems = problems + [
            WorkflowProblem(key, e.pointer, e.message) for key, e in (errors or [])
        ]
        self.samples, self.trigger_sample = samples_of(workflow)
        self.connections = connection_facts(workflow.workspace)
        self._trigger_form: str | None = None

    @property
    def errors(self) -> list[WorkflowProblem]:
        return errors_of(self.problems)

    def card(
        self, index: int, doc: dict[str, Any], test: Run | None = None, *, full: bool = True
    ) -> StepCard:
        """Return a step's card; without `full`, only its summary (the body loads when opened)."""
        key = str(doc.get("key", ""))
        action = str(doc.get("action", ""))
        category, side_effect, scopes = _action_facts(action)
        problems = [p for p in self.problems if p.step == key]
        title = str(doc.get("name") or action_title(action))
        if not full:
            return StepCard(index, key, doc, title, action_title(action), category, side_effect,
                            form="", problems=problems, full=False)  # fmt: skip
        values = {"trigger": self.trigger_sample or {}, "steps": self.samples}
        renderer = FormRenderer(id_prefix=f"f-{key}", chips=Chips(self.scopes.get(key), values))
        form = renderer.form(_input_schema(action), doc.get("input"))
        mode, retries = on_error_parts(doc.get("on_error", "stop"))
        for_each = doc.get("for_each")
        if isinstance(for_each, str):
            for_each = {"items": for_each}
        connection = doc.get("connection")
        facts = self.connections.get(connection) if isinstance(connection, str) else None
        missing_scopes = sorted(set(scopes) - facts.scopes) if facts and facts.scopes else []
        upstream = [str(s.get("key")) for s in _steps_of(self.workflow)[:index]]
        card = StepCard(
            index=index,
            key=key,
            doc=doc,
            title=title,
            action_name=action_title(action),
            category=category,
            side_effect=side_effect,
            form=form,
            problems=problems,
            settings={
                "connection": connection or "",
                "missing_scopes": missing_scopes,
                "needs_connection": not is_builtin(action),
                "on_error": mode,
                "retries": retries,
                "run_if": bool(doc.get("run_if")),
                "for_each": for_each if isinstance(for_each, dict) else {},
                "await_job": bool(doc.get("await_job")),
                "job_action": action in JOB_POLLS,
                "timeout_seconds": doc.get("timeout_seconds", ""),
            },
            upstream_without_sample=[k for k in upstream if k not in self.samples],
            trigger_form=self.trigger_form(key),
            run_if_form=render_condition(
                doc.get("run_if"),
                prefix="s/run_if",
                ident=f"f-{key}-run_if",
                pointer="/run_if",
                legend="Run if",
                always="Always run",
            ),
        )
        if test is not None:
            card.test = test
            card.test_steps = list(test.steps.prefetch_related("attempts").order_by("pk"))
        return card

    def trigger_form(self, key: str) -> str:
        """Return the Test step's form of trigger data, filled with the last test's."""
        if self._trigger_form is None:
            schema = self.definition.input_schema or {}
            renderer = FormRenderer(
                prefix="sample", id_prefix="sample-\x00", pointer="/test/trigger", mapping=False
            )
            form = renderer.form(schema, self.trigger_sample or {})
            self._trigger_form = form if schema.get("properties") else ""
        # The same form in every card, but each with ids of its own.
        return mark_safe(self._trigger_form.replace("\x00", key))  # noqa: S308 - escaped once

    def cards(self, open_key: str = "", test: Run | None = None) -> list[StepCard]:
        """Return every step's card: in full the open one (and a tested one), the others closed,
        their forms loaded when opened, so a long workflow's page stays light."""
        cards = []
        for i, doc in enumerate(_steps_of(self.workflow)):
            key = doc.get("key")
            tested = test if test is not None and test.test_step == key else None
            cards.append(self.card(i, doc, tested, full=key == open_key or tested is not None))
        return cards


def _field_name(pointer: str) -> str:
    """Return the words for the field a problem's pointer names ("/input/list_id" → "List ID")."""
    parts = [part for part in pointer.split("/") if part and not part.isdigit()]
    if not parts:
        return ""
    if parts[0] == "input":
        return label_of(parts[-1].replace("~1", "/").replace("~0", "~")) if len(parts) > 1 else ""
    return label_of(parts[0])


def _problem_links(editor: Editor) -> list[dict[str, Any]]:
    """Return the problems with the id of the field each links to and the field's name."""
    rows = []
    for problem in editor.problems:
        if problem.step:
            pointer = problem.field
            if not pointer.startswith("/input"):
                first = pointer.split("/")[1] if pointer.count("/") else ""
                pointer = {"for_each": "/for_each/items", "": ""}.get(first, f"/{first}")
            anchor = field_id(f"f-{problem.step}", pointer) if pointer else f"step-{problem.step}"
        else:
            anchor = "trigger" if problem.field.startswith("/trigger") else "workflow-settings"
        rows.append({"problem": problem, "anchor": anchor, "where": _field_name(problem.field)})
    return rows


def _context(request: HttpRequest, editor: Editor, **extra: Any) -> dict[str, Any]:
    workflow = editor.workflow
    document = workflow.definition if isinstance(workflow.definition, dict) else {}
    trigger = document.get("trigger") if isinstance(document.get("trigger"), dict) else {}
    test = extra.pop("test", None)
    open_step = extra.pop("open_step", None) or request.GET.get("step", "")
    return {
        "workflow": workflow,
        "document": document,
        "editor": editor,
        "cards": editor.cards(open_step, test),
        "problem_links": _problem_links(editor),
        "trigger_fields": trigger_fields(trigger.get("input_schema")),
        "field_types": [(key, label) for key, (label, _) in FIELD_TYPES.items()],
        "connections": list(editor.connections.values()),
        "limits": LIMITS,
        "open_step": open_step,
        "version_count": workflow.versions.count(),
        **extra,
    }


def _editor_url(workflow: Workflow, key: str | None = None) -> str:
    url = reverse("workflow_editor", args=[workflow.pk])
    return f"{url}?step={key}#step-{key}" if key else url


@require_safe
@workspace_required
def editor(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the editor; htmx asking for `?card=<key>` gets that step's card, opened."""
    workflow = _workflow(request, pk)
    card_key = request.GET.get("card", "")
    if request.htmx and card_key:
        return _card(request, Editor(workflow), card_key)
    test_id = request.GET.get("test", "")
    test = None
    if test_id.isdigit() and len(test_id) < 19:
        test = Run.objects.filter(
            workflow=workflow, trigger_kind=Run.Trigger.TEST, pk=int(test_id)
        ).first()
    return render(request, "editor/editor.html", _context(request, Editor(workflow), test=test))


def _card(request: HttpRequest, editor: Editor, key: str, status: int = 200) -> HttpResponse:
    """Render one step's card in full and open, with the header's problems out of band."""
    steps = _steps_of(editor.workflow)
    index = next((i for i, s in enumerate(steps) if s.get("key") == key), None)
    if index is None:
        raise Http404("There is no such step in this workflow.")
    context = {
        "editor": editor,
        "workflow": editor.workflow,
        "problem_links": _problem_links(editor),
        "cards": editor.cards(),
        "card": editor.card(index, steps[index]),
        "open_step": key,
        "connections": list(editor.connections.values()),
        "limits": LIMITS,
        "oob": True,
        "saved": True,
    }
    return render(request, "editor/_step_render.html", context, status=status)


def _unstorable(data: Any) -> list[tuple[str | None, FieldError]]:
    """Return an error for each posted text the database cannot store (a NUL, a lone surrogate)."""
    errors = []
    for name in data:
        for value in data.getlist(name):
            problem = text_problem(value) if isinstance(value, str) else None
            if problem:
                pointer = "/" + name.split("/", 1)[1] if "/" in name else f"/{name}"
                if name.startswith("in/"):
                    pointer = "/input" + pointer
                errors.append((None, FieldError(pointer, f"This text {problem}; remove it.")))
    return errors


def _answer(
    request: HttpRequest,
    workflow: Workflow,
    *,
    key: str | None = None,
    errors: list[tuple[str | None, FieldError]] | None = None,
) -> HttpResponse:
    """Answer a saved change: for htmx the problems (and the card, when asked), else the page."""
    status = 400 if errors else 200
    if not request.htmx:
        if errors:
            editor = Editor(workflow, errors)
            context = _context(request, editor, open_step=key or "")
            return render(request, "editor/editor.html", context, status=status)
        return redirect(_editor_url(workflow, key))
    editor = Editor(workflow, errors)
    if key and request.POST.get("_render") and not errors:
        return _card(request, editor, key)
    context = {
        "editor": editor,
        "problem_links": _problem_links(editor),
        "workflow": workflow,
        "cards": editor.cards(),  # closed cards: the out-of-band badges need no forms
        "oob": True,
        "saved": not errors,
    }
    response = render(request, "editor/_problems.html", context, status=status)
    if errors:
        # Nothing was saved: keep what the user typed on screen, show only the problems.
        response["HX-Reswap"] = "none"
    return response


# --- the workflow and its trigger ------------------------------------------------------------


@require_POST
@workspace_required
def workflow_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the workflow's name, description and concurrency limit."""
    workflow = _workflow(request, pk)
    errors = _unstorable(request.POST)
    limit_text = request.POST.get("max_concurrent_runs", "0").strip() or "0"
    limit = int(limit_text) if limit_text.isdigit() and len(limit_text) < 7 else None
    if limit is None:
        errors.append((None, FieldError("/max_concurrent_runs", "Enter 0 (no limit) or more.")))
    if not errors:
        settings_replace(
            workflow=workflow,
            name=request.POST.get("name", "").strip(),
            description=request.POST.get("description", "").strip(),
            max_concurrent_runs=limit or 0,
        )
    return _answer(request, workflow, errors=errors)


@require_POST
@workspace_required
def trigger_save(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the manual trigger's input fields from the field builder."""
    workflow = _workflow(request, pk)
    schema, found = read_trigger_fields(request.POST)
    errors = _unstorable(request.POST) + [(None, e) for e in found]
    if not errors:
        trigger_replace(workflow=workflow, input_schema=schema)
    return _answer(request, workflow, errors=errors)


@require_POST
@workspace_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Freeze the draft as a new version, or list the problems that stop it."""
    workflow = _workflow(request, pk)
    try:
        version = workflow_publish(workflow=workflow, user=request.user)
    except WorkflowInvalid as invalid:
        editor = Editor(workflow)
        count = len(errors_of(invalid.problems))
        context = _context(request, editor, publish_refused=count)
        return render(request, "editor/editor.html", context, status=400)
    messages.success(request, f"Published version {version.number}. Run now uses it.")
    return redirect(_editor_url(workflow))


@workspace_required
def run_now(request: HttpRequest, pk: int) -> HttpResponse:
    """Show a form of the trigger's fields (GET) and start a run of the published version (POST)."""
    workflow = _workflow(request, pk)
    version = workflow.published_version
    schema = (version.definition.get("trigger") or {}).get("input_schema") if version else None
    schema = schema if isinstance(schema, dict) else {"type": "object"}
    renderer = FormRenderer(id_prefix="run", mapping=False)
    value: dict[str, Any] = {}
    problems: list[Any] = []
    status = 200
    if request.method == "POST":
        value, errors = read_form(schema, request.POST, request.FILES)
        errors += [e for _, e in _unstorable(request.POST)]
        problems = [WorkflowProblem(None, e.pointer, e.message) for e in errors]
        if not problems:
            try:
                run = run_start(workflow=workflow, payload=value)
            except NotPublished as error:
                messages.error(request, str(error))
                return redirect(_editor_url(workflow))
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


def _position(request: HttpRequest, source: Any) -> int | None:
    text = str(source.get("position", "")).strip()
    return int(text) if text.isdigit() and len(text) < 5 else None


def search_steps(query: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Return the built-in steps and actions matching `query`, best first, grouped by category
    (a category shows where its best match ranks)."""
    words = query.lower().split()
    found = [
        {
            "key": b.key,
            "title": b.title,
            "summary": b.description,
            "side_effect": b.side_effect,
            "category": PICKER_CATEGORY_BUILTIN,
        }
        for b in BUILTINS.values()
        if all(w in f"{b.key} {b.title} {b.description}".lower() for w in words)
    ]
    found += [
        {
            "key": a.key,
            "title": a.title,
            "summary": _summary(a.description),
            "side_effect": a.side_effect,
            "category": a.category,
        }
        for a in list_actions(query=query or None)
    ]
    groups: dict[str, list[dict[str, Any]]] = {}
    for item in found:
        groups.setdefault(item["category"], []).append(item)
    return list(groups.items())


def _summary(description: str) -> str:
    """Return the first sentence of an action's description, without its rate-limit notes."""
    text = description.split("*Rate limits", 1)[0].split("**Scopes", 1)[0].strip()
    first = text.split(". ", 1)[0].strip().rstrip(".")
    return first if len(first) <= 140 else first[:137] + "…"


@require_safe
@workspace_required
def action_picker(request: HttpRequest, pk: int) -> HttpResponse:
    """List the actions to add as a step, searchable; htmx gets just the results."""
    workflow = _workflow(request, pk)
    query = request.GET.get("q", "").strip()[:200]
    groups = search_steps(query)
    context = {
        "workflow": workflow,
        "groups": groups,
        "count": sum(len(items) for _, items in groups),
        "query": query,
        "position": _position(request, request.GET),
    }
    if request.htmx and request.GET.get("part") == "results":
        return render(request, "editor/_picker_results.html", context)
    if request.htmx:
        return render(request, "editor/_picker.html", context)
    return render(request, "editor/picker.html", context)


@require_POST
@workspace_required
def step_add_view(request: HttpRequest, pk: int) -> HttpResponse:
    workflow = _workflow(request, pk)
    try:
        key = step_add(
            workflow=workflow,
            action=request.POST.get("action", ""),
            position=_position(request, request.POST),
        )
    except EditRefused as refused:
        messages.error(request, str(refused))
        return redirect(_editor_url(workflow))
    return redirect(_editor_url(workflow, key))


def _refusable(
    change: Any, request: HttpRequest, workflow: Workflow, key: str | None
) -> HttpResponse:
    try:
        result = change()
    except EditRefused as refused:
        if request.htmx:
            return HttpResponse(str(refused), status=400)
        messages.error(request, str(refused))
        return redirect(_editor_url(workflow))
    return redirect(_editor_url(workflow, result if isinstance(result, str) else key))


@require_POST
@workspace_required
def step_order_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the steps in the dragged order (`order`: the keys, comma-separated)."""
    workflow = _workflow(request, pk)
    keys = [k for k in request.POST.get("order", "").split(",") if k][:500]
    response = _refusable(lambda: step_order(workflow=workflow, keys=keys), request, workflow, None)
    if request.htmx and response.status_code == 302:
        return _answer(request, workflow)
    return response


@require_POST
@workspace_required
def step_move_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
    offset = -1 if request.POST.get("direction") == "up" else 1
    return _refusable(
        lambda: step_move(workflow=workflow, key=key, offset=offset), request, workflow, key
    )


@require_POST
@workspace_required
def step_duplicate_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
    return _refusable(lambda: step_duplicate(workflow=workflow, key=key), request, workflow, key)


@require_POST
@workspace_required
def step_delete_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
    response = _refusable(lambda: step_delete(workflow=workflow, key=key), request, workflow, None)
    if response.status_code == 302:
        messages.success(request, f"Step “{key}” deleted.")
    return response


@require_POST
@workspace_required
def step_rename_view(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Give the step a new key; references to it in later steps follow."""
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
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
    workflow = _workflow(request, pk)
    doc = _step_doc(workflow, key)
    value, input_errors = read_form(
        _input_schema(str(doc.get("action", ""))), request.POST, request.FILES
    )
    step, setting_errors = read_settings(request.POST, doc)
    errors = [(key, e) for _, e in _unstorable(request.POST)]
    errors += [(key, e) for e in input_errors + setting_errors]
    if not errors:
        step["input"] = value
        step_replace(workflow=workflow, key=key, step=step)
    return _answer(request, workflow, key=key, errors=errors)


@require_safe
@workspace_required
def data_picker(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Show the data a step can map: the trigger's fields and every upstream step's outputs."""
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
    editor = Editor(workflow)
    scope = editor.scopes.get(key) or Scope()
    sources = [data_nodes("trigger", "Trigger", scope.trigger, editor.trigger_sample)]
    titles = {
        str(s.get("key")): s.get("name") or action_title(str(s.get("action")))
        for s in _steps_of(workflow)
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
    for step in _steps_of(workflow):
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


@workspace_required
def step_test(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    """Run only this step now through the worker (POST); show a test run's result (GET ?run=)."""
    workflow = _workflow(request, pk)
    _step_doc(workflow, key)
    editor = Editor(workflow)
    if request.method == "POST":
        trigger_schema = editor.definition.input_schema or {"type": "object"}
        trigger, errors = read_form(
            trigger_schema, request.POST, request.FILES, prefix="sample", pointer="/test/trigger"
        )
        samples, more = _read_samples(request, workflow, key, editor.samples)
        errors += more + [e for _, e in _unstorable(request.POST)]
        if errors:
            return _answer(request, workflow, key=key, errors=[(key, e) for e in errors])
        run = step_test_start(workflow=workflow, key=key, trigger=trigger, samples=samples)
        if not request.htmx:
            return redirect(f"{_editor_url(workflow, key).split('#')[0]}&test={run.pk}#step-{key}")
    elif request.method in ("GET", "HEAD"):
        run_id = request.GET.get("run", "")
        run = (
            Run.objects.filter(
                workspace=request.workspace,
                workflow=workflow,
                test_step=key,
                trigger_kind=Run.Trigger.TEST,
                pk=int(run_id),
            ).first()
            if run_id.isdigit() and len(run_id) < 19
            else None
        )
        if run is None:
            raise Http404("There is no such test of this step.")
        if not request.htmx:
            return redirect(f"{_editor_url(workflow, key).split('#')[0]}&test={run.pk}#step-{key}")
    else:
        return HttpResponse(status=405)
    card = editor.card(
        next(i for i, s in enumerate(_steps_of(workflow)) if s.get("key") == key),
        _step_doc(workflow, key),
        test=run,
    )
    return render(request, "editor/_test_result.html", {"workflow": workflow, "card": card})
