"""Type each action's output `data` from the spec's success answer, compactly.

Fully inlined, Klaviyo's answers weigh megabytes (flow definitions nest without end), so the
output schemas stop after `MAX_DEPTH` levels and merge alternative object shapes (`oneOf`) into
one object with every property: a later step maps `data.data.attributes.name` whichever shape
came back.
"""

from __future__ import annotations

import json
from typing import Any

from .spec import Spec, allow_null, one_line

MAX_DEPTH = 7
DESCRIBE_DEPTH = 6
DESCRIPTION_LIMIT = 200


def data_schema(spec: Spec, node: Any) -> dict[str, Any]:
    """Return the compact JSON schema of an answer body (`node` is the spec's schema)."""
    return _out(spec, node, MAX_DEPTH, ())


def envelope(data: dict[str, Any] | None) -> dict[str, Any]:
    """Wrap a data schema in the `{successful, error, data}` result every action returns."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "successful": {
                "type": "boolean",
                "description": "Whether or not the action execution was successful or not",
            },
            "error": {
                "type": ["string", "null"],
                "description": "Error if any occurred during the execution of the action",
            },
            "data": data
            if data is not None
            else {"type": "null", "description": "Klaviyo answers this call with no content."},
        },
        "required": ["successful", "error", "data"],
    }


def _out(spec: Spec, node: Any, depth: int, stack: tuple[str, ...]) -> dict[str, Any]:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"]
        if name in stack or depth <= 0:
            target = spec.deref(node)
            return {"type": target["type"]} if isinstance(target.get("type"), str) else {}
        out = _out(spec, spec.deref(node), depth, (*stack, name))
        if node.get("description") and depth >= MAX_DEPTH - DESCRIBE_DEPTH:
            out = {**out, "description": one_line(node["description"], DESCRIPTION_LIMIT)}
        return out
    if not isinstance(node, dict):
        return {}
    out: dict[str, Any] = {}
    for key in ("type", "enum", "format"):
        if key in node:
            out[key] = node[key]
    if node.get("description") and depth >= MAX_DEPTH - DESCRIBE_DEPTH:
        out["description"] = one_line(node["description"], DESCRIPTION_LIMIT)
    if depth <= 0:
        return {"type": node["type"]} if isinstance(node.get("type"), str) else {}
    if "properties" in node:
        out["properties"] = {
            key: _out(spec, sub, depth - 1, stack) for key, sub in node["properties"].items()
        }
        required = node.get("required")
        if required:
            out["required"] = list(required)
    if "items" in node:
        out["items"] = _out(spec, node["items"], depth - 1, stack)
    if "allOf" in node:
        parts = [_out(spec, sub, depth, stack) for sub in node["allOf"]]
        out = {**combine([out, *parts]), **{k: v for k, v in out.items() if k == "description"}}
    for key in ("oneOf", "anyOf"):
        if key in node:
            merged = merge([_out(spec, sub, depth - 1, stack) for sub in node[key]])
            out = {**merged, **{k: v for k, v in out.items() if k == "description"}}
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _out(spec, node["additionalProperties"], depth - 1, stack)
    if node.get("nullable"):
        out = allow_null(out)
    return out


def combine(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """Combine `allOf` parts: every property of every part, every part's required names."""
    out: dict[str, Any] = {}
    properties: dict[str, list[dict[str, Any]]] = {}
    required: list[str] = []
    for schema in schemas:
        for key, value in schema.items():
            if key == "properties":
                for name, sub in value.items():
                    properties.setdefault(name, []).append(sub)
            elif key == "required":
                required += [name for name in value if name not in required]
            else:
                out.setdefault(key, value)
    if properties:
        out["properties"] = {
            name: subs[0] if len(subs) == 1 else combine(subs) for name, subs in properties.items()
        }
        out.setdefault("type", "object")
    if required:
        out["required"] = required
    return out


def _kind(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        concrete = [k for k in kind if k != "null"]
        return concrete[0] if len(concrete) == 1 else None
    return kind if isinstance(kind, str) else None


def _nullable(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return isinstance(kind, list) and "null" in kind


def merge(schemas: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge alternative shapes: objects into one object, equal scalars into one, else anyOf."""
    unique: list[dict[str, Any]] = []
    seen: set[str] = set()
    for schema in schemas:
        key = json.dumps(schema, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(schema)
    if len(unique) == 1:
        return unique[0]
    kinds = {_kind(schema) for schema in unique}
    if kinds == {"object"}:
        properties: dict[str, list[dict[str, Any]]] = {}
        for schema in unique:
            for name, sub in schema.get("properties", {}).items():
                properties.setdefault(name, []).append(sub)
        nullable = any(_nullable(schema) for schema in unique)
        merged: dict[str, Any] = {"type": ["object", "null"] if nullable else "object"}
        if properties:
            merged["properties"] = {name: merge(subs) for name, subs in properties.items()}
        required = set.intersection(*(set(s.get("required", [])) for s in unique))
        if required:
            merged["required"] = sorted(required)
        return merged
    if len(kinds) == 1 and None not in kinds and all("properties" not in s for s in unique):
        kind = kinds.pop()
        merged = {"type": [kind, "null"] if any(map(_nullable, unique)) else kind}
        if kind == "array":
            merged["items"] = merge([s.get("items", {}) for s in unique])
        enums = [s.get("enum") for s in unique]
        if all(enums):
            merged["enum"] = sorted({v for e in enums for v in e}, key=str)
        return merged
    return {"anyOf": unique}
