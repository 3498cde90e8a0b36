"""The workflow format (`stepbuilder.workflow/1`): read a document into steps, write it back.

One format for the editor, the API, import and export (docs/workflows.md). Reading never raises:
what cannot be understood becomes a `WorkflowProblem` naming the step and the field (a JSON
pointer into the step), and the rest is still read so every problem shows at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from builder.engine.triggers import Trigger, parse_trigger

FORMAT = "stepbuilder.workflow/1"
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
RESERVED_KEYS = {"trigger", "steps", "item", "item_index", "run"}
MAX_STEPS = 200
MAX_RETRIES = 10
MAX_FOR_EACH_ITEMS = 10_000
DEFAULT_FOR_EACH_ITEMS = 1_000
MAX_IN_FLIGHT = 10


@dataclass(frozen=True)
class WorkflowProblem:
    """Something wrong with a workflow: `step` is its key (None for the workflow itself),
    `field` a JSON pointer into the step (or the document), `severity` error or warning."""

    step: str | None
    field: str
    message: str
    severity: str = "error"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "field": self.field,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class ForEach:
    items: str
    max_items: int = DEFAULT_FOR_EACH_ITEMS
    in_flight: int = 1


@dataclass(frozen=True)
class OnError:
    """What a failed step does: stop the run, continue with the next step, or retry N times."""

    mode: str = "stop"  # "stop" | "continue" | "retry"
    retries: int = 0

    def to_document(self) -> Any:
        return {"retry": self.retries} if self.mode == "retry" else self.mode


@dataclass(frozen=True)
class Step:
    key: str
    action: str
    connection: str | None = None
    input: dict[str, Any] = field(default_factory=dict)
    run_if: dict[str, Any] | None = None
    for_each: ForEach | None = None
    on_error: OnError = OnError()
    await_job: bool = False
    #: The most the step may take, retries and waits included; None: the engine's default.
    timeout_seconds: float | None = None
    name: str = ""
    position: int = 0

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {"key": self.key, "action": self.action}
        if self.name:
            document["name"] = self.name
        if self.connection is not None:
            document["connection"] = self.connection
        document["input"] = self.input
        if self.run_if is not None:
            document["run_if"] = self.run_if
        if self.for_each is not None:
            document["for_each"] = {
                "items": self.for_each.items,
                "max_items": self.for_each.max_items,
                "in_flight": self.for_each.in_flight,
            }
        if self.on_error != OnError():
            document["on_error"] = self.on_error.to_document()
        if self.await_job:
            document["await_job"] = True
        if self.timeout_seconds is not None:
            document["timeout_seconds"] = self.timeout_seconds
        return document


@dataclass(frozen=True)
class Definition:
    name: str
    trigger: Trigger
    steps: tuple[Step, ...]
    description: str = ""
    max_concurrent_runs: int = 0

    @property
    def trigger_type(self) -> str:
        return self.trigger.type

    @property
    def input_schema(self) -> dict[str, Any]:
        """What a run's `trigger` holds, for references (`{{ trigger.* }}`) and run inputs."""
        return self.trigger.data_schema

    def step(self, key: str) -> Step | None:
        return next((step for step in self.steps if step.key == key), None)

    def to_document(self) -> dict[str, Any]:
        """Return the definition in the workflow format (what export writes)."""
        document: dict[str, Any] = {"format": FORMAT, "name": self.name}
        if self.description:
            document["description"] = self.description
        document["trigger"] = self.trigger.to_document()
        if self.max_concurrent_runs:
            document["max_concurrent_runs"] = self.max_concurrent_runs
        document["steps"] = [step.to_document() for step in self.steps]
        return document


def _problem(problems: list[WorkflowProblem], step: str | None, pointer: str, text: str) -> None:
    problems.append(WorkflowProblem(step, pointer, text))


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)  # fmt: skip


def parse_definition(document: Any) -> tuple[Definition, list[WorkflowProblem]]:
    """Read a workflow document; return what could be read and the problems found doing so."""
    problems: list[WorkflowProblem] = []
    if not isinstance(document, dict):
        _problem(problems, None, "", f"A workflow is an object, not {_type_name(document)}.")
        document = {}
    if document.get("format", FORMAT) != FORMAT:
        _problem(
            problems, None, "/format", f"Unknown format {document.get('format')!r}; use {FORMAT!r}."
        )
    known = {"format", "name", "description", "trigger", "steps", "max_concurrent_runs"}
    for extra in sorted(set(document) - known):
        _problem(problems, None, f"/{extra}", f"Unknown field {extra!r}.")
    name = document.get("name")
    if not isinstance(name, str) or not name.strip():
        _problem(problems, None, "/name", "Give the workflow a name.")
        name = ""
    elif len(name) > 200:
        _problem(problems, None, "/name", "A workflow name has at most 200 characters.")
    description = document.get("description", "")
    if not isinstance(description, str):
        _problem(problems, None, "/description", "The description is text.")
        description = ""
    concurrency = document.get("max_concurrent_runs", 0)
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 0 <= concurrency <= 100
    ):
        _problem(
            problems, None, "/max_concurrent_runs",
            "max_concurrent_runs is a whole number from 0 (no limit) to 100.",
        )  # fmt: skip
        concurrency = 0
    trigger, found = parse_trigger(document.get("trigger"))
    problems += [WorkflowProblem(None, pointer, message) for pointer, message in found]
    steps = _steps(document.get("steps"), problems)
    definition = Definition(
        name=name.strip(),
        description=description,
        trigger=trigger,
        steps=tuple(steps),
        max_concurrent_runs=concurrency,
    )
    return definition, problems


