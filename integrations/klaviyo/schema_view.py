"""Turn an action's JSON Schemas into rows a person can read: name, type, required, constraints."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

CONSTRAINTS = [
    ("maxLength", "at most {} characters"),
    ("minimum", "≥ {}"),
    ("maximum", "≤ {}"),
    ("exclusiveMinimum", "> {}"),
    ("exclusiveMaximum", "< {}"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches {}"),
]


@dataclass
class FieldRow:
    name: str
    type: str
    required: bool = False
    description: str = ""
    constraints: list[str] = field(default_factory=list)
    example: str = ""
    depth: int = 0


def type_label(schema: dict[str, Any]) -> str:
    """Return a short type name: `string (email)`, `array of string`, `object`, `a | b`."""
    if "anyOf" in schema or "oneOf" in schema:
        options = schema.get("anyOf") or schema.get("oneOf") or []
        labels = [type_label(option) for option in options if option.get("type") != "null"]
        labels = list(dict.fromkeys(label for label in labels if label))
        return " | ".join(labels) or "any"
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else " | ".join(kinds)
    if kind == "array":
        items = schema.get("items") or {}
        return f"array of {type_label(items) or 'any'}"
    if kind == "string" and schema.get("format"):
        return f"string ({schema['format']})"
    if kind is None and "enum" in schema:
        return "choice"
    return kind or ("object" if "properties" in schema else "any")


def constraints_of(schema: dict[str, Any]) -> list[str]:
    notes = []
    if "enum" in schema:
        values = [str(v) for v in schema["enum"] if v is not None]
        shown = ", ".join(values[:12]) + (f" … ({len(values)} in all)" if len(values) > 12 else "")
        notes.append(f"one of: {shown}")
    for key, minimum, unit in (("minLength", "not empty", "characters"), ("minItems", "", "items")):
        if schema.get(key, 0) > 1:
            notes.append(f"at least {schema[key]} {unit}")
        elif schema.get(key) == 1:
            notes.append(minimum or f"at least 1 {unit[:-1]}")
    for key, text in CONSTRAINTS:
        if key in schema:
            notes.append(text.format(schema[key]))
    if schema.get("uniqueItems"):
        notes.append("no duplicates")
    if "default" in schema:
        notes.append(f"default {schema['default']!r}")
    items = schema.get("items")
    if isinstance(items, dict) and "enum" in items:
        notes.extend(f"each {note}" for note in constraints_of({"enum": items["enum"]}))
    return notes


def _example(schema: dict[str, Any]) -> str:
    examples = schema.get("examples")
    if not examples:
        return ""
    value = examples[0]
    return value if isinstance(value, str) else json.dumps(value)


def input_rows(schema: dict[str, Any]) -> list[FieldRow]:
    """Return one row per top-level input field, required ones first."""
    required = set(schema.get("required", ()))
    rows = [
        FieldRow(
            name=name,
            type=type_label(prop),
            required=name in required,
            description=prop.get("description", ""),
            constraints=constraints_of(prop),
            example=_example(prop),
        )
        for name, prop in (schema.get("properties") or {}).items()
    ]
    return sorted(rows, key=lambda row: (not row.required, row.name))


def output_rows(schema: dict[str, Any], *, max_depth: int = 4) -> list[FieldRow]:
    """Return the mappable paths of an output schema (`data.data[].attributes.email`)."""
    rows: list[FieldRow] = []

    def walk(node: dict[str, Any], path: str, depth: int) -> None:
        for name, prop in (node.get("properties") or {}).items():
            child = f"{path}.{name}" if path else name
            rows.append(
                FieldRow(
                    name=child,
                    type=type_label(prop),
                    description=prop.get("description", ""),
                    depth=depth,
                )
            )
            if depth >= max_depth:
                continue
            target = prop
            suffix = ""
            if prop.get("type") == "array" or "array" in (prop.get("type") or []):
                target, suffix = prop.get("items") or {}, "[]"
            if target.get("properties"):
                walk(target, child + suffix, depth + 1)

    walk(schema, "", 0)
    return rows
