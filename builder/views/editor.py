"""The visual editor of one workflow: trigger and step cards, pickers, Test step, Publish, Run now.

The trigger card has a view per change: its type (`trigger_type`), its settings
(`trigger_settings`), the input fields (`trigger_save`), a webhook's new URL
(`trigger_regenerate`), and the Klaviyo choices its pickers load when shown (`trigger_choices`).

Every change posts to its own URL, is saved into the draft through `builder.services.editor`
(so the one validator checks it) and answers the editor page, or for htmx the parts that
changed: the problems in the header, a step card. Links and forms work without JavaScript;
static/js/editor.js adds autosave, the pickers' dialogs and drag to reorder.
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST, require_safe

from builder import strictjson
from builder.engine.definition import WorkflowProblem, parse_definition
from builder.engine.triggers import (
    KLAVIYO_POLL,
    KLAVIYO_WEBHOOK,
    MANUAL,
    SCHEDULE,
    WEBHOOK,
    Trigger,
)
from builder.forms.reading import read_form
from builder.forms.schema import FormRenderer
from builder.forms.steps import (
    read_trigger_fields,
)
from builder.forms.triggers import CHOICE_WORDS, read_trigger_settings
from builder.forms.widgets import FieldError
from builder.models import Run, Workflow
from builder.services.editor import (
    DraftRefused,
    draft_trigger,
    settings_replace,
    trigger_input_replace,
    trigger_replace,
    trigger_type_set,
)
from builder.services.runs import NotPublished, PayloadInvalid, run_start
from builder.services.workflows import (
    WorkflowInvalid,
    errors_of,
    workflow_notices_set,
    workflow_publish,
)
from builder.triggers.choices import LOOKUPS, Choices, choices_of, trigger_connection
from builder.triggers.services import TriggerArmError, webhook_regenerate
from builder.views.editor_page import (
    Editor,
    answer,
    card_response,
    editor_url,
    page_context,
    refusals,
    refuse_viewers,
    trigger_response,
    workflow_for,
)
from builder.workspaces import workspace_required
from integrations.klaviyo.catalog.examples import filled_value


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
    """Save the trigger's input fields from the field builder (manual and webhook triggers)."""
    workflow = workflow_for(request, pk)
    refuse_viewers(request)
    schema, found = read_trigger_fields(request.POST)
    errors: list[tuple[str | None, FieldError]] = [(None, e) for e in found]
    if not errors:
        try:
            trigger_input_replace(workflow=workflow, input_schema=schema)
        except DraftRefused as refused:
            errors = refusals(None, refused)
    return answer(request, workflow, errors=errors)


