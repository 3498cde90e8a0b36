"""Turn the spec's OpenAPI 3.0 schemas into compact JSON Schema for the operation table.

Used only by `opsgen` (at generation time, never at run time). Two jobs:

* `SchemaCompactor` rewrites request-body schemas into plain JSON Schema (draft 2020-12) that
  `jsonschema` can validate: `nullable` becomes a `null` alternative, `oneOf` becomes `anyOf`
  (Klaviyo's `oneOf`s are discriminated unions whose alternatives often overlap — e.g. three
  identical `send_options` shapes — so strict `oneOf` would reject bodies Klaviyo accepts), and
  descriptions/examples are dropped. Shared component schemas land once in `$defs`.
* `resource_shapes` reads the response schemas to learn, per resource type, the attributes a
  response must carry (with defaults), its timestamp attribute names and its relationships.
"""

from __future__ import annotations

from typing import Any

# Keywords that matter for validation; everything else (descriptions, examples, x-*) is dropped.
_KEEP = {
    "type",
    "enum",
    "const",
    "format",
    "items",
    "required",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "maxProperties",
    "pattern",
    "additionalProperties",
}
# Formats jsonschema cannot check on a JSON body (file uploads) or that Klaviyo does not enforce.
_DROP_FORMATS = {"binary", "uri", "email"}


def ref_name(ref: str) -> str:
    """Return the component name a `#/components/schemas/<name>` reference points at."""
    return ref.rsplit("/", 1)[-1]


class SchemaCompactor:
    """Convert spec schemas to JSON Schema, collecting referenced components into `defs`."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components
        self.defs: dict[str, Any] = {}
        self._pending: set[str] = set()

    def convert(self, schema: Any) -> Any:
        """Return the JSON Schema for `schema`; referenced components are added to `defs`."""
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            converted = self._ref(ref_name(schema["$ref"]))
            return self._nullable(converted) if schema.get("nullable") else converted
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in _KEEP:
                if key == "items" or key == "additionalProperties" and isinstance(value, dict):
                    out[key] = self.convert(value)
                elif key == "format" and value in _DROP_FORMATS:
                    continue
                else:
                    out[key] = value
            elif key == "properties":
                out[key] = {name: self.convert(sub) for name, sub in value.items()}
            elif key in ("oneOf", "anyOf"):
                out["anyOf"] = [self.convert(sub) for sub in value]
            elif key == "allOf":
                out[key] = [self.convert(sub) for sub in value]
        if schema.get("nullable"):
            out = self._nullable(out)
        return out

    def _ref(self, name: str) -> Any:
        target = self.components[name]
        if _is_scalar(target):
            # Enums and plain scalars are smaller inline than as a reference.
            return self.convert(target)
        if name not in self.defs and name not in self._pending:
            self._pending.add(name)
            self.defs[name] = self.convert(target)
            self._pending.discard(name)
        return {"$ref": f"#/$defs/{name}"}

    @staticmethod
    def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
        kind = schema.get("type")
        if isinstance(kind, str) and "$ref" not in schema and "anyOf" not in schema:
            widened = {**schema, "type": [kind, "null"]}
            if "enum" in widened:
                widened["enum"] = [*widened["enum"], None]
            return widened
        return {"anyOf": [schema, {"type": "null"}]}


def _is_scalar(schema: dict[str, Any]) -> bool:
    return schema.get("type") in ("string", "integer", "number", "boolean") and not any(
        key in schema for key in ("properties", "oneOf", "anyOf", "allOf")
    )


# -- response shapes ----------------------------------------------------------------------------


class Deref:
    """Follow `$ref`s and merge `allOf`s of spec schemas (read-only helpers)."""

    def __init__(self, components: dict[str, Any]) -> None:
        self.components = components

    def __call__(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            schema = self.components[ref_name(schema["$ref"])]
            seen += 1
        return schema

    def merged(self, schema: Any) -> dict[str, Any]:
        """Return `{"properties", "required"}` of `schema` with its `allOf` parts merged."""
        schema = self(schema)
        props: dict[str, Any] = {}
        required: list[str] = []
        parts = [self.merged(part) for part in schema.get("allOf", [])]
        parts.append({"properties": schema.get("properties", {}), "required": []})
        for part in parts:
            for name, value in part["properties"].items():
                # Parts of an allOf each add to nested objects (e.g. a profile's attributes
                # gain `subscriptions`), so the same property is combined, not replaced.
                props[name] = {"allOf": [props[name], value]} if name in props else value
            required += part["required"]
        required += schema.get("required", [])
        return {"properties": props, "required": required}

    def enum_value(self, schema: Any) -> str | None:
        """Return the single enum value of a `type` property (`"profile"`), if any."""
        schema = self(schema)
        for part in schema.get("allOf", []):
            found = self.enum_value(part)
            if found:
                return found
        values = schema.get("enum") or []
        return values[0] if values else None

    def data_items(self, document: Any) -> list[dict[str, Any]]:
        """Return the resource-object schemas a response document's `data` holds."""
        data = self.merged(document)["properties"].get("data")
        if data is None:
            return []
        data = self(data)
        if data.get("type") == "array" or "items" in data:
            data = self(data["items"])
        options = data.get("oneOf") or data.get("anyOf") or [data]
        return [self.merged(option) for option in options]


def default_for(schema: Any, deref: Deref, depth: int = 0) -> Any:
    """Return a sensible default value for a required attribute described by `schema`."""
    raw = schema if isinstance(schema, dict) else {}
    schema = deref(schema)
    if raw.get("nullable") or schema.get("nullable"):
        return None
    if "default" in schema:
        return schema["default"]
    if schema.get("enum"):
        return schema["enum"][0]
    options = schema.get("oneOf") or schema.get("anyOf")
    if options and depth < 4:
        return default_for(options[0], deref, depth + 1)
    kind = schema.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    if kind == "array":
        return []
    if kind == "object" or "properties" in schema or "allOf" in schema:
        if depth >= 4:
            return {}
        merged = deref.merged(schema)
        return {
            name: default_for(merged["properties"][name], deref, depth + 1)
            for name in merged["required"]
            if name in merged["properties"]
        }
    return ""


def resource_shape(resource: dict[str, Any], deref: Deref) -> dict[str, Any]:
    """Describe one response resource object: required attribute defaults, timestamps, links."""
    attributes = deref.merged(resource["properties"].get("attributes", {}))
    props = attributes["properties"]
    defaults = {
        name: default_for(props[name], deref)
        for name in sorted(set(attributes["required"]))
        if name in props
    }
    timestamps = {}
    for role, names in (
        ("created", ("created", "created_at")),
        ("updated", ("updated", "updated_at")),
    ):
        for name in names:
            if name in props:
                timestamps[role] = name
                break
    relationships = {}
    rels = deref.merged(resource["properties"].get("relationships", {}))["properties"]
    for name, rel in rels.items():
        data = deref(deref.merged(rel)["properties"].get("data", {}))
        many = data.get("type") == "array" or "items" in data
        item = deref.merged(data.get("items", data))
        target = deref.enum_value(item["properties"].get("type", {}))
        if target:
            relationships[name] = {"type": target, "many": many}
    return {
        "attributes": sorted(props),
        "defaults": defaults,
        "timestamps": timestamps,
        "relationships": relationships,
    }
