"""Write-side functions for workflows: create, update the draft, publish, import, export.

Every surface validates through `workflow_validate` (the one validator); a workflow with
problems is saved as a draft but neither published nor run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from builder import strictjson
from builder.engine.definition import FORMAT, Definition, WorkflowProblem, parse_definition
from builder.engine.typecheck import Scope
from builder.engine.validate import ConnectionFacts, validate_definition
from builder.models import Run, User, Workflow, WorkflowVersion, Workspace
from builder.services.runs import PRUNE_BATCH, runs_delete
from builder.triggers.services import (
    Synced,
    trigger_disarm_all,
    trigger_sync,
    trigger_sync_after_commit,
)
from integrations.models import Connection
from integrations.selectors import connections_of_workspace


class WorkflowInvalid(Exception):
    """The workflow has errors; `problems` lists them (`{step, field, message, severity}`)."""

    def __init__(self, problems: list[WorkflowProblem]) -> None:
        self.problems = problems
        super().__init__(f"The workflow has {len(errors_of(problems))} problems.")


def errors_of(problems: list[WorkflowProblem]) -> list[WorkflowProblem]:
    return [problem for problem in problems if problem.severity == "error"]


def connection_facts(workspace: Workspace) -> dict[str, ConnectionFacts]:
    """Return the workspace's connections by name, as the validator needs them."""
    facts: dict[str, ConnectionFacts] = {}
    for connection in connections_of_workspace(workspace).exclude(status=Connection.Status.REVOKED):
        facts.setdefault(
            connection.name,
            ConnectionFacts(
                name=connection.name,
                unusable_reason=connection.unusable_reason(),
                scopes=frozenset(connection.scopes) if connection.is_oauth else None,
            ),
        )
    return facts


def workflow_validate(
    *, definition: Any, workspace: Workspace, scopes: dict[str, Scope] | None = None
) -> tuple[Definition, list[WorkflowProblem]]:
    """Read and check a workflow document for this workspace; never raise on bad input.

    `scopes`, when given, receives what each step may refer to (see `validate_definition`).
    """
    return validate_definition(definition, connection_facts(workspace), scopes)


def _apply(workflow: Workflow, definition: Definition) -> None:
    # A name too long is a problem of the draft, and is kept shortened so the draft can be saved.
    max_length = Workflow._meta.get_field("name").max_length
    workflow.name = (definition.name or workflow.name or "Untitled workflow")[:max_length]
    workflow.description = definition.description
    workflow.max_concurrent_runs = definition.max_concurrent_runs
    workflow.definition = definition.to_document()


def workflow_create(
    *, workspace: Workspace, user: User | None, definition: Any
) -> tuple[Workflow, list[WorkflowProblem]]:
    """Store a new workflow with this draft (problems and all); return it and its problems."""
    parsed, problems = workflow_validate(definition=definition, workspace=workspace)
    workflow = Workflow(workspace=workspace, created_by=user)
    _apply(workflow, parsed)
    workflow.save()
    return workflow, problems


def workflow_update(*, workflow: Workflow, definition: Any) -> list[WorkflowProblem]:
    """Replace the workflow's draft; return its problems."""
    parsed, problems = workflow_validate(definition=definition, workspace=workflow.workspace)
    _apply(workflow, parsed)
    workflow.save()
    return problems


def workflow_problems(*, workflow: Workflow) -> list[WorkflowProblem]:
    """Return the problems of the workflow's current draft."""
    return workflow_validate(definition=workflow.definition, workspace=workflow.workspace)[1]


@transaction.atomic
def workflow_publish(*, workflow: Workflow, user: User | None) -> WorkflowVersion:
    """Freeze the draft as the next version; raise WorkflowInvalid while it has errors."""
    parsed, problems = workflow_validate(
        definition=workflow.definition, workspace=workflow.workspace
    )
    if errors_of(problems):
        raise WorkflowInvalid(problems)
    Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
    latest = workflow.versions.aggregate(latest=Max("number"))["latest"] or 0
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=latest + 1, definition=parsed.to_document(), published_by=user
    )
    workflow.published_version = version
    workflow.save(update_fields=["published_version", "updated_at"])
    # An enabled workflow's trigger follows the new version; when it cannot be armed, the
    # version is published all the same and the trigger's state says why.
    if workflow.enabled:
        trigger_sync_after_commit(workflow=workflow)
    return version


def _in_format_order(document: Any) -> dict[str, Any]:
    # PostgreSQL's jsonb keeps no key order; what was stored is a written-out definition, so
    # reading and writing it again gives the same document with its keys in the format's order.
    return parse_definition(document)[0].to_document()


def workflow_export(*, workflow: Workflow) -> dict[str, Any]:
    """Return the draft in the workflow format: connections by name, no secret anywhere."""
    return _in_format_order(workflow.definition)


