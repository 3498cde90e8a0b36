"""Check references at build time against the JSON Schemas of the trigger and upstream steps.

`infer` says what a reference stands for (a schema) and what is wrong with it; `check_value`
walks a step's input beside the action's input schema and reports every reference that names
nothing, comes from a later step, or does not fit its field. Messages are sentences a marketer
can act on:

    steps.find.data.data[0].idd: "idd" is not a field of a profile; did you mean "id"?

A path into an object that may hold any field (no `properties`, or `additionalProperties: true`)
is a warning, not an error: it cannot be checked, only trusted.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass, field
from typing import Any

from .placeholders import placeholder, with_placeholders
from .references import (
    RUN_FIELDS,
    Reference,
    Template,
    TemplateSyntaxError,
    escape_pointer_token,
    format_literal,
    format_path,
    parse_template,
)
from .schemas import (
    branches,
    describe_format,
    describe_kinds,
    enum_values,
    items_schema,
    json_type,
    kinds,
    literal_schema,
    object_name,
    property_schema,
    schema_kinds,
    string_format,
    without_null,
)

__all__ = [
    "RUN_SCHEMA",
    "Problem",
    "Scope",
    "check_value",
    "infer",
    "placeholder",
    "with_placeholders",
]

RUN_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "started_at": {"type": "string", "format": "date-time"},
        "workflow_id": {"type": "integer"},
        "version": {"type": "integer"},
    },
    "required": list(RUN_FIELDS),
    "additionalProperties": False,
}
ITEM_INDEX_SCHEMA: dict = {"type": "integer", "minimum": 0}
WARN = "warning"
_STRING: dict = {"type": "string"}
_FIELD_LIST_LIMIT = 12


@dataclass(frozen=True)
class Problem:
    """One finding at a JSON pointer into the step (`/profile_ids/0`); "error" or "warning"."""

    pointer: str
    message: str
    severity: str = "error"


@dataclass
class Scope:
    """What a step can refer to.

    `trigger` is the trigger's payload schema; `steps` maps each step key UPSTREAM of the step
    being checked, in order, to its output schema; `later_steps` holds the keys of the step
    itself and the steps below it; `item` is the `for each` item's schema (None without one);
    `current` is the checked step's own key, when known, for a clearer message.
    """

    trigger: dict = field(default_factory=dict)
    steps: dict[str, dict] = field(default_factory=dict)
    later_steps: set[str] = field(default_factory=set)
    item: dict | None = None
    current: str | None = None


def _short(reference: Reference, index: int) -> str:
    """Name the part of the path before segment `index`: `data.data` within a step, else full."""
    if reference.root == "steps" and index >= 2:
        return format_path("", reference.path[1:index]).lstrip(".")
    return format_path(reference.root, reference.path[:index])


def _fields_hint(word: str, names: list[str]) -> str:
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if close:
        return f'; did you mean "{close[0]}"?'
    if not names:
        return "; it has no fields"
    listed = ", ".join(names[:_FIELD_LIST_LIMIT])
    return f"; its fields are {listed}" + (", ..." if len(names) > _FIELD_LIST_LIMIT else "")


class _Inference:
    """Walk one reference's path and filters through the schemas of a Scope."""

    def __init__(self, reference: Reference, scope: Scope) -> None:
        self.reference = reference
        self.scope = scope
        self.problems: list[Problem] = []
        # Names of objects reached through a named one: path index -> "a profile's attributes".
        self.derived_names: dict[int, str] = {}

    def problem(self, message: str, severity: str = "error") -> None:
        self.problems.append(Problem("", f"{self.reference.dotted}: {message}", severity))

    def root(self) -> tuple[dict | None, int]:
        """Return the schema the path starts from and the index of its first segment."""
        reference, scope = self.reference, self.scope
        if reference.root == "trigger":
            return scope.trigger or {}, 0
        if reference.root == "run":
            return RUN_SCHEMA, 0
        if reference.root in ("item", "item_index"):
            if scope.item is None:
                suffix = "" if reference.root == "item" else ", so item_index is not set"
                self.problem(f'this step has no "for each"{suffix}')
                return None, 0
            return (scope.item if reference.root == "item" else ITEM_INDEX_SCHEMA), 0
        key = str(reference.path[0])
        if key in scope.steps:
            return scope.steps[key], 1
        if key == scope.current:
            self.problem(f'step "{key}" is this step; it cannot use its own output')
        elif key in scope.later_steps:
            self.problem(f'step "{key}" runs after this one, so its output is not there yet')
        else:
            known = [*scope.steps, *sorted(scope.later_steps)]
            self.problem(f'there is no step "{key}"' + _did_you_mean(key, known))
        return None, 0

    def owner(self, index: int, branch: dict) -> str:
        """Name the object whose field segment `index` names, for "is not a field of ..."."""
        reference = self.reference
        if index == 1 and reference.root == "steps":
            return f'the output of step "{reference.path[0]}"'
        if index == 0 and reference.root == "item":
            return object_name(branch) or "the item"
        return object_name(branch) or self.derived_names.get(index) or "this object"

    def walk(self, schema: dict, start: int) -> dict | None:
        """Follow the path from `schema`; return the schema reached, or None (with a problem)."""
        path = self.reference.path
        for index in range(start, len(path)):
            segment = path[index]
            alternatives = branches(schema)
            if not alternatives:
                self.problem(f"{_short(self.reference, index)} is always empty (null)")
                return None
            found: list[dict] = []
            is_open = False
            misfits: list[tuple[dict, set[str]]] = []
            for branch in alternatives:
                allowed = kinds(branch)
                if allowed is None:
                    is_open = True
                elif isinstance(segment, str) and "object" in allowed:
                    properties = branch.get("properties")
                    extra = branch.get("additionalProperties")
                    if properties is not None and segment in properties:
                        found.append(properties[segment])
                        parent = object_name(branch)
                        if parent:
                            self.derived_names[index + 1] = f"{parent}'s {segment}"
                    elif isinstance(extra, dict):
                        found.append(extra)
                    elif properties is None or extra is True:
                        is_open = True
                    else:
                        misfits.append((branch, allowed))
                elif isinstance(segment, int) and "array" in allowed:
                    found.append(branch.get("items", {}))
                else:
                    misfits.append((branch, allowed))
            if found:
                schema = found[0] if len(found) == 1 else {"anyOf": found}
            elif is_open:
                where = _short(self.reference, index)
                self.problem(
                    f"cannot check beyond {where}, which may hold any field; "
                    f'make sure "{format_path("", path[index:]).lstrip(".")}" exists',
                    "warning",
                )
                return None
            else:
                self.misfit(index, misfits)
                return None
        return schema

    def misfit(self, index: int, misfits: list[tuple[dict, set[str]]]) -> None:
        """Report why segment `index` fits none of the alternatives."""
        reference = self.reference
        segment = reference.path[index]
        where = _short(reference, index)
        allowed = set().union(*(names for _, names in misfits))
        if isinstance(segment, int):
            self.problem(f"{where} is {describe_kinds(allowed)}, not a list")
            return
        objects = [branch for branch, names in misfits if "object" in names]
        if objects:
            names = list(dict.fromkeys(n for branch in objects for n in branch["properties"]))
            hint = _fields_hint(segment, names)
            if reference.root in ("trigger", "run") and index == 0:
                self.problem(f'the {reference.root} has no field "{segment}"{hint}')
                return
            owners = list(dict.fromkeys(self.owner(index, branch) for branch in objects))
            owner = " or ".join(owners) if len(owners) <= 3 else "this object"
            self.problem(f'"{segment}" is not a field of {owner}{hint}')
        elif "array" in allowed:
            example = format_path(where, (0, *reference.path[index:]))
            self.problem(f"{where} is a list; pick an item first, e.g. {example}")
        else:
            self.problem(f'{where} is {describe_kinds(allowed)}, so it has no field "{segment}"')

    def needs(self, index: int, found: set[str] | None, accepted: set[str], words: str) -> None:
        """Report filter `index` when its input is known and of none of the `accepted` types."""
        if found and not found & accepted:
            self.problem(
                f'the filter "{self.reference.filters[index].name}" needs {words}, '
                f"but {self.subject(index)} is {describe_kinds(found)}"
            )

    def subject(self, index: int) -> str:
        """Name the value filter `index` receives: the path and the filters before it."""
        reference = self.reference
        return " | ".join([reference.dotted, *(str(f) for f in reference.filters[:index])])

    def filters(self, schema: dict | None) -> dict | None:
        """Apply the reference's filters to the schema; report filters that cannot apply."""
        for index, filter_ in enumerate(self.reference.filters):
            name = filter_.name
            found = schema_kinds(schema) if schema is not None else None
            if name == "default":
                schema = _with_default(schema, filter_.args[0])
            elif name in ("lower", "upper"):
                self.needs(index, found, {"string"}, "text")
                schema = dict(_STRING)
            elif name == "length":
                self.needs(index, found, {"string", "array", "object"}, "text, a list or an object")
                schema = {"type": "integer", "minimum": 0}
            elif name in ("first", "last"):
                self.needs(index, found, {"array"}, "a list")
                schema = items_schema(schema) if schema is not None else None
            elif name == "join":
                self.needs(index, found, {"array"}, "a list")
                item_kinds = schema_kinds(items_schema(schema)) if schema is not None else None
                if item_kinds and item_kinds & {"object", "array"}:
                    self.problem(
                        f'the filter "join" needs a list of texts or numbers, but '
                        f"{self.subject(index)} is a list of {_plural(item_kinds)}"
                    )
                schema = dict(_STRING)
            else:  # json
                schema = dict(_STRING)
        return schema


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _plural(names: set[str]) -> str:
    words = {"object": "objects", "array": "lists", "string": "texts", "boolean": "true/false"}
    return " or ".join(words.get(name, "numbers") for name in sorted(names))