@require_POST
@workspace_required
def trigger_type(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the draft a trigger of the posted `type`, with that type's defaults."""
    workflow = workflow_for(request, pk)
    refuse_viewers(request)
    errors: list[tuple[str | None, FieldError]] = []
    try:
        trigger_type_set(workflow=workflow, kind=request.POST.get("type", ""))
    except DraftRefused as refused:
        errors = refusals(None, refused)
    return trigger_response(request, workflow, errors=errors)


@require_POST
@workspace_required
def trigger_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the trigger's settings from the card's form (the field builder has its own view).

    Controls that change what the form shows (a connection, a poll's source) post `_render`
    and get the card again; the others get what their change altered: the next runs.
    """
    workflow = workflow_for(request, pk)
    refuse_viewers(request)
    current = draft_trigger(workflow)
    kind = current.get("type", MANUAL)
    trigger, found = read_trigger_settings(kind, request.POST, current)
    errors: list[tuple[str | None, FieldError]] = [(None, e) for e in found]
    if request.POST.get("type", kind) != kind:
        message = "The trigger's type was changed meanwhile (in another tab?); reload the page."
        errors = [(None, FieldError("/trigger/type", message))]
    if not errors:
        try:
            trigger_replace(workflow=workflow, trigger=trigger)
        except DraftRefused as refused:
            errors = refusals(None, refused)
    return trigger_response(
        request, workflow, errors=errors, card=bool(request.POST.get("_render"))
    )


@require_POST
@workspace_required
def trigger_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    """Give an inbound webhook a new URL and signing secret, shown once in the answer."""
    workflow = workflow_for(request, pk)
    refuse_viewers(request)
    errors: list[tuple[str | None, FieldError]] = []
    secret = None
    try:
        _, secret = webhook_regenerate(workflow=workflow)
    except TriggerArmError as error:
        errors = [(None, FieldError("/trigger/url", str(error)))]
    response = trigger_response(request, workflow, errors=errors, new_secret=secret)
    patch_cache_control(response, no_store=True, private=True)  # it may hold the secret
    return response


@require_safe
@workspace_required
def trigger_choices(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the picker of the draft trigger's `?of=topics|metric|list|segment`, read from its
    Klaviyo connection (or, when that fails, a text field and why)."""
    workflow = workflow_for(request, pk)
    kind = request.GET.get("of", "")
    if kind not in LOOKUPS:
        raise Http404("There is no such choice of a trigger.")
    trigger = parse_definition(workflow.definition)[0].trigger
    connection = trigger_connection(workflow.workspace, trigger.connection)
    if connection is None:
        choices = Choices(kind, error="Choose a connection first.")
    else:
        choices = choices_of(connection=connection, kind=kind)
    topics = trigger.settings.get("topics")
    chosen = [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []
    value = trigger.settings.get(kind)
    value = value if isinstance(value, str) else ""
    # A poll may name its list or segment by name: pick the choice of that name.
    named = next((c.value for c in choices.items if value and c.label == value), None)
    selected = value if value in choices.values or named is None else named
    context = {
        "workflow": workflow,
        "kind": kind,
        "label": CHOICE_WORDS[kind][0],
        "lookup": LOOKUPS[kind],
        "choices": choices,
        "chosen": chosen,
        "extra": [topic for topic in chosen if topic not in choices.values],
        "value": value,
        "selected": selected,
        "found": selected in choices.values,
        # Klaviyo answers 403 to a key or account that may not read webhooks.
        "no_webhooks": kind == "topics" and choices.status == 403,
    }
    return render(request, "editor/_trigger_choices.html", context)


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
    """Show a form of the trigger's data (GET) and start a run of the published version (POST).

    A manual trigger's fields, an inbound webhook's body fields (the run gets them as
    `trigger.body`), a schedule's time (now), or for a Klaviyo trigger the event or profile as
    JSON, prefilled with its latest run's (or an example of its shape): every type can be run
    by hand.
    """
    workflow = workflow_for(request, pk)
    version = workflow.published_version
    trigger = parse_definition(version.definition)[0].trigger if version else Trigger()
    schema = trigger.input_schema if trigger.type in (MANUAL, WEBHOOK) else {"type": "object"}
    renderer = FormRenderer(id_prefix="run", mapping=False)
    value: dict[str, Any] = {}
    problems: list[Any] = []
    status = 200
    as_json = trigger.type in (KLAVIYO_WEBHOOK, KLAVIYO_POLL)
    typed = ""
    if as_json:
        typed = json.dumps(_last_data(workflow) or filled_value(trigger.data_schema), indent=2)
    if request.method == "POST":
        if as_json:
            typed = request.POST.get("trigger_data", "")[:200_000]
            value, problems = _typed_data(typed)
        else:
            value, errors = read_form(schema, request.POST, request.FILES)
            problems = [WorkflowProblem(None, e.pointer, e.message) for e in errors]
        if not problems:
            try:
                run = run_start(workflow=workflow, payload=_payload(trigger, value))
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
        "trigger": trigger,
        # A trigger without fields takes an empty object: nothing to fill in.
        "form": renderer.form(schema, value) if schema.get("properties") else "",
        "as_json": as_json,
        "typed": typed,
        "problems": problems,
    }
    return render(request, "editor/run_now.html", context, status=status)


def _last_data(workflow: Workflow) -> dict[str, Any] | None:
    """The trigger data of the workflow's latest run started by Klaviyo (a real event)."""
    kinds = [Run.Trigger.KLAVIYO_WEBHOOK, Run.Trigger.KLAVIYO_POLL]
    last = (
        Run.objects.filter(workflow=workflow, trigger_kind__in=kinds)
        .order_by("-pk")
        .values_list("trigger_payload", flat=True)
        .first()
    )
    return last if isinstance(last, dict) else None


def _typed_data(text: str) -> tuple[dict[str, Any], list[WorkflowProblem]]:
    try:
        value = strictjson.loads(text)
    except strictjson.JsonRefused as refused:
        return {}, [WorkflowProblem(None, "/input", f"The trigger data is not JSON: {refused}.")]
    if not isinstance(value, dict):
        return {}, [WorkflowProblem(None, "/input", "The trigger data is a JSON object.")]
    return value, []


def _payload(trigger: Trigger, value: dict[str, Any]) -> dict[str, Any]:
    """The trigger data a run by hand starts with, shaped as the trigger's own runs get it."""
    if trigger.type == WEBHOOK:
        return {"body": value, "query": {}, "headers": {}}
    if trigger.type == SCHEDULE:
        zone = trigger.settings.get("timezone") or "UTC"
        return {"scheduled_at": timezone.now().astimezone(ZoneInfo(zone)).isoformat(),
                "timezone": zone}  # fmt: skip
    return value


# --- adding and arranging steps ---------------------------------------------------------------
