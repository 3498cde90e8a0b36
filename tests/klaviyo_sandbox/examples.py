"""Small valid request bodies for sandbox operations, built from their JSON Schemas."""

from __future__ import annotations

from typing import Any

from integrations.klaviyo_sandbox.api.operations import defs

HINTS = {
    "email": "someone@example.com",
    "phone_number": "+15005550006",
    "endpoint_url": "https://hooks.example.com/k",
    "import_from_url": "https://images.example.com/a.png",
    "url": "https://shop.example.com/p",
}


def example(schema: Any, depth: int = 0, name: str = "") -> Any:
    """Return a small value satisfying `schema` (required members only, first alternatives)."""
    if not isinstance(schema, dict) or depth > 25:
        return None
    if "$ref" in schema:
        return example(defs()[schema["$ref"].rsplit("/", 1)[-1]], depth + 1, name)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return example(options[0], depth + 1, name) if options else None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example(part, depth + 1, name)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = [p for p in props if p in schema.get("required", []) or p in HINTS]
        return {p: example(props[p], depth + 1, p) for p in wanted}
    if kind == "array":
        return [example(schema.get("items", {}), depth + 1, name)]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00+00:00"
        if schema.get("format") == "date":
            return "2026-01-01"
        return HINTS.get(name, "sandbox-example")
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind)