def _with_default(schema: dict | None, value: Any) -> dict | None:
    """Return the schema after `default(value)`: the value's non-null types or the default's."""
    if schema is None or value is None:
        return schema
    own = [without_null(branch) for branch in branches(schema)]
    if not own:
        return literal_schema(value)
    own_kinds = schema_kinds({"anyOf": own})
    if own_kinds is None or _fits(json_type(value), own_kinds):
        return own[0] if len(own) == 1 else {"anyOf": own}
    return {"anyOf": [*own, literal_schema(value)]}


def infer(ref: Reference, scope: Scope) -> tuple[dict | None, list[Problem]]:
    """Return the JSON schema `ref` stands for, after filters, and the problems found.

    The schema is None when it cannot be known (a path error, or a path into an open object).
    Problems carry an empty pointer; `check_value` places them at the string's pointer.
    """
    inference = _Inference(ref, scope)
    schema, start = inference.root()
    if schema is not None:
        schema = inference.walk(schema, start)
    if not any(problem.severity == "error" for problem in inference.problems):
        schema = inference.filters(schema)
    if any(problem.severity == "error" for problem in inference.problems):
        return None, inference.problems
    return schema, inference.problems


# --- fitting a reference into a field -----------------------------------------------------------


def _quote_values(values: list) -> str:
    shown = ", ".join(format_literal(value) for value in values[:6])
    return shown + (", ..." if len(values) > 6 else "")


