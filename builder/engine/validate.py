"""The one workflow validator: every surface (API, import, publish, the editor) asks here.

`validate_definition` reads the document, then checks each step against what runs before it:
inputs against the action's input schema (each reference standing in for a value of its
inferred type), references against the trigger's input schema and upstream steps' output
schemas, connections against the workspace's, `run_if` / `for_each` / `on_error` / `await_job`
well-formed. It never raises on bad input: everything wrong comes back as a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from builder.engine.builtins import BUILTINS, envelope, is_builtin
from builder.engine.conditions import validate_condition
from builder.engine.definition import Definition, Step, WorkflowProblem, parse_definition
from builder.engine.jobs import JOB_POLLS
from builder.engine.placeholders import with_placeholders
from builder.engine.references import TemplateSyntaxError, parse_template
from builder.engine.typecheck import Problem, Scope, check_value, infer
from integrations.klaviyo.catalog import Action, InvalidInput, UnknownAction, get_action
from integrations.klaviyo.catalog import validate_params as catalog_validate


@dataclass(frozen=True)
class ConnectionFacts:
    """What the validator needs to know of a workspace's connection (never its secret)."""

    name: str
    unusable_reason: str | None
    #: Granted scopes when known (OAuth); None when Klaviyo checks them per call (API keys).
    scopes: frozenset[str] | None


def validate_definition(
    document: Any,
    connections: Mapping[str, ConnectionFacts],
    scopes: dict[str, Scope] | None = None,
) -> tuple[Definition, list[WorkflowProblem]]:
    """Return the definition as read and every problem with it, errors and warnings.

    `scopes`, when given, receives what each step can refer to (the editor's data picker and
    its chips show those types).
    """
    definition, problems = parse_definition(document)
    upstream: dict[str, dict[str, Any]] = {}
    keys = [step.key for step in definition.steps]
    for index, step in enumerate(definition.steps):
        scope = Scope(
            trigger=definition.input_schema,
            steps=dict(upstream),
            later_steps=set(keys[index:]),
            item=None,
        )
        output, scope = _check_step(step, scope, connections, problems)
        if scopes is not None:
            scopes[step.key] = scope
        upstream[step.key] = output
    _check_trigger_connection(definition.trigger.connection, connections, problems)
    return definition, problems


def _check_trigger_connection(
    name: str | None, connections: Mapping[str, ConnectionFacts], problems: list[WorkflowProblem]
) -> None:
    """A Klaviyo trigger's connection must exist (its absence is found by parsing)."""
    if not name or name in connections:
        if name and connections[name].unusable_reason:
            problems.append(
                WorkflowProblem(
                    None, "/trigger/connection", connections[name].unusable_reason, "warning"
                )
            )
        return
    known = ", ".join(sorted(connections)) or "none yet"
    problems.append(
        WorkflowProblem(
            None,
            "/trigger/connection",
            f"There is no connection named {name!r} in this workspace (connections: {known}).",
        )  # fmt: skip
    )


def output_schema_of(step: Step, upstream_scope: Scope | None = None) -> dict[str, Any]:
    """Return the schema of what a step offers later steps (`steps.<key>`)."""
    if is_builtin(step.action):
        builtin = BUILTINS.get(step.action)
        if builtin is None:
            return envelope({})
        if step.action == "builtin.set" and upstream_scope is not None:
            return envelope(_set_schema(step, upstream_scope))
        return builtin.output_schema
    try:
        action = get_action(step.action)
    except UnknownAction:
        return envelope({})
    return action.output_schema


def _add(problems: list[WorkflowProblem], step: Step, found: list[Problem], prefix: str) -> None:
    for problem in found:
        problems.append(
            WorkflowProblem(step.key, prefix + problem.pointer, problem.message, problem.severity)
        )