# --- The workflow pages: new, duplicate, delete, enable, import, versions ----------------------

UNTITLED = "Untitled workflow"
#: The largest workflow file the import page reads (a 200-step workflow is far smaller).
MAX_FILE_BYTES = 2 * 1024 * 1024
_NAME_LENGTH = Workflow._meta.get_field("name").max_length


def _free_name(workspace: Workspace, candidate: Callable[[int], str], prefix: str) -> str:
    """Return candidate(1), candidate(2)...: the first that no workflow of the workspace has.

    `prefix` starts every candidate; only the names starting with it are read.
    """
    taken = set(
        Workflow.objects.for_workspace(workspace)
        .filter(name__startswith=prefix)
        .values_list("name", flat=True)
    )
    number = 1
    while candidate(number) in taken:
        number += 1
    return candidate(number)


def workflow_create_blank(*, workspace: Workspace, user: User | None) -> Workflow:
    """Create "Untitled workflow" ("Untitled workflow 2"... if taken): a manual trigger, no step."""
    name = _free_name(workspace, lambda n: UNTITLED if n == 1 else f"{UNTITLED} {n}", UNTITLED)
    document = {"format": FORMAT, "name": name, "trigger": {"type": "manual"}, "steps": []}
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    return workflow


def workflow_duplicate(*, workflow: Workflow, user: User | None) -> Workflow:
    """Create "<name> (copy)" ("<name> (copy 2)"... if taken) with the same draft."""

    def candidate(number: int) -> str:
        suffix = " (copy)" if number == 1 else f" (copy {number})"
        return workflow.name[: _NAME_LENGTH - len(suffix)] + suffix

    name = _free_name(workflow.workspace, candidate, workflow.name[: _NAME_LENGTH - 12])
    definition = {**workflow.definition, "name": name}
    copy, _ = workflow_create(workspace=workflow.workspace, user=user, definition=definition)
    return copy


class WorkflowBusy(Exception):
    """The workflow has runs that a worker is running right now; `running` says how many."""

    def __init__(self, running: int) -> None:
        self.running = running
        super().__init__(f"{running} run(s) of this workflow are running right now.")


@transaction.atomic
def workflow_delete(*, workflow: Workflow) -> None:
    """Delete the workflow with its versions and its runs (their steps and attempts too).

    Raise WorkflowBusy while one of its runs is running: its worker would go on writing into
    rows that are gone. Queued and waiting runs hold no worker and simply never resume.
    """
    running = workflow.runs.filter(status=Run.Status.RUNNING).count()
    if running:
        raise WorkflowBusy(running)
    # The runs first: Run.version is PROTECT (no version may vanish from under a run's record),
    # so deleting the versions while their runs still exist would raise ProtectedError.
    trigger_disarm_all(workflow=workflow)
    ids = list(Run.objects.filter(workflow=workflow).values_list("pk", flat=True))
    for start in range(0, len(ids), PRUNE_BATCH):
        runs_delete(ids[start : start + PRUNE_BATCH])
    workflow.delete()


def workflow_set_enabled(*, workflow: Workflow, enabled: bool, make_secret: bool = True) -> Synced:
    """Switch the workflow on or off, arming or disarming its trigger. Off, its trigger starts
    no runs by itself; Run now and the API still start runs, as a test would (n8n and Zapier do
    the same). Raise TriggerArmError when the trigger cannot be armed (the workflow stays on).
    `make_secret`: make a signed webhook's first secret (only where the answer can show it)."""
    workflow.enabled = enabled
    workflow.save(update_fields=["enabled", "updated_at"])
    return trigger_sync(workflow=workflow, make_secret=make_secret)


def workflow_notices_set(*, workflow: Workflow, on: bool) -> None:
    """Switch the failure emails to the workflow's owner on or off."""
    if workflow.notify_failures != on:
        workflow.notify_failures = on
        workflow.save(update_fields=["notify_failures"])


def workflow_version_export(*, version: WorkflowVersion) -> dict[str, Any]:
    """Return a published version in the workflow format: connections by name, no secret."""
    return _in_format_order(version.definition)


class WorkflowFileRefused(ValueError):
    """A file cannot be imported as a workflow; `str()` says why, for people."""


def _kind_of(value: Any) -> str:
    return {list: "a list", str: "text", bool: "true or false", int: "a number",
            float: "a number"}.get(type(value), "null")  # fmt: skip