def _fits(kind: str, allowed: set[str]) -> bool:
    return kind in allowed or (kind == "integer" and "number" in allowed)


def _fit(subject: str, source: str, inferred: dict, expected: dict, pointer: str) -> list[Problem]:
    """Return the problems of putting a value of schema `inferred` into a field of `expected`."""
    allowed = schema_kinds(expected)
    found = schema_kinds(inferred)
    if allowed is None or found is None:
        return []
    if not found:
        return [Problem(pointer, f"{subject} is always empty (null)", "warning")]
    # A number may still be whole: allowed into an integer field with a warning below.
    fitting = {k for k in found if _fits(k, allowed) or (k == "number" and "integer" in allowed)}
    wanted = describe_kinds(allowed, expected=True)
    if not fitting:
        message = f"expected {wanted}, but {subject} is {describe_kinds(found)}"
        item_kinds = schema_kinds(items_schema(expected))
        if found == {"array"} and "|" not in subject:
            message += f"; pick one item, e.g. {subject}[0]"
        elif allowed == {"array"} and all(_fits(kind, item_kinds or {kind}) for kind in found):
            message += f'; put it in a list: ["{{{{ {source} }}}}"]'
        return [Problem(pointer, message)]
    problems: list[Problem] = []
    if fitting != found:
        maybe = describe_kinds(found - fitting)
        problems.append(Problem(pointer, f"expected {wanted}, but {subject} may be {maybe}", WARN))
    if "number" in fitting and "number" not in allowed:
        problems.append(
            Problem(pointer, f"expected {wanted}, but {subject} may have decimals", WARN)
        )
    if "array" in fitting:
        problems.extend(_fit_items(subject, inferred, expected, pointer))
    if "string" in fitting:
        problems.extend(_fit_string(subject, inferred, expected, pointer))
    return problems


