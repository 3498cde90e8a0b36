"""Read Klaviyo's OpenAPI spec and turn its (OpenAPI 3.0) schemas into JSON Schema 2020-12.

Only the generator and the tests use this module; the app reads the generated catalog instead.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HTTP_METHODS = ("get", "post", "put", "patch", "delete")

# Keywords that mean the same in OpenAPI 3.0 schemas and JSON Schema 2020-12.
_COPIED = (
    "type",
    "enum",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "default",
)


def one_line(text: str | None, limit: int = 0) -> str:
    """Return `text` on one line: HTML breaks and newlines become spaces, runs collapse."""
    if not text:
        return ""
    text = re.sub(r"<br\s*/?>", " ", text)
    text = text.replace("\\[", "[").replace("\\]", "]")
    text = re.sub(r"\s+", " ", text).strip()
    if limit and len(text) > limit:
        cut = text[:limit].rsplit(". ", 1)[0].rstrip(".")
        text = cut + "."
    return text


@dataclass(frozen=True)
class Operation:
    """One spec operation: where it lives and its raw OpenAPI object."""

    operation_id: str
    method: str
    path: str
    raw: dict[str, Any]

    @property
    def tag(self) -> str:
        """Return the operation's first spec tag: the action's category."""
        return self.raw.get("tags", ["Other"])[0]


class Spec:
    """Klaviyo's OpenAPI document with `$ref` resolution and schema conversion."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.revision = document["info"]["version"]
        self.operations: dict[str, Operation] = {}
        for path, item in document["paths"].items():
            for method, raw in item.items():
                if method in HTTP_METHODS:
                    op = Operation(raw["operationId"], method.upper(), path, raw)
                    self.operations[op.operation_id] = op

    @classmethod
    def load(cls, path: Path) -> Spec:
        """Read the spec file at `path`."""
        return cls(json.loads(path.read_text(encoding="utf-8")))

    # -- raw access --------------------------------------------------------------------------

    def deref(self, node: Any) -> Any:
        """Follow `$ref`s until a concrete node; return non-ref nodes unchanged."""
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def parameters(self, op: Operation) -> list[dict[str, Any]]:
        """Return the operation's path and query parameters (headers are the client's job)."""
        params = [self.deref(p) for p in op.raw.get("parameters", [])]
        return [p for p in params if p["in"] in ("path", "query")]

    def request_body(self, op: Operation) -> tuple[str, dict[str, Any]] | None:
        """Return (content type, resolved schema) of the request body, or None."""
        body = self.deref(op.raw.get("requestBody"))
        if not body:
            return None
        content_type, media = next(iter(body["content"].items()))
        return content_type, self.deref(media["schema"])

    def success_schema(self, op: Operation) -> dict[str, Any] | None:
        """Return the JSON schema of the first 2xx answer with a body, or None (e.g. 204)."""
        for status in sorted(op.raw["responses"]):
            if not status.startswith("2"):
                continue
            response = self.deref(op.raw["responses"][status])
            for media in response.get("content", {}).values():
                return media["schema"]
        return None

    def resolved(self, node: Any) -> Any:
        """Return `node` with every `$ref` inlined (cycles are cut), for validators."""
        return _inline(self, node, ())

    # -- conversion --------------------------------------------------------------------------

    def to_json_schema(
        self, node: Any, *, max_depth: int = 40, describe: bool = True, strict: bool = False
    ) -> dict[str, Any]:
        """Convert an OpenAPI 3.0 schema to JSON Schema 2020-12 for validating *input*.

        `nullable` becomes a `null` type, `oneOf` becomes `anyOf` (Klaviyo's branches overlap,
        e.g. the three identical send-option shapes, so `oneOf` would reject every value),
        `example` becomes `examples`, read-only properties are dropped. Recursion past
        `max_depth` (template definitions nest without end) is left unconstrained.
        `strict` keeps `oneOf` and read-only properties, to check requests as Klaviyo's spec
        literally reads.
        """
        return _convert(self, node, max_depth, (), describe, strict)


def _inline(spec: Spec, node: Any, stack: tuple[str, ...]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"]
            if name in stack:
                return {}
            return _inline(spec, spec.deref(node), (*stack, name))
        return {k: _inline(spec, v, stack) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(spec, v, stack) for v in node]
    return node


def _convert(
    spec: Spec, node: Any, depth: int, stack: tuple[str, ...], describe: bool, strict: bool = False
) -> dict[str, Any]:
    if isinstance(node, dict) and "$ref" in node:
        name = node["$ref"]
        outer_description = node.get("description")
        if name in stack or depth <= 0:
            out: dict[str, Any] = {}
        else:
            out = _convert(spec, spec.deref(node), depth, (*stack, name), describe, strict)
        if describe and outer_description:
            out = {**out, "description": one_line(outer_description)}
        return out
    if not isinstance(node, dict):
        return {}
    out = {key: node[key] for key in _COPIED if key in node}
    if describe and node.get("description"):
        out["description"] = one_line(node["description"])
    if "example" in node:
        out["examples"] = [node["example"]]
    if "properties" in node:
        props = {
            name: _convert(spec, sub, depth - 1, stack, describe, strict)
            for name, sub in node["properties"].items()
            if strict or not spec.deref(sub).get("readOnly")
        }
        out["properties"] = props
        required = [name for name in node.get("required", []) if name in props]
        if required:
            out["required"] = required
    if "items" in node:
        out["items"] = _convert(spec, node["items"], depth - 1, stack, describe, strict)
    for key in ("oneOf", "anyOf", "allOf"):
        if key in node:
            target = key if strict or key == "allOf" else "anyOf"
            branches = [
                _convert(spec, sub, depth - 1, stack, describe, strict) for sub in node[key]
            ]
            if target == "anyOf":
                # Identical alternatives (the three send-option shapes) read better as one.
                unique = {json.dumps(b, sort_keys=True): b for b in branches}
                branches = list(unique.values())
                if len(branches) == 1:
                    out = {**branches[0], **out}
                    continue
            out[target] = branches
    if isinstance(node.get("additionalProperties"), dict):
        out["additionalProperties"] = _convert(
            spec, node["additionalProperties"], depth - 1, stack, describe, strict
        )
    if out.get("format") == "binary":
        out.pop("format")
    if node.get("nullable"):
        out = allow_null(out)
    return out


def allow_null(schema: dict[str, Any]) -> dict[str, Any]:
    """Let `schema` also accept null (OpenAPI's `nullable: true`)."""
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return {**schema, key: [*schema[key], {"type": "null"}]}
    kind = schema.get("type")
    if kind is None:
        return schema
    types = kind if isinstance(kind, list) else [kind]
    schema = {**schema, "type": [*types, "null"] if "null" not in types else types}
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema
