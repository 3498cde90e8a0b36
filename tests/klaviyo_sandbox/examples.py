"""Request bodies for sandbox operations: valid ones built from their JSON Schemas, pointed at
real resources, and the tools to change one member at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from jsonschema.exceptions import best_match

from integrations.klaviyo_sandbox.api.operations import defs
from integrations.klaviyo_sandbox.api.validation import validator

HINTS = {
    "email": "someone@example.com",
    "phone_number": "+15005550006",
    "endpoint_url": "https://hooks.example.com/k",
    "import_from_url": "https://images.example.com/a.png",
    "url": "https://shop.example.com/p",
}


def example(schema: Any, depth: int = 0, name: str = "", *, optional: bool = False) -> Any:
    """Return a small value satisfying `schema` (required members only, first alternatives).

    With `optional`, every member is there: a fuller value that may break the schema's rules
    (see `valid_example`).
    """
    if not isinstance(schema, dict) or depth > 25:
        return None
    if "$ref" in schema:
        target = defs()[schema["$ref"].rsplit("/", 1)[-1]]
        return example(target, depth + 1, name, optional=optional)
    if "enum" in schema:
        return next((v for v in schema["enum"] if v is not None), None)
    if "anyOf" in schema:
        options = [o for o in schema["anyOf"] if o.get("type") != "null"]
        return example(options[0], depth + 1, name, optional=optional) if options else None
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example(part, depth + 1, name, optional=optional)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        wanted = [p for p in props if optional or p in schema.get("required", []) or p in HINTS]
        return {p: example(props[p], depth + 1, p, optional=optional) for p in wanted}
    if kind == "array":
        return [example(schema.get("items", {}), depth + 1, name, optional=optional)]
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2026-01-01T00:00:00+00:00"
        if schema.get("format") == "date":
            return "2026-01-01"
        return HINTS.get(name, "sandbox-example")
    return {"integer": 1, "number": 1.5, "boolean": True}.get(kind)


def full_example(op: dict[str, Any]) -> Any:
    """Return the fullest valid body of an operation: every member, except those whose example
    value breaks the schema (dropped one by one, most relevant error first), or None."""
    body = example(op["body"]["schema"], optional=True)
    check = validator(op["id"])
    if check is None:
        return None
    for _ in range(500):
        error = best_match(check.iter_errors(body))
        if error is None:
            return body
        path = list(error.absolute_path)
        if not path:
            return None
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        del parent[path[-1]]
    return None


#: `(RAW, text)` in a body is written as the JSON number `text` (see `dumps`)
RAW = "__raw_number__"


def leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Yield `(path, value)` for every string and number inside a JSON value."""
    if isinstance(value, dict):
        for key, member in value.items():
            yield from leaves(member, (*path, key))
    elif isinstance(value, list):
        for index, member in enumerate(value):
            yield from leaves(member, (*path, index))
    elif isinstance(value, str | int | float) and not isinstance(value, bool):
        yield path, value


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    """Return a copy of a JSON value with the member at `path` replaced by `new`."""
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: replaced(value[head], rest, new)}
    return [replaced(item, rest, new) if i == head else item for i, item in enumerate(value)]


def with_real_ids(value: Any, ids: dict[str, str]) -> Any:
    """Point the ids of an example body at real resources: every `{"type", "id"}`, every
    `<type>_id` member (`metric_id`) and a campaign's audiences."""
    if isinstance(value, list):
        return [with_real_ids(item, ids) for item in value]
    if not isinstance(value, dict):
        return value
    value = {key: with_real_ids(member, ids) for key, member in value.items()}
    for key in value:
        kind = key.removesuffix("_id").replace("_", "-")
        if key.endswith("_id") and kind in ids and isinstance(value[key], str):
            value[key] = ids[kind]
        elif key == "included" and isinstance(value[key], list) and "list" in ids:
            value[key] = [ids["list"]]
    if "id" in value and value.get("type") in ids:
        value["id"] = ids[value["type"]]
    return value


def dumps(body: Any) -> str:
    """Write a JSON body; a `(RAW, text)` member is written as the number `text`."""
    raws: list[str] = []

    def placeholder(value: Any) -> Any:
        if isinstance(value, tuple) and value and value[0] == RAW:
            raws.append(value[1])
            return RAW
        if isinstance(value, dict):
            return {key: placeholder(member) for key, member in value.items()}
        if isinstance(value, list):
            return [placeholder(member) for member in value]
        return value

    text = json.dumps(placeholder(body))
    for raw in raws:
        text = text.replace(f'"{RAW}"', raw, 1)
    return text