def _fit_items(subject: str, inferred: dict, expected: dict, pointer: str) -> list[Problem]:
    allowed = schema_kinds(items_schema(expected))
    found = schema_kinds(items_schema(inferred))
    if not allowed or not found:
        return []
    fitting = {kind for kind in found if _fits(kind, allowed)}
    if fitting == found:
        return []
    verb, severity = ("is", "error") if not fitting else ("may be", WARN)
    message = (
        f"expected a list of {_plural(allowed)}, but {subject} {verb} a list of "
        f"{_plural(found - fitting)}"
    )
    return [Problem(pointer, message, severity)]


def _fit_string(subject: str, inferred: dict, expected: dict, pointer: str) -> list[Problem]:
    """Check an enum or format field: fine when known to fit, a warning when it cannot be told."""
    wanted = enum_values(expected)
    if wanted is not None:
        offered = enum_values(inferred)
        listed = _quote_values(wanted)
        if offered is None:
            message = f"cannot check that {subject} is one of {listed}; make sure it is"
            return [Problem(pointer, message, WARN)]
        outside = [value for value in offered if value not in wanted]
        if not outside:
            return []
        if len(outside) == len(offered):
            message = f"expected one of {listed}, but {subject} is one of {_quote_values(offered)}"
            return [Problem(pointer, message)]
        message = f"{subject} may be {_quote_values(outside)}, which is not one of {listed}"
        return [Problem(pointer, message, WARN)]
    wanted_format = string_format(expected)
    offered_format = string_format(inferred)
    if wanted_format is None or offered_format == wanted_format:
        return []
    if offered_format is None:
        wanted_words = describe_format(wanted_format)
        message = f"cannot check that {subject} is {wanted_words}; make sure it is"
    else:
        message = (
            f"expected {describe_format(wanted_format)}, "
            f"but {subject} is {describe_format(offered_format)}"
        )
    return [Problem(pointer, message, WARN)]


# --- walking a step's input ---------------------------------------------------------------------


def _check_text(text: str, schema: dict | None, scope: Scope, pointer: str) -> list[Problem]:
    """Check one string of a step's input: its syntax, its references and how it fits its field."""
    try:
        template = parse_template(text)
    except TemplateSyntaxError as error:
        return [Problem(pointer, str(error))]
    problems: list[Problem] = []
    inferred: dict | None = None
    for reference in template.references:
        inferred, found = infer(reference, scope)
        problems.extend(dataclasses.replace(problem, pointer=pointer) for problem in found)
        found_kinds = schema_kinds(inferred) if inferred is not None else None
        if not template.is_single_reference and found_kinds and found_kinds <= {"object", "array"}:
            message = (
                f"{reference.source} is {describe_kinds(found_kinds)}; it will be written into "
                "the text as JSON (add | json to say so)"
            )
            problems.append(Problem(pointer, message, WARN))
    if template.is_literal or schema is None or any(p.severity == "error" for p in problems):
        return problems
    if template.is_single_reference:
        if inferred is not None:
            source = template.references[0].source
            problems.extend(_fit(source, source, inferred, schema, pointer))
        return problems
    fits = _fit("this", "", _STRING, schema, pointer)
    if fits and fits[0].severity == "error" and _is_padded_reference(template):
        hint = "; remove the spaces around {{ }} to pass the value itself"
        fits[0] = dataclasses.replace(fits[0], message=fits[0].message + hint)
    return problems + fits


def _is_padded_reference(template: Template) -> bool:
    texts = [part for part in template.parts if isinstance(part, str)]
    return len(template.references) == 1 and all(not text.strip() for text in texts)


def check_value(value: Any, schema: dict | None, scope: Scope, pointer: str = "") -> list[Problem]:
    """Return the problems of the references in `value`, a step's input walked beside `schema`.

    Every string with references is checked: paths against the scope (`infer`), a lone
    reference's type against its field, text against a text field. Syntax errors become
    problems at their string's pointer. Literal values are left to JSON Schema validation.
    """
    if isinstance(value, str):
        if "{{" not in value:
            return []
        return _check_text(value, schema, scope, pointer)
    problems: list[Problem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = property_schema(schema, key) if schema is not None else None
            problems.extend(check_value(item, sub, scope, f"{pointer}/{escape_pointer_token(key)}"))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            sub = items_schema(schema, index) if schema is not None else None
            problems.extend(check_value(item, sub, scope, f"{pointer}/{index}"))
    return problems
