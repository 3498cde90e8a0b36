"""Write-side functions for workflows: create, update the draft, publish, import, export.

Every surface validates through `workflow_validate` (the one validator); a workflow with
problems is saved as a draft but neither published nor run.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max

from builder.engine.definition import Definition, WorkflowProblem
from builder.engine.validate import ConnectionFacts, validate_definition
from builder.models import User, Workflow, WorkflowVersion, Workspace
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
    *, definition: Any, workspace: Workspace
) -> tuple[Definition, list[WorkflowProblem]]:
    """Read and check a workflow document for this workspace; never raise on bad input."""
    return validate_definition(definition, connection_facts(workspace))


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
    return version


def workflow_export(*, workflow: Workflow) -> dict[str, Any]:
    """Return the draft in the workflow format: connections by name, no secret anywhere."""
    return dict(workflow.definition)
