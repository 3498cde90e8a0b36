"""Write-side functions of the editor: change one part of a workflow's draft and save it.

Each takes the workflow, changes its draft document (the workflow format) and saves it through
`workflow_update`, so every change is read and checked by the one validator; each returns the
draft's problems. Step keys name steps in URLs and in references (`steps.<key>`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from django.db import transaction

from builder import strictjson
from builder.engine.definition import (
    KEY,
    MAX_STEPS,
    RESERVED_KEYS,
    WorkflowProblem,
    parse_definition,
)
from builder.engine.kinds import step_kind
from builder.engine.references import rename_step
from builder.engine.triggers import (
    KLAVIYO_POLL,
    KLAVIYO_WEBHOOK,
    MANUAL,
    SCHEDULE,
    TRIGGER_TYPES,
    WEBHOOK,
)
from builder.models import Run, Workflow, Workspace
from builder.queue import run_execute_soon
from builder.services.workflows import connection_facts, workflow_update


class EditRefused(ValueError):
    """The change cannot be made (an unknown step, a taken key); `str()` says why."""


class DraftRefused(EditRefused):
    """Saving would drop or replace a value that cannot be read (a retry count of 50, an empty
    name): the draft keeps what it had, and `problems` say what to fix."""

    def __init__(self, problems: list[WorkflowProblem]) -> None:
        self.problems = problems
        super().__init__(" ".join(problem.message for problem in problems))


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    steps = document.get("steps")
    if not isinstance(steps, list):
        steps = document["steps"] = []
    return steps


def _document(workflow: Workflow) -> dict[str, Any]:
    """Return a copy of the draft as it is now, the workflow's row locked until the change is
    saved: two changes at once (the name and a step, from two forms) both land."""
    current = (
        Workflow.objects.select_for_update()
        .filter(pk=workflow.pk)
        .values_list("definition", flat=True)
        .first()
    )
    workflow.definition = current if current is not None else workflow.definition
    document = copy.deepcopy(workflow.definition) if isinstance(workflow.definition, dict) else {}
    _steps(document)
    return document


def _index(document: dict[str, Any], key: str) -> int:
    for index, step in enumerate(_steps(document)):
        if isinstance(step, dict) and step.get("key") == key:
            return index
    raise EditRefused(f"There is no step “{key}” in this workflow any more; reload the page.")


def _save(workflow: Workflow, document: dict[str, Any]) -> list[WorkflowProblem]:
    return workflow_update(workflow=workflow, definition=document)


def _save_read(
    workflow: Workflow, document: dict[str, Any], concerns: Callable[[WorkflowProblem], bool]
) -> list[WorkflowProblem]:
    """Save the document unless reading it loses a value this change set; raise DraftRefused.

    Reading a draft puts a default in place of what it cannot read, so without this check a
    retry count of 50 would be saved as "stop" and its problem would be gone.
    """
    unstorable = _unstorable(document)
    if unstorable is not None:
        raise DraftRefused([unstorable])
    _, read = parse_definition(document)
    refused = [problem for problem in read if problem.severity == "error" and concerns(problem)]
    if refused:
        raise DraftRefused(refused)
    return _save(workflow, document)


def _unstorable(document: dict[str, Any]) -> WorkflowProblem | None:
    """Return where the draft holds text the database cannot store (a NUL...), or None."""
    try:
        strictjson.check_document(document)
    except strictjson.JsonRefused as refused:
        path = refused.path
        message = f"{str(refused)[:1].upper()}{str(refused)[1:]}; remove it."
        if len(path) >= 2 and path[0] == "steps" and path[1].isdigit():
            steps = _steps(document)
            step = steps[int(path[1])] if int(path[1]) < len(steps) else {}
            key = step.get("key") if isinstance(step, dict) else None
            return WorkflowProblem(key, strictjson.pointer(path[2:]), message)
        return WorkflowProblem(None, refused.pointer, message)
    return None


def _free_key(document: dict[str, Any], wanted: str) -> str:
    taken = {step.get("key") for step in _steps(document) if isinstance(step, dict)}
    base = re.sub(r"[^a-z0-9_]+", "_", wanted.lower()).strip("_")[:56] or "step"
    if not base[0].isalpha():
        base = f"step_{base}"[:56]
    if base in RESERVED_KEYS:
        base = f"{base}_step"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def _defaults(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        name: copy.deepcopy(prop["default"])
        for name, prop in (schema.get("properties") or {}).items()
        if isinstance(prop, dict) and prop.get("default") is not None
    }


@transaction.atomic
def step_add(*, workflow: Workflow, action: str, position: int | None = None) -> str:
    """Add a step of `action` at `position` (the end by default); return its key.

    Its input starts with the action's defaults; a Klaviyo action gets the workspace's first
    usable connection.
    """
    document = _document(workflow)
    steps = _steps(document)
    if len(steps) >= MAX_STEPS:
        raise EditRefused(f"A workflow has at most {MAX_STEPS} steps.")
    kind = step_kind(action)
    if kind is None:
        raise EditRefused(f"There is no action or built-in step {action!r}.")
    base = kind.key.split(".", 1)[1] if kind.builtin else kind.key.removeprefix("KLAVIYO_")
    step: dict[str, Any] = {"key": _free_key(document, base), "action": kind.key}
    if not kind.builtin:
        usable = [
            f.name for f in connection_facts(workflow.workspace).values() if not f.unusable_reason
        ]
        if usable:
            step["connection"] = usable[0]
    step["input"] = _defaults(kind.input_schema)
    step["name"] = kind.title
    at = len(steps) if position is None else max(0, min(position, len(steps)))
    steps.insert(at, step)
    _save(workflow, document)
    return steps[at]["key"]


@transaction.atomic
def step_replace(*, workflow: Workflow, key: str, step: dict[str, Any]) -> list[WorkflowProblem]:
    """Put `step` (a step of the workflow format, its key unchanged) in place of step `key`."""
    document = _document(workflow)
    _steps(document)[_index(document, key)] = {**step, "key": key}
    return _save_read(
        workflow, document, lambda p: p.step == key and not p.field.startswith("/input")
    )


@transaction.atomic
def step_move(*, workflow: Workflow, key: str, offset: int) -> list[WorkflowProblem]:
    """Move step `key` up (offset -1) or down (+1); at either end it stays."""
    document = _document(workflow)
    steps = _steps(document)
    index = _index(document, key)
    target = max(0, min(len(steps) - 1, index + offset))
    steps.insert(target, steps.pop(index))
    return _save(workflow, document)


@transaction.atomic
def step_order(*, workflow: Workflow, keys: list[str]) -> list[WorkflowProblem]:
    """Put the steps in the order of `keys` (every key once, as after a drag)."""
    document = _document(workflow)
    steps = _steps(document)
    by_key = {step.get("key"): step for step in steps if isinstance(step, dict)}
    if sorted(keys) != sorted(k for k in by_key if isinstance(k, str)) or len(keys) != len(steps):
        raise EditRefused("The steps changed meanwhile; reload the page and drag again.")
    document["steps"] = [by_key[key] for key in keys]
    return _save(workflow, document)


@transaction.atomic
def step_duplicate(*, workflow: Workflow, key: str) -> str:
    """Put a copy of step `key` right below it; return the copy's key."""
    document = _document(workflow)
    steps = _steps(document)
    index = _index(document, key)
    copied = copy.deepcopy(steps[index])
    copied["key"] = _free_key(document, key)
    if copied.get("name"):
        copied["name"] = f"{copied['name']} (copy)"
    steps.insert(index + 1, copied)
    _save(workflow, document)
    return copied["key"]