def _check_step(
    step: Step,
    scope: Scope,
    connections: Mapping[str, ConnectionFacts],
    problems: list[WorkflowProblem],
) -> tuple[dict[str, Any], Scope]:
    """Check one step; return its output schema for the steps below it, and its own scope."""
    if step.for_each is not None:
        scope = _for_each_scope(step, scope, problems)
    if step.run_if is not None:
        _add(problems, step, validate_condition(step.run_if, scope, "/run_if"), "")
    if is_builtin(step.action):
        _check_builtin(step, scope, connections, problems)
    else:
        _check_action(step, scope, connections, problems)
    output = output_schema_of(step, scope)
    if step.for_each is not None:
        # A for-each step offers the list of its items' data (docs/workflows.md).
        data = output.get("properties", {}).get("data", {})
        output = envelope({"type": "array", "items": data})
    return output, scope


def _for_each_scope(step: Step, scope: Scope, problems: list[WorkflowProblem]) -> Scope:
    assert step.for_each is not None  # noqa: S101 - the caller checked
    pointer = "/for_each/items"
    try:
        template = parse_template(step.for_each.items)
    except TemplateSyntaxError as error:
        problems.append(WorkflowProblem(step.key, pointer, str(error)))
        return scope
    if not template.is_single_reference:
        problems.append(
            WorkflowProblem(
                step.key,
                pointer,
                "for_each takes one reference to a list, e.g. {{ steps.find.data.data }}.",
            )  # fmt: skip
        )
        return scope
    schema, found = infer(template.references[0], scope)
    _add(problems, step, [Problem(pointer + p.pointer, p.message, p.severity) for p in found], "")
    item: dict[str, Any] | None = None
    if schema is not None:
        types = schema.get("type")
        kinds = types if isinstance(types, list) else [types]
        if "array" not in kinds and types is not None:
            problems.append(
                WorkflowProblem(
                    step.key,
                    pointer,
                    f"{template.references[0].dotted} is not a list, so there is nothing to go "
                    "through one by one.",
                )  # fmt: skip
            )
        else:
            item = schema.get("items") or {}
    return Scope(
        trigger=scope.trigger,
        steps=scope.steps,
        later_steps=scope.later_steps,
        item=item if item is not None else {},
    )


def _check_connection(
    step: Step,
    action: Action,
    connections: Mapping[str, ConnectionFacts],
    problems: list[WorkflowProblem],
) -> None:
    if not step.connection:
        problems.append(
            WorkflowProblem(
                step.key, "/connection", "Choose the Klaviyo connection this step uses."
            )
        )
        return
    facts = connections.get(step.connection)
    if facts is None:
        known = ", ".join(sorted(connections)) or "none yet"
        problems.append(
            WorkflowProblem(
                step.key,
                "/connection",
                f"There is no connection named {step.connection!r} in this workspace "
                f"(connections: {known}).",
            )  # fmt: skip
        )
        return
    if facts.unusable_reason:
        problems.append(WorkflowProblem(step.key, "/connection", facts.unusable_reason, "warning"))
    if facts.scopes is not None:
        missing = sorted(set(action.scopes) - facts.scopes)
        if missing:
            problems.append(
                WorkflowProblem(
                    step.key,
                    "/connection",
                    f"The connection {step.connection!r} was not granted "
                    f"{', '.join(missing)}, which {action.title} needs; reconnect it with "
                    "more access.",
                )  # fmt: skip
            )


def _check_action(
    step: Step,
    scope: Scope,
    connections: Mapping[str, ConnectionFacts],
    problems: list[WorkflowProblem],
) -> None:
    if not step.action:
        return  # already reported by the reader
    try:
        action = get_action(step.action)
    except UnknownAction as error:
        problems.append(WorkflowProblem(step.key, "/action", str(error)))
        return
    _check_connection(step, action, connections, problems)
    if step.await_job and step.action not in JOB_POLLS:
        problems.append(
            WorkflowProblem(
                step.key,
                "/await_job",
                f"{action.title} starts no Klaviyo job to wait for; remove await_job.",
            )  # fmt: skip
        )
    _check_input(step, action.input_schema, scope, problems, catalog_action=action)


