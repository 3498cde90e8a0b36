"""The editor's step forms beside the input: settings, conditions, the trigger's field builder,
the data picker's tree and the chips that say what a mapped field holds.

Like `builder.forms.schema`, each reader here turns posted fields back into the workflow format
(docs/workflows.md); the validator then checks the result, so nothing here judges a value
beyond reading it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from builder.engine.definition import MAX_IN_FLIGHT, MAX_RETRIES
from builder.engine.mapping import ResolveError, resolve_reference, to_text
from builder.engine.references import TemplateSyntaxError, parse_template
from builder.engine.schemas import branches, without_null
from builder.engine.typecheck import Scope, infer
from builder.forms.conditions import posted, read_condition
from builder.forms.widgets import Chip, FieldError, label_of
from builder.strictjson import JsonRefused, loads
from integrations.klaviyo.schema_view import type_label

#: The trigger field builder's types and the schema each stands for.
FIELD_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "string": ("Text", {"type": "string"}),
    "email": ("Email address", {"type": "string", "format": "email"}),
    "number": ("Number", {"type": "number"}),
    "integer": ("Whole number", {"type": "integer"}),
    "boolean": ("Yes / no", {"type": "boolean"}),
    "date-time": ("Date and time", {"type": "string", "format": "date-time"}),
    "date": ("Date", {"type": "string", "format": "date"}),
    "list": ("List of text", {"type": "array", "items": {"type": "string"}}),
    "object": ("Object", {"type": "object"}),
}


# --- the trigger's field builder -----------------------------------------------------------------


@dataclass
class TriggerField:
    name: str = ""
    type: str = "string"
    required: bool = False
    description: str = ""
    #: A property the builder has no type for, kept as it is.
    schema_json: str = ""


def trigger_fields(input_schema: Any) -> list[TriggerField]:
    """Return the trigger's input fields as rows of the field builder."""
    schema = input_schema if isinstance(input_schema, dict) else {}
    required = set(schema.get("required") or ())
    rows = []
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        bare = {k: v for k, v in prop.items() if k != "description"}
        kind = next((key for key, (_, s) in FIELD_TYPES.items() if s == bare), None)
        rows.append(
            TriggerField(
                name=name,
                type=kind or "advanced",
                required=name in required,
                description=str(prop.get("description", "")),
                schema_json="" if kind else json.dumps(bare),
            )
        )
    return rows


def read_trigger_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the input schema the posted field builder (`t/<i>/name` ...) describes."""
    indexes = sorted(
        {
            int(key.split("/")[1])
            for key in data
            if key.startswith("t/")
            and key.count("/") == 2
            and key.split("/")[1].isdigit()
            and len(key.split("/")[1]) < 5
        }
    )
    properties: dict[str, Any] = {}
    required: list[str] = []
    errors: list[FieldError] = []
    for index in indexes:
        name = posted(data, f"t/{index}/name").strip()
        if not name:
            continue
        pointer = f"/trigger/input_schema/properties/{index}"
        kind = posted(data, f"t/{index}/type")
        if kind in FIELD_TYPES:
            prop = dict(FIELD_TYPES[kind][1])
        else:
            try:
                prop = loads(posted(data, f"t/{index}/schema") or "{}")
            except JsonRefused as error:
                errors.append(FieldError(pointer, f"The field's schema: {error}."))
                continue
            if not isinstance(prop, dict):
                prop = {}
        description = posted(data, f"t/{index}/description").strip()
        if description:
            prop["description"] = description
        if name in properties:
            errors.append(FieldError(pointer, f"There are two fields named “{name}”."))
            continue
        properties[name] = prop
        if data.get(f"t/{index}/required"):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema, errors


# --- step settings ------------------------------------------------------------------------------


def _int(text: str, pointer: str, errors: list[FieldError], what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.lstrip("-").isdigit() or len(text) > 12:
        errors.append(FieldError(pointer, f"Enter {what} as a whole number."))
        return None
    return int(text)


def read_settings(data: Mapping[str, Any], step: dict[str, Any]) -> tuple[dict, list[FieldError]]:
    """Return `step` with the posted settings (`s/...`) in place of its own."""
    errors: list[FieldError] = []
    out = {k: v for k, v in step.items() if k in ("key", "action", "input")}
    name = posted(data, "s/name").strip()
    if name:
        out["name"] = name
    connection = posted(data, "s/connection").strip()
    if connection:
        out["connection"] = connection
    run_if, found = read_condition(data, "s/run_if", "/run_if")
    errors.extend(FieldError(e.pointer, e.message) for e in found)
    if run_if is not None:
        out["run_if"] = run_if
    items = posted(data, "s/for_each/items").strip()
    if items:
        for_each: dict[str, Any] = {"items": items}
        for name, what in (("max_items", "the most items"), ("in_flight", "items at once")):
            number = _int(posted(data, f"s/for_each/{name}"), f"/for_each/{name}", errors, what)
            if number is not None:
                for_each[name] = number
        out["for_each"] = for_each
    mode = posted(data, "s/on_error") or "stop"
    if mode == "retry":
        retries = _int(posted(data, "s/retries"), "/on_error", errors, "the number of tries")
        out["on_error"] = {"retry": retries if retries is not None else 3}
    elif mode == "continue":
        out["on_error"] = "continue"
    if data.get("s/await_job"):
        out["await_job"] = True
    timeout = posted(data, "s/timeout_seconds").strip()
    if timeout:
        try:
            seconds = float(timeout)
        except ValueError:
            errors.append(FieldError("/timeout_seconds", "Enter the timeout in seconds."))
        else:
            out["timeout_seconds"] = int(seconds) if seconds.is_integer() else seconds
    return out, errors


def on_error_parts(value: Any) -> tuple[str, int]:
    if isinstance(value, dict) and "retry" in value:
        retries = value.get("retry")
        return "retry", retries if isinstance(retries, int) else 3
    return (value if value in ("stop", "continue") else "stop"), 3


LIMITS = {"max_retries": MAX_RETRIES, "max_in_flight": MAX_IN_FLIGHT}


# --- chips and the data picker -------------------------------------------------------------------


def _source(root: str, path: tuple) -> str:
    if root == "steps" and path:
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[1:]).lstrip(".")
        return f"Step {path[0]}" + (f" · {rest}" if rest else "")
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    return label_of(root) + (f" · {text}" if text else "")


class Chips:
    """Say what each reference in a text stands for, from the step's scope and the samples."""

    def __init__(self, scope: Scope | None, samples: Mapping[str, Any]) -> None:
        self.scope = scope
        self.samples = samples

    def __call__(self, text: str) -> list[Chip]:
        try:
            template = parse_template(text)
        except TemplateSyntaxError:
            return []
        chips = []
        for reference in template.references:
            kind = "unknown"
            if self.scope is not None:
                schema, _ = infer(reference, self.scope)
                if schema is not None:
                    kind = type_label(schema) or "any"
            sample = ""
            try:
                found = resolve_reference(reference, self.samples)
            except (ResolveError, TypeError, ValueError):
                found = None
            if found is not None:
                sample = to_text(found)[:120]
            chips.append(Chip(_source(reference.root, reference.path), kind, sample))
        return chips


