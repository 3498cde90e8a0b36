"""The editor page's parts: the trigger card, the step cards and the problems list, built from
one validation, and the answers every editor view gives (the page, a card, or the problems out
of band).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from builder.engine.builtins import is_builtin
from builder.engine.definition import WorkflowProblem
from builder.engine.jobs import JOB_POLLS
from builder.engine.kinds import step_kind, step_title
from builder.engine.typecheck import Scope
from builder.forms.conditions import render_condition
from builder.forms.schema import FormRenderer
from builder.forms.steps import (
    FIELD_TYPES,
    LIMITS,
    Chips,
    on_error_parts,
    trigger_fields,
)
from builder.forms.trigger_card import trigger_card
from builder.forms.widgets import FieldError, field_id, label_of
from builder.models import Membership, Run, StepRun, Workflow
from builder.selectors import samples_of
from builder.services.editor import (
    DraftRefused,
)
from builder.services.workflows import (
    connection_facts,
    errors_of,
    workflow_validate,
)
from builder.workspaces import get_for_workspace_or_404


def input_schema_of(action: str) -> dict[str, Any]:
    """Return the input schema of a step's action (an open object for an unknown one)."""
    kind = step_kind(action)
    return kind.input_schema if kind is not None else {"type": "object"}


def workflow_for(request: HttpRequest, pk: int) -> Workflow:
    return get_for_workspace_or_404(
        Workflow.objects.select_related("published_version"), request.workspace, pk=pk
    )


def steps_of(workflow: Workflow) -> list[dict[str, Any]]:
    steps = (workflow.definition or {}).get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def step_doc(workflow: Workflow, key: str) -> dict[str, Any]:
    for step in steps_of(workflow):
        if step.get("key") == key:
            return step
    raise Http404("There is no such step in this workflow.")


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


#: The ids of the Test step's trigger form, rendered once and given each card's key (a key starts
#: with a letter, so no card's ids begin like this).
_SAMPLE_IDS = "sample-0key0"


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
        # The validator knows no trigger connections yet: name a missing one here.
        name = self.definition.trigger.connection
        if name and name not in self.connections:
            self.problems.append(
                WorkflowProblem(None, "/trigger/connection",
                                f"This workspace has no connection called “{name}”; choose one.")
            )  # fmt: skip
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
        kind = step_kind(action)
        category = kind.category if kind is not None else "Unknown action"
        side_effect = kind.side_effect if kind is not None else "read"
        scopes = kind.scopes if kind is not None else ()
        problems = [p for p in self.problems if p.step == key]
        title = str(doc.get("name") or step_title(action))
        if not full:
            return StepCard(index, key, doc, title, step_title(action), category, side_effect,
                            form="", problems=problems, full=False)  # fmt: skip
        values = {"trigger": self.trigger_sample or {}, "steps": self.samples}
        renderer = FormRenderer(id_prefix=f"f-{key}", chips=Chips(self.scopes.get(key), values))
        form = renderer.form(input_schema_of(action), doc.get("input"))
        mode, retries = on_error_parts(doc.get("on_error", "stop"))
        for_each = doc.get("for_each")
        if isinstance(for_each, str):
            for_each = {"items": for_each}
        connection = doc.get("connection")
        facts = self.connections.get(connection) if isinstance(connection, str) else None
        missing_scopes = sorted(set(scopes) - facts.scopes) if facts and facts.scopes else []
        upstream = [str(s.get("key")) for s in steps_of(self.workflow)[:index]]
        card = StepCard(
            index=index,
            key=key,
            doc=doc,
            title=title,
            action_name=step_title(action),
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
                prefix="sample", id_prefix=_SAMPLE_IDS, pointer="/test/trigger", mapping=False
            )
            form = renderer.form(schema, self.trigger_sample or {})
            self._trigger_form = form if schema.get("properties") else ""
        # The same form in every card, but each with ids of its own.
        return mark_safe(self._trigger_form.replace(_SAMPLE_IDS, escape(f"sample-{key}")))  # noqa: S308

    def cards(self, open_key: str = "", test: Run | None = None) -> list[StepCard]:
        """Return every step's card: in full the open one (and a tested one), the others closed,
        their forms loaded when opened, so a long workflow's page stays light."""
        cards = []
        for i, doc in enumerate(steps_of(self.workflow)):
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


def problem_links(editor: Editor) -> list[dict[str, Any]]:
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


def page_context(request: HttpRequest, editor: Editor, **extra: Any) -> dict[str, Any]:
    workflow = editor.workflow
    document = workflow.definition if isinstance(workflow.definition, dict) else {}
    test = extra.pop("test", None)
    open_step = extra.pop("open_step", None) or request.GET.get("step", "")
    new_secret = extra.pop("new_secret", None)
    return {
        "workflow": workflow,
        "document": document,
        "editor": editor,
        "failure_notice_minutes": settings.FAILURE_NOTICE_MINUTES,
        "cards": editor.cards(open_step, test),
        "problem_links": problem_links(editor),
        **trigger_context(request, editor, new_secret=new_secret),
        "connections": list(editor.connections.values()),
        "limits": LIMITS,
        "open_step": open_step,
        "version_count": workflow.versions.count(),
        **extra,
    }


def editor_url(workflow: Workflow, key: str | None = None) -> str:
    url = reverse("workflow_editor", args=[workflow.pk])
    return f"{url}?step={key}#step-{key}" if key else url


def card_response(
    request: HttpRequest, editor: Editor, key: str, status: int = 200
) -> HttpResponse:
    """Render one step's card in full and open, with the header's problems out of band."""
    steps = steps_of(editor.workflow)
    index = next((i for i, s in enumerate(steps) if s.get("key") == key), None)
    if index is None:
        raise Http404("There is no such step in this workflow.")
    context = {
        "editor": editor,
        "workflow": editor.workflow,
        "problem_links": problem_links(editor),
        "cards": editor.cards(),
        "card": editor.card(index, steps[index]),
        "open_step": key,
        "connections": list(editor.connections.values()),
        "limits": LIMITS,
        "oob": True,
        "saved": True,
    }
    return render(request, "editor/_step_render.html", context, status=status)


def refusals(key: str | None, refused: DraftRefused) -> list[tuple[str | None, FieldError]]:
    return [(key, FieldError(problem.field, problem.message)) for problem in refused.problems]


def answer(
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
            context = page_context(request, editor, open_step=key or "")
            return render(request, "editor/editor.html", context, status=status)
        return redirect(editor_url(workflow, key))
    editor = Editor(workflow, errors)
    if key and request.POST.get("_render") and not errors:
        return card_response(request, editor, key)
    context = {
        "editor": editor,
        "problem_links": problem_links(editor),
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


def edit_refusal(request: HttpRequest) -> str | None:
    """Say why the current member may not change workflows, or None.

    Owners and members may; a role without the right (a viewer) is refused.
    """
    membership = getattr(request, "membership", None)
    role = getattr(membership, "role", None)
    if role in (Membership.Role.OWNER, Membership.Role.MEMBER):
        return None
    return "You can look at this workspace's workflows but not change them."


def refuse_viewers(request: HttpRequest) -> None:
    """Raise PermissionDenied (403) when the current member may not change workflows."""
    reason = edit_refusal(request)
    if reason:
        raise PermissionDenied(reason)


def trigger_context(
    request: HttpRequest, editor: Editor, *, new_secret: str | None = None
) -> dict[str, Any]:
    """Return what the trigger card's template needs (the page's context has it too)."""
    document = editor.workflow.definition if isinstance(editor.workflow.definition, dict) else {}
    trigger = document.get("trigger") if isinstance(document.get("trigger"), dict) else {}
    return {
        "tcard": trigger_card(
            editor.workflow,
            editor.definition.trigger,
            problems=editor.problems,
            connections=list(editor.connections),
            new_secret=new_secret,
            may_edit=edit_refusal(request) is None,
        ),
        "trigger_fields": trigger_fields(trigger.get("input_schema")),
        "field_types": [(key, label) for key, (label, _) in FIELD_TYPES.items()],
    }


def trigger_response(
    request: HttpRequest,
    workflow: Workflow,
    *,
    errors: list[tuple[str | None, FieldError]] | None = None,
    card: bool = True,
    new_secret: str | None = None,
) -> HttpResponse:
    """Answer a change of the trigger: for htmx the card (or, with `card` False, only what the
    settings change: the next runs), with the header's problems out of band; else the page."""
    status = 400 if errors else 200
    editor = Editor(workflow, errors)
    if not request.htmx:
        if errors or new_secret:
            context = page_context(request, editor, new_secret=new_secret)
            return render(request, "editor/editor.html", context, status=status)
        return redirect(editor_url(workflow) + "#trigger")
    context = {
        **trigger_context(request, editor, new_secret=new_secret),
        "editor": editor,
        "workflow": workflow,
        "problem_links": problem_links(editor),
        "cards": editor.cards(),  # closed cards: the out-of-band badges need no forms
        "oob": True,
        "saved": not errors,
    }
    template = "editor/_trigger_render.html" if card else "editor/_trigger_saved.html"
    response = render(request, template, context, status=status)
    if errors and not card:
        # Nothing was saved: keep what the user typed on screen, show only the problems.
        response["HX-Reswap"] = "none"
    return response