@transaction.atomic
def step_delete(*, workflow: Workflow, key: str) -> list[WorkflowProblem]:
    """Remove step `key`; references to it become problems the validator names."""
    document = _document(workflow)
    _steps(document).pop(_index(document, key))
    return _save(workflow, document)


@transaction.atomic
def step_rename(*, workflow: Workflow, key: str, new_key: str) -> list[WorkflowProblem]:
    """Give step `key` the key `new_key` and rewrite every reference to it."""
    new_key = new_key.strip()
    document = _document(workflow)
    index = _index(document, key)
    if new_key == key:
        return _save(workflow, document)
    if not KEY.match(new_key) or new_key in RESERVED_KEYS:
        raise EditRefused(
            "A key is lowercase letters, digits and _, starting with a letter (at most 64), "
            f"and not one of {', '.join(sorted(RESERVED_KEYS))}."
        )
    if any(isinstance(s, dict) and s.get("key") == new_key for s in _steps(document)):
        raise EditRefused(f"Another step already has the key “{new_key}”.")
    steps = _steps(document)
    steps[index]["key"] = new_key
    document["steps"] = [
        {**step, **{k: rename_step(v, key, new_key) for k, v in step.items() if k != "key"}}
        if isinstance(step, dict)
        else step
        for step in steps
    ]
    return _save(workflow, document)


