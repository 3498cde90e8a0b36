"""Generate a minimal valid input for an action from its input schema.

Used by the tests, the sandbox, the editor ("fill with an example") and the benchmarks;
`filled_value` fills every optional field too. Values come, in order of
preference, from the field's `examples`, `const`, `enum`, `default`, then its type and format.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .registry import Action

# A 1x1 transparent PNG: the smallest image Klaviyo's upload accepts.
TINY_PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
_BY_FORMAT = {
    "email": "alice@example.com",
    "date-time": "2025-01-01T00:00:00Z",
    "date": "2025-01-01",
    "uri": "https://example.com/a.png",
}
_BY_PATTERN = {
    r"^\+[1-9][0-9]{1,14}$": "+15005550006",
    r"^[^:]+:::[^:]+:::.+$": "$custom:::$default:::SAMPLE-1",
    "^https://": "https://example.com/webhook",
}


def example_input(action: Action) -> dict[str, Any]:
    """Return a minimal input that passes `action`'s input schema (required fields only)."""
    schema = action.input_schema
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    return generate_input(schema)


def generate_input(schema: dict[str, Any]) -> dict[str, Any]:
    """Build a minimal object for an input schema, ignoring any stored whole-input example."""
    value = _object(schema)
    return value if isinstance(value, dict) else {}


def example_value(schema: dict[str, Any]) -> Any:
    """Return one valid value for `schema`."""
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    enum = [value for value in schema.get("enum", []) if value is not None]
    if enum:
        return copy.deepcopy(enum[0])
    if schema.get("default") is not None:
        return copy.deepcopy(schema["default"])
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:
        concrete = [b for b in branches if b.get("type") != "null"] or branches
        return example_value(concrete[0])
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _BUILDERS.get(kind, _null)(schema)


def _string(schema: dict[str, Any]) -> str:
    if schema.get("contentEncoding") == "base64":
        return TINY_PNG_BASE64
    if schema.get("format") in _BY_FORMAT:
        return _BY_FORMAT[schema["format"]]
    if schema.get("pattern") in _BY_PATTERN:
        return _BY_PATTERN[schema["pattern"]]
    text = "example"
    minimum = schema.get("minLength", 0)
    if len(text) < minimum:
        text = text * (minimum // len(text) + 1)
    return text[: schema.get("maxLength", len(text))]


def _number(schema: dict[str, Any]) -> int | float:
    value = schema.get("minimum", 1)
    if "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    return int(value) if schema.get("type") == "integer" or isinstance(value, int) else value


def _array(schema: dict[str, Any]) -> list[Any]:
    count = max(schema.get("minItems", 1), 1)
    item = example_value(schema.get("items", {}))
    return [copy.deepcopy(item) for _ in range(count)]


def _object(schema: dict[str, Any]) -> dict[str, Any]:
    properties = schema.get("properties", {})
    wanted = list(schema.get("required", []))
    # Alternatives of required fields ("emails or profile_ids"): satisfy the first one.
    for key in ("anyOf", "oneOf"):
        branches = schema.get(key) or []
        if branches and all(set(b) == {"required"} for b in branches):
            wanted += [name for name in branches[0]["required"] if name not in wanted]
    return {name: example_value(properties.get(name, {})) for name in wanted}


def _null(schema: dict[str, Any]) -> None:
    return None


_BUILDERS = {
    "string": _string,
    "integer": _number,
    "number": _number,
    "boolean": lambda schema: True,
    "array": _array,
    "object": _object,
    "null": _null,
}


def filled_value(schema: dict[str, Any], depth: int = 0) -> Any:
    """Return a value for `schema` with every optional property filled too, not only the
    required ones (four levels deep; below that, and for choices, `example_value`)."""
    if schema.get("examples"):
        return copy.deepcopy(schema["examples"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if "enum" in schema or "anyOf" in schema or depth > 3:
        return example_value(schema)
    if kind == "object" and "properties" in schema:
        return {name: filled_value(sub, depth + 1) for name, sub in schema["properties"].items()}
    if kind == "array" and isinstance(schema.get("items"), dict):
        return [filled_value(schema["items"], depth + 1)]
    return example_value(schema)
