"""Sample values that fit a JSON Schema, to validate a step's input before its run.

The validator cannot know what `{{ steps.find.data.data[0].id }}` will hold, so it puts a
sample of the field's own type in its place (`with_placeholders`) and validates the result
against the action's input schema; `typecheck.check_value` checks the references themselves.
"""

from __future__ import annotations

import math
from typing import Any

from .references import TemplateSyntaxError, parse_template
from .schemas import (
    branches,
    enum_values,
    items_schema,
    kinds,
    property_schema,
    schema_kinds,
    string_format,
)

_TYPE_ORDER = ("object", "array", "string", "integer", "number", "boolean")
_FORMAT_SAMPLES = {
    "email": "a{n}@example.com",
    "date-time": "2025-01-01T00:{minute:02d}:{second:02d}+00:00",
    "date": "2025-01-{day:02d}",
    "time": "00:{minute:02d}:{second:02d}",
    "uri": "https://example.com/{n}",
    "uri-reference": "https://example.com/{n}",
    "uuid": "00000000-0000-4000-8000-{n:012d}",
    "ipv4": "192.0.2.{day}",
}


def _first_kind(branch: dict) -> str | None:
    kind = branch.get("type")
    if isinstance(kind, list):
        kind = next((name for name in kind if name != "null"), "null")
    if kind is not None:
        return kind
    found = kinds(branch)
    return next((name for name in _TYPE_ORDER if found and name in found), None)


def _sample_string(branch: dict, variant: int) -> str:
    template = _FORMAT_SAMPLES.get(branch.get("format", ""))
    if template:
        return template.format(
            n=variant, day=variant % 28 + 1, minute=variant // 60 % 60, second=variant % 60
        )
    examples = branch.get("examples")
    if branch.get("pattern") and isinstance(examples, list) and examples:
        return str(examples[0])
    text = "x" if variant == 0 else f"x{variant}"
    text = text.ljust(int(branch.get("minLength", 0)), "x")
    if "maxLength" in branch:
        text = text[: int(branch["maxLength"])]
    return text


def _sample_number(branch: dict, variant: int, whole: bool) -> int | float:
    low = branch.get("minimum")
    if "exclusiveMinimum" in branch:
        low = branch["exclusiveMinimum"] + (1 if whole else 0.5)
    high = branch.get("maximum")
    if "exclusiveMaximum" in branch:
        high = branch["exclusiveMaximum"] - (1 if whole else 0.5)
    value: int | float = 1 + variant
    if low is not None and value < low:
        value = (math.ceil(low) if whole else low) + variant
    if high is not None and value > high:
        value = math.floor(high) if whole else high
    return int(value) if whole else value


def placeholder(schema: dict | None, *, variant: int = 0) -> Any:
    """Return a sample value of `schema`'s type that fits its format, bounds and enum.

    Strings are `"x"` (formats get `a@example.com`, an ISO date-time, `https://example.com/0`),
    numbers 1 within the bounds, booleans true, arrays `[placeholder(items)]` with at least
    `minItems` items, objects their required fields. `variant` gives distinct samples (for
    `uniqueItems` lists). Unknown schemas give `"x"`; null-only schemas give None.
    """
    if not isinstance(schema, dict):
        return _sample_string({}, variant)
    if "const" in schema:
        return schema["const"]
    alternatives = branches(schema)
    if not alternatives:
        return None
    branch = alternatives[0]
    if "const" in branch:
        return branch["const"]
    values = [value for value in branch.get("enum", ()) if value is not None]
    if values:
        return values[variant % len(values)]
    kind = _first_kind(branch)
    if kind == "object":
        properties = branch.get("properties") or {}
        return {
            name: placeholder(properties.get(name), variant=variant)
            for name in branch.get("required", ())
            if isinstance(name, str)
        }
    if kind == "array":
        count = max(1, int(branch.get("minItems", 0)))
        if "maxItems" in branch:
            count = min(count, int(branch["maxItems"]))
        items = branch.get("items")
        examples = [ex[0] for ex in branch.get("examples", ()) if isinstance(ex, list) and ex]
        if isinstance(items, dict) and "examples" not in items and examples:
            items = {**items, "examples": examples}  # a patterned item's only sample
        return [placeholder(items, variant=variant + index) for index in range(count)]
    if kind == "integer":
        return _sample_number(branch, variant, whole=True)
    if kind == "number":
        return _sample_number(branch, variant, whole=False)
    if kind == "boolean":
        return variant % 2 == 0
    if kind == "null":
        return None
    return _sample_string(branch, variant)


def with_placeholders(value: Any, schema: dict | None) -> Any:
    """Return `value` with each templated string replaced by a sample that fits its field.

    A lone reference becomes `placeholder(field schema)`; text with references keeps its
    literal parts (references as "x") unless the field wants a format or enum. Validate the
    result against the action's input schema to check everything but the references, whose
    types `check_value` checks. List items get distinct samples (for `uniqueItems`).
    """
    return _substitute(value, schema, 0)


def _substitute(value: Any, schema: dict | None, variant: int) -> Any:
    if isinstance(value, str):
        if "{{" not in value:
            return value
        try:
            template = parse_template(value)
        except TemplateSyntaxError:
            return placeholder(schema, variant=variant)
        if template.is_literal:
            return "".join(str(part) for part in template.parts)
        # Keep the literal parts only where any text fits: no enum, format or pattern.
        plain = schema is None or (
            enum_values(schema) is None
            and string_format(schema) is None
            and not any("pattern" in branch for branch in branches(schema))
            and "string" in (schema_kinds(schema) or {"string"})
        )
        if template.is_single_reference or not plain:
            return placeholder(schema, variant=variant)
        return "".join(part if isinstance(part, str) else f"x{variant}" for part in template.parts)
    if isinstance(value, dict):
        return {
            key: _substitute(item, property_schema(schema, key) if schema else None, variant)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [
            _substitute(item, items_schema(schema, index) if schema else None, variant + index)
            for index, item in enumerate(value)
        ]
    return value