#: A Klaviyo trigger's settings that may be saved still empty: the draft then has the problem
#: ("Choose at least one topic"), as right after switching type. Any other refused reading
#: would lose what was typed (a bad cron is dropped on reading), so it is refused.
_MAY_BE_EMPTY = ("connection", "topics", "metric", "list", "segment")


def _loses_value(problem: WorkflowProblem, trigger: dict[str, Any]) -> bool:
    if problem.severity != "error" or not problem.field.startswith("/trigger"):
        return False
    name = problem.field.removeprefix("/trigger/")
    return not (name in _MAY_BE_EMPTY and trigger.get(name) in (None, "", []))


def _trigger_of(document: dict[str, Any]) -> dict[str, Any]:
    trigger = document.get("trigger")
    return dict(trigger) if isinstance(trigger, dict) else {"type": MANUAL}


def draft_trigger(workflow: Workflow) -> dict[str, Any]:
    """A copy of the draft's trigger object (the manual one when it has none)."""
    document = workflow.definition if isinstance(workflow.definition, dict) else {}
    return _trigger_of(document)


def _check_connection(workflow: Workflow, before: dict[str, Any], after: dict[str, Any]) -> None:
    """Refuse a trigger naming a connection the workspace lacks (one it had already may stay)."""
    name = after.get("connection")
    if not isinstance(name, str) or not name or name == before.get("connection"):
        return
    if name not in connection_facts(workflow.workspace):
        raise DraftRefused(
            [WorkflowProblem(None, "/trigger/connection",
                             f"This workspace has no connection called “{name[:100]}”.")]
        )  # fmt: skip


@transaction.atomic
def trigger_replace(*, workflow: Workflow, trigger: dict[str, Any]) -> list[WorkflowProblem]:
    """Make `trigger` (a trigger object of the workflow format) the draft's trigger.

    Raise DraftRefused, keeping the draft as it was, when reading it would lose a value (a cron
    expression croniter cannot read, 0 minutes, an unknown time zone or type) or it names a
    connection the workspace does not have; settings still empty are saved, as problems.
    """
    if trigger.get("type") not in TRIGGER_TYPES:
        raise DraftRefused(
            [WorkflowProblem(None, "/trigger/type",
                             f"Choose a trigger type: {', '.join(TRIGGER_TYPES)}.")]
        )  # fmt: skip
    document = _document(workflow)
    _check_connection(workflow, _trigger_of(document), trigger)
    document["trigger"] = trigger
    return _save_read(workflow, document, lambda p: _loses_value(p, trigger))


@transaction.atomic
def trigger_input_replace(
    *, workflow: Workflow, input_schema: dict[str, Any]
) -> list[WorkflowProblem]:
    """Give the trigger these input fields (a JSON Schema of an object), keeping its settings.

    The manual trigger's fields are what a run starts with; a webhook's, what its body holds.
    """
    document = _document(workflow)
    trigger = _trigger_of(document)
    document["trigger"] = {**trigger, "type": trigger.get("type", MANUAL),
                           "input_schema": input_schema}  # fmt: skip
    return _save_read(workflow, document, lambda p: p.field.startswith("/trigger"))