def workflow_file_read(raw: bytes | str) -> dict[str, Any]:
    """Decode a workflow file: strict JSON (`builder.strictjson`), an object, in the workflow
    format, at most MAX_FILE_BYTES. Raise WorkflowFileRefused saying what is wrong.

    What the object holds (name, trigger, steps) is `workflow_validate`'s to judge.
    """
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_FILE_BYTES:
        raise WorkflowFileRefused("The file is larger than 2 MB; a workflow file is far smaller.")
    if not raw.strip():
        raise WorkflowFileRefused("The file is empty.")
    try:
        document = strictjson.loads(raw)
    except strictjson.JsonRefused as refused:
        where = f" at {refused.pointer}" if refused.pointer else ""
        raise WorkflowFileRefused(f"The file{where} is not accepted: {refused}.") from refused
    if not isinstance(document, dict):
        raise WorkflowFileRefused(
            f'A workflow file holds a JSON object ({{"format": "{FORMAT}", ...}}), '
            f"not {_kind_of(document)}."
        )
    if "format" in document and document["format"] != FORMAT:
        shown = document["format"] if isinstance(document["format"], str) else "that"
        raise WorkflowFileRefused(
            f"The file is in the format “{shown[:100]}”; Step Builder reads “{FORMAT}”."
        )
    return document


def import_missing_connections(*, document: Any, workspace: Workspace) -> list[str]:
    """Return the connection names the document's steps use that the workspace has none of."""
    known = connection_facts(workspace)
    missing: list[str] = []
    for step in parse_definition(document)[0].steps:
        if step.connection and step.connection not in known and step.connection not in missing:
            missing.append(step.connection)
    return missing


def workflow_import(
    *,
    workspace: Workspace,
    user: User | None,
    document: dict[str, Any],
    connections: Mapping[str, Connection],
) -> tuple[Workflow, list[WorkflowProblem]]:
    """Create a draft from an imported document, each step naming a connection of `connections`
    (a name in the file -> the workspace's connection to use instead) renamed to it."""
    if any(connection.workspace_id != workspace.pk for connection in connections.values()):
        raise ValueError("An import maps connections only to the workspace's own.")
    steps = document.get("steps")
    if isinstance(steps, list) and connections:
        document = {**document, "steps": [_renamed(step, connections) for step in steps]}
    return workflow_create(workspace=workspace, user=user, definition=document)


def _renamed(step: Any, connections: Mapping[str, Connection]) -> Any:
    if not isinstance(step, dict) or not isinstance(step.get("connection"), str):
        return step
    connection = connections.get(step["connection"])
    return step if connection is None else {**step, "connection": connection.name}


def version_changes(old: Any, new: Any) -> list[str]:
    """Say in short sentences what changed from one definition to the next (`old` None: `new`
    is the first version). Steps are matched by key: added, removed, changed (anything in the
    step), and reordered when the steps both have are in another order. A pure function."""
    new = new if isinstance(new, dict) else {}
    after = _steps_by_key(new)
    if old is None:
        return [f"First version, with {len(after)} step{'' if len(after) == 1 else 's'}."]
    old = old if isinstance(old, dict) else {}
    before = _steps_by_key(old)
    changes = []
    if old.get("name") != new.get("name"):
        changes.append(f"Renamed from “{old.get('name') or ''}” to “{new.get('name') or ''}”.")
    if old.get("description", "") != new.get("description", ""):
        changes.append("Description changed.")
    old_trigger, new_trigger = old.get("trigger") or {}, new.get("trigger") or {}
    if old_trigger != new_trigger:
        old_type, new_type = old_trigger.get("type", "manual"), new_trigger.get("type", "manual")
        changes.append(
            f"Trigger changed from {old_type} to {new_type}."
            if old_type != new_type
            else "Trigger inputs changed."
        )
    if old.get("max_concurrent_runs", 0) != new.get("max_concurrent_runs", 0):
        changes.append(f"Runs at once: {_limit(old)} → {_limit(new)}.")
    added = [key for key in after if key not in before]
    removed = [key for key in before if key not in after]
    changed = [key for key in after if key in before and after[key] != before[key]]
    for verb, keys in (("Added", added), ("Removed", removed), ("Changed", changed)):
        if keys:
            changes.append(f"{verb} {_steps_named(keys)}.")
    if [key for key in before if key in after] != [key for key in after if key in before]:
        changes.append("Steps reordered.")
    return changes or ["No changes."]


def _steps_by_key(definition: dict[str, Any]) -> dict[str, Any]:
    steps = definition.get("steps")
    by_key: dict[str, Any] = {}
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict) and isinstance(step.get("key"), str):
            by_key.setdefault(step["key"], step)
    return by_key


def _steps_named(keys: list[str]) -> str:
    named = ", ".join(f"“{key}”" for key in keys)
    return f"step {named}" if len(keys) == 1 else f"steps {named}"


def _limit(definition: dict[str, Any]) -> str:
    limit = definition.get("max_concurrent_runs", 0)
    return "no limit" if not limit else str(limit)