def _steps(raw: Any, problems: list[WorkflowProblem]) -> list[Step]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        _problem(problems, None, "/steps", "steps is a list of steps.")
        return []
    if len(raw) > MAX_STEPS:
        _problem(problems, None, "/steps", f"A workflow has at most {MAX_STEPS} steps.")
        raw = raw[:MAX_STEPS]
    steps = []
    seen: set[str] = set()
    for position, entry in enumerate(raw):
        step = _step(entry, position, problems)
        if step is None:
            continue
        if step.key in seen:
            _problem(
                problems, step.key, "/key", f"Two steps are called {step.key!r}; keys are unique."
            )
        seen.add(step.key)
        steps.append(step)
    return steps


STEP_FIELDS = {
    "key", "name", "action", "connection", "input", "run_if", "for_each", "on_error", "await_job",
    "timeout_seconds",
}  # fmt: skip
#: The longest a step's own timeout may be (a week: long enough for any Klaviyo job).
MAX_STEP_TIMEOUT = 7 * 24 * 3600


def _step(entry: Any, position: int, problems: list[WorkflowProblem]) -> Step | None:
    label = f"step {position + 1}"
    if not isinstance(entry, dict):
        _problem(problems, label, "", f"A step is an object, not {_type_name(entry)}.")
        return None
    key = entry.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        _problem(
            problems, label, "/key",
            "A step key starts with a lowercase letter and has only lowercase letters, digits "
            "and underscores (at most 64), e.g. find_profile.",
        )  # fmt: skip
        key = f"step_{position + 1}"
    elif key in RESERVED_KEYS:
        _problem(problems, key, "/key", f"{key!r} is a reserved word; choose another key.")
    for extra in sorted(set(entry) - STEP_FIELDS):
        _problem(problems, key, f"/{extra}", f"Unknown step field {extra!r}.")
    action = entry.get("action")
    if not isinstance(action, str) or not action:
        _problem(problems, key, "/action", "Choose the action this step runs.")
        action = ""
    connection = entry.get("connection")
    if connection is not None and not isinstance(connection, str):
        _problem(problems, key, "/connection", "The connection is named by its name (text).")
        connection = None
    value = entry.get("input", {})
    if not isinstance(value, dict):
        _problem(problems, key, "/input", "A step's input is an object of fields.")
        value = {}
    run_if = entry.get("run_if")
    if run_if is not None and not isinstance(run_if, dict):
        _problem(problems, key, "/run_if", 'run_if is a group: {"all": [...]} or {"any": [...]}.')
        run_if = None
    name = entry.get("name", "")
    if not isinstance(name, str) or len(name) > 200:
        _problem(problems, key, "/name", "A step's name is text of at most 200 characters.")
        name = ""
    await_job = entry.get("await_job", False)
    if not isinstance(await_job, bool):
        _problem(problems, key, "/await_job", "await_job is true or false.")
        await_job = False
    timeout = entry.get("timeout_seconds")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not 1 <= timeout <= MAX_STEP_TIMEOUT
    ):
        _problem(
            problems, key, "/timeout_seconds",
            f"timeout_seconds is a number of seconds from 1 to {MAX_STEP_TIMEOUT} (a week).",
        )  # fmt: skip
        timeout = None
    return Step(
        key=key,
        action=action,
        connection=connection,
        input=value,
        run_if=run_if,
        for_each=_for_each(entry.get("for_each"), key, problems),
        on_error=_on_error(entry.get("on_error", "stop"), key, problems),
        await_job=await_job,
        timeout_seconds=timeout,
        name=name,
        position=position,
    )


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _for_each(raw: Any, key: str, problems: list[WorkflowProblem]) -> ForEach | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = {"items": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), str):
        _problem(
            problems, key, "/for_each",
            'for_each names a list: {"items": "{{ steps.find.data.data }}"}.',
        )  # fmt: skip
        return None
    max_items = raw.get("max_items", DEFAULT_FOR_EACH_ITEMS)
    if not _whole(max_items, 1, MAX_FOR_EACH_ITEMS):
        _problem(
            problems, key, "/for_each/max_items",
            f"max_items is a whole number from 1 to {MAX_FOR_EACH_ITEMS}.",
        )  # fmt: skip
        max_items = DEFAULT_FOR_EACH_ITEMS
    in_flight = raw.get("in_flight", 1)
    if not _whole(in_flight, 1, MAX_IN_FLIGHT):
        _problem(
            problems, key, "/for_each/in_flight",
            f"in_flight is a whole number from 1 to {MAX_IN_FLIGHT}.",
        )  # fmt: skip
        in_flight = 1
    for extra in sorted(set(raw) - {"items", "max_items", "in_flight"}):
        _problem(problems, key, f"/for_each/{extra}", f"Unknown for_each field {extra!r}.")
    return ForEach(raw["items"], max_items, in_flight)


def _on_error(raw: Any, key: str, problems: list[WorkflowProblem]) -> OnError:
    if raw in ("stop", "continue"):
        return OnError(raw)
    if isinstance(raw, dict) and set(raw) == {"retry"} and _whole(raw["retry"], 1, MAX_RETRIES):
        return OnError("retry", raw["retry"])
    _problem(
        problems, key, "/on_error",
        f'on_error is "stop", "continue" or {{"retry": N}} with N from 1 to {MAX_RETRIES}.',
    )  # fmt: skip
    return OnError()