def trigger_defaults(kind: str, *, current: dict[str, Any], workspace: Workspace) -> dict[str, Any]:
    """Return a new trigger of type `kind` with sensible settings, taken over from `current`
    where they mean the same (the input fields of manual and webhook, a Klaviyo connection)."""
    trigger: dict[str, Any] = {"type": kind}
    if kind in (MANUAL, WEBHOOK):
        schema = current.get("input_schema")
        if isinstance(schema, dict) and current.get("type", MANUAL) in (MANUAL, WEBHOOK):
            trigger["input_schema"] = schema
        elif kind == MANUAL:
            trigger["input_schema"] = {"type": "object", "properties": {}}
    if kind == SCHEDULE:
        trigger.update(every_minutes=60, timezone="UTC")
    elif kind == WEBHOOK:
        trigger = {"type": kind, "signing": "hmac-sha256", **trigger}
    elif kind in (KLAVIYO_WEBHOOK, KLAVIYO_POLL):
        facts = connection_facts(workspace)
        connection = current.get("connection")
        if not isinstance(connection, str) or connection not in facts:
            usable = [f.name for f in facts.values() if not f.unusable_reason]
            connection = (usable or list(facts) or [""])[0]
        if connection:
            trigger["connection"] = connection
        if kind == KLAVIYO_WEBHOOK:
            trigger["topics"] = []
        else:
            trigger.update(source="metric_event", every_minutes=5)
    return trigger


@transaction.atomic
def trigger_type_set(*, workflow: Workflow, kind: str) -> list[WorkflowProblem]:
    """Give the draft a trigger of type `kind` with its defaults (`trigger_defaults`); the same
    type again changes nothing. Raise DraftRefused for an unknown type."""
    if kind not in TRIGGER_TYPES:
        raise DraftRefused(
            [WorkflowProblem(None, "/trigger/type",
                             f"Choose a trigger type: {', '.join(TRIGGER_TYPES)}.")]
        )  # fmt: skip
    document = _document(workflow)
    current = _trigger_of(document)
    if current.get("type", MANUAL) != kind:
        document["trigger"] = trigger_defaults(kind, current=current, workspace=workflow.workspace)
    return _save(workflow, document)


_SETTINGS = ("/name", "/description", "/max_concurrent_runs")


@transaction.atomic
def settings_replace(
    *, workflow: Workflow, name: str, description: str, max_concurrent_runs: int
) -> list[WorkflowProblem]:
    """Change the workflow's name, description and concurrency limit."""
    document = _document(workflow)
    document.update(name=name, description=description, max_concurrent_runs=max_concurrent_runs)
    return _save_read(workflow, document, lambda p: p.step is None and p.field in _SETTINGS)


# --- Test step ---------------------------------------------------------------------------------


def step_test_start(
    *,
    workflow: Workflow,
    key: str,
    trigger: dict[str, Any],
    samples: dict[str, Any],
) -> Run:
    """Run only step `key` of the draft now, through the worker, with `samples` standing in for
    the outputs of the steps above it and `trigger` for the trigger's data. Return the run."""
    document = _document(workflow)
    step = _steps(document)[_index(document, key)]
    one_step = {**document, "steps": [step]}
    unstorable = _unstorable({"steps": [{"key": key, "input": trigger, "samples": samples}]})
    if unstorable is not None:
        raise DraftRefused([unstorable])
    with transaction.atomic():
        run = Run.objects.create(
            workspace_id=workflow.workspace_id,
            workflow=workflow,
            version=None,
            trigger_kind=Run.Trigger.TEST,
            trigger_payload=trigger,
            test_step=key,
            test_definition=one_step,
            test_samples=samples,
        )
        transaction.on_commit(lambda: run_execute_soon(run.pk))
    return run