@dataclass
class DataNode:
    """One entry of the data picker: a value a field can take (`ref`), its type, its sample."""

    label: str
    ref: str
    type: str
    sample: str = ""
    children: list[DataNode] = field(default_factory=list)
    #: False for a node shown only to reach what is below it.
    pickable: bool = True


MAX_PICKER_DEPTH = 6
MAX_PICKER_CHILDREN = 80


def _path(base: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{base}[{name}]"
    if name.replace("_", "").isalnum() and not name[:1].isdigit():
        return f"{base}.{name}"
    return f'{base}["{name}"]'


def data_nodes(base: str, label: str, schema: Any, sample: Any = None, depth: int = 0) -> DataNode:
    """Return the picker's tree for a value of `schema` reached by `base` (`steps.find`);
    where the schema is open, the sample's own fields fill in."""
    options = [without_null(b) for b in branches(schema)] if isinstance(schema, dict) else [{}]
    one = options[0] if options else {}
    node = DataNode(label, base, type_label(one) if one else "any")
    if sample is not None and not isinstance(sample, dict | list):
        node.sample = to_text(sample)[:120]
    if depth >= MAX_PICKER_DEPTH:
        return node
    properties = one.get("properties") or {}
    if properties:
        for name, child in list(properties.items())[:MAX_PICKER_CHILDREN]:
            value = sample.get(name) if isinstance(sample, dict) else None
            node.children.append(data_nodes(_path(base, name), name, child, value, depth + 1))
    elif isinstance(sample, dict):
        for name, value in list(sample.items())[:MAX_PICKER_CHILDREN]:
            node.children.append(data_nodes(_path(base, name), name, {}, value, depth + 1))
        node.type = node.type if properties else "object"
    if "array" in (one.get("type"), node.type.split(" ")[0]) or one.get("items"):
        first = sample[0] if isinstance(sample, list) and sample else None
        items = one.get("items") or {}
        node.children.append(data_nodes(_path(base, 0), "first item", items, first, depth + 1))
    elif isinstance(sample, list) and sample:
        node.children.append(data_nodes(_path(base, 0), "first item", {}, sample[0], depth + 1))
    return node


def only_lists(node: DataNode) -> DataNode | None:
    """Return the tree cut down to the lists in it (what `for each` can go through), or None."""
    children = [kept for child in node.children if (kept := only_lists(child)) is not None]
    is_list = node.type.startswith("array")
    if not is_list and not children:
        return None
    return DataNode(node.label, node.ref, node.type, node.sample, children, pickable=is_list)