def _check_input(
    step: Step,
    schema: dict[str, Any],
    scope: Scope,
    problems: list[WorkflowProblem],
    *,
    catalog_action: Action | None = None,
) -> None:
    """Check references in the input, then the input itself with references as samples."""
    found = check_value(step.input, schema, scope)
    _add(problems, step, found, "/input")
    sample = with_placeholders(step.input, schema)
    if catalog_action is not None:
        try:
            catalog_validate(catalog_action, sample)
        except InvalidInput as error:
            for path, messages in error.errors.items():
                for message in messages:
                    problems.append(WorkflowProblem(step.key, "/input" + _pointer(path), message))
        return
    for error in Draft202012Validator(schema).iter_errors(sample):
        where = "".join(f"/{part}" for part in error.absolute_path)
        problems.append(WorkflowProblem(step.key, "/input" + where, error.message))


def _check_builtin(
    step: Step,
    scope: Scope,
    connections: Mapping[str, ConnectionFacts],
    problems: list[WorkflowProblem],
) -> None:
    builtin = BUILTINS.get(step.action)
    if builtin is None:
        known = ", ".join(sorted(BUILTINS))
        problems.append(
            WorkflowProblem(
                step.key, "/action", f"Unknown built-in step {step.action!r} ({known})."
            )
        )
        return
    if step.connection:
        problems.append(
            WorkflowProblem(
                step.key, "/connection", f"{builtin.title} uses no connection.", "warning"
            )
        )
    if step.action == "builtin.stop_if":
        condition = step.input.get("condition")
        if isinstance(condition, dict):
            _add(problems, step, validate_condition(condition, scope, "/input/condition"), "")
        rest = {name: value for name, value in step.input.items() if name != "condition"}
        schema = {**builtin.input_schema, "required": []}
        schema["properties"] = {
            name: value for name, value in schema["properties"].items() if name != "condition"
        }
        _check_input(Step(step.key, step.action, input=rest), schema, scope, problems)
        if "condition" not in step.input:
            problems.append(WorkflowProblem(step.key, "/input/condition", "this field is required"))
        return
    if step.action == "builtin.set":
        values = step.input.get("values")
        if not isinstance(values, dict):
            problems.append(
                WorkflowProblem(
                    step.key,
                    "/input/values",
                    "values is an object of names and what each holds.",
                )  # fmt: skip
            )
            return
        _add(problems, step, check_value(values, {"type": "object"}, scope), "/input/values")
        return
    _check_input(step, builtin.input_schema, scope, problems)


def _set_schema(step: Step, scope: Scope) -> dict[str, Any]:
    """Infer the schema of a `builtin.set` step's data from its values."""
    values = step.input.get("values")
    if not isinstance(values, dict):
        return {"type": "object"}
    properties = {name: _schema_of_value(value, scope) for name, value in values.items()}
    return {"type": "object", "properties": properties, "required": sorted(properties)}


def _schema_of_value(value: Any, scope: Scope) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            template = parse_template(value)
        except TemplateSyntaxError:
            return {"type": "string"}
        if template.is_single_reference:
            schema, _ = infer(template.references[0], scope)
            return schema or {}
        return {"type": "string"}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, list):
        return {"type": "array", "items": _schema_of_value(value[0], scope) if value else {}}
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {name: _schema_of_value(item, scope) for name, item in value.items()},
        }
    return {}


def _pointer(path: str) -> str:
    """Turn a catalog field path (`profiles[0].email`) into a JSON pointer (`/profiles/0/email`)."""
    if not path:
        return ""
    out = ""
    for part in path.replace("[", ".").replace("]", "").split("."):
        if part:
            out += "/" + part.replace("~", "~0").replace("/", "~1")
    return out
