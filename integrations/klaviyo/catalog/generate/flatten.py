"""Flatten one spec operation into readable input fields and a request template.

A JSON:API body such as `{"data": {"type": "list", "id": ..., "attributes": {"name": ...},
"relationships": {"tags": {"data": [{"type": "tag", "id": ...}]}}}}` becomes fields `name` and
`tag_ids`; the template keeps the fixed parts (`type` values, ids copied from the path) and one
*binding* per field saying where its value goes. `requests.py` applies the bindings at run time.

Binding kinds (JSON, stored in the catalog):
  {"path": "id"}                      substitute into the URL path (URL-quoted)
  {"query": "fields[profile]"}        query parameter (lists are comma-joined)
  {"body": [...]}                     set at this body location
  {"body": [...], "ref": "tag"}       an id (or list of ids) as JSON:API resource identifiers
  {"body": [...], "items": {...}}     a list of flat objects, each built by a nested template
  {"form": "name"} / {"file": "file"} multipart form field / file upload (base64 input)
Conveniences the seed asks for (declared in `overrides.py`):
  {"filter": "equals(messages.channel,{})"}     a clause added to the `filter` query parameter
  {"body": [...], "each": {...}, "at": [...]}   plain values (emails), each put into a copy of
                                                a small template (a profile object)
  {"body": [...], "append": ["less-than(datetime,{end})", ...]}
                                                strings formatted from an object, appended
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .naming import (
    MAX_FIELD_NAME,
    attribute_field_name,
    path_param_name,
    query_field_name,
    relationship_field_name,
    resource_id_field_name,
    snake,
)
from .spec import Operation, Spec, one_line

JSON_API = "application/vnd.api+json"
MULTIPART = "multipart/form-data"


@dataclass
class Field:
    """One input field: its JSON schema, whether it is required, and where its value goes."""

    name: str
    schema: dict[str, Any]
    required: bool
    bindings: list[dict[str, Any]]
    origin: str


@dataclass
class Shape:
    """A body (or list item) under construction: fixed skeleton, constants, fields."""

    skeleton: dict[str, Any] = field(default_factory=dict)
    # [path, value, anchor]: set `value` at `path` when the container `anchor` exists.
    constants: list[list[Any]] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)

    def names(self) -> set[str]:
        """Return the field names taken so far."""
        return {f.name for f in self.fields}

    def ensure(self, path: list[str]) -> None:
        """Create the (empty) containers along `path` in the skeleton."""
        node = self.skeleton
        for part in path:
            node = node.setdefault(part, {})

    def constant(self, path: list[str], value: Any, anchor: list[str] | None) -> None:
        """Fix `value` at `path`: always, or (with an `anchor`) when that container exists."""
        if anchor is None:
            self.ensure(path[:-1])
            node = self.skeleton
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
        else:
            self.constants.append([path, value, anchor])

    def add(self, new: Field) -> Field:
        """Add a field; raise ValueError on a duplicate or over-long name."""
        if new.name in self.names():
            raise ValueError(f"field name {new.name!r} used twice ({new.origin})")
        if len(new.name) > MAX_FIELD_NAME:
            raise ValueError(f"field name {new.name!r} is longer than {MAX_FIELD_NAME}")
        self.fields.append(new)
        return new

    def template(self) -> dict[str, Any]:
        """Return this shape as the nested template an `items` binding stores."""
        return {
            "body": self.skeleton,
            "constants": self.constants,
            "bindings": {f.name: f.bindings for f in self.fields},
        }


@dataclass
class Naming:
    """How fields hoisted out of a nested resource are named."""

    prefix: str = ""
    # Profile attributes read naturally unprefixed (`email`); others keep it (`metric_name`).
    hoist: bool = True
    id_name: str | None = None

    def name(self, base: str, taken: set[str]) -> str:
        """Return the field name for attribute `base`, prefixed when hoisting would clash."""
        if self.hoist and base not in taken:
            return base
        return f"{self.prefix}_{base}" if self.prefix else base


class Flattener:
    """Turn one operation into fields + request template."""

    def __init__(self, spec: Spec, op: Operation) -> None:
        self.spec = spec
        self.op = op
        self.top = Shape()
        self.path_fields: dict[str, Field] = {}

    def run(self) -> tuple[list[Field], dict[str, Any]]:
        """Return (fields, template) for the operation; the caller adds the fields' bindings."""
        for param in self.spec.parameters(self.op):
            if param["in"] == "path":
                self._path_param(param)
            else:
                self._query_param(param)
        content_type = None
        body = self.spec.request_body(self.op)
        if body:
            content_type, schema = body
            if content_type == MULTIPART:
                self._multipart(schema)
            else:
                self._json_api(schema)
        template = {
            "operation_id": self.op.operation_id,
            "method": self.op.method,
            "path": self.op.path,
            "content_type": content_type,
            "body": self.top.skeleton if content_type == JSON_API else None,
            "constants": self.top.constants,
        }
        return self.top.fields, template

    # -- parameters --------------------------------------------------------------------------

    def _schema(self, node: Any) -> dict[str, Any]:
        return self.spec.to_json_schema(node)

    def _path_param(self, param: dict[str, Any]) -> None:
        schema = self._schema(param["schema"])
        schema.setdefault("description", one_line(param.get("description")))
        schema["minLength"] = 1
        name = path_param_name(self.op.path, param["name"])
        new = Field(name, schema, True, [{"path": param["name"]}], f"path:{param['name']}")
        self.path_fields[param["name"]] = self.top.add(new)

    def _query_param(self, param: dict[str, Any]) -> None:
        schema = self._schema(param["schema"])
        if param.get("description"):
            schema["description"] = one_line(param["description"])
        name = query_field_name(param["name"])
        self.top.add(
            Field(
                name,
                schema,
                bool(param.get("required")),
                [{"query": param["name"]}],
                f"query:{param['name']}",
            )
        )

    def _multipart(self, schema: dict[str, Any]) -> None:
        required = set(schema.get("required", []))
        for name, sub in schema["properties"].items():
            raw = self.spec.deref(sub)
            converted = self._schema(sub)
            if raw.get("format") == "binary":
                binding = {"file": name}
                converted = {
                    "type": "string",
                    "contentEncoding": "base64",
                    "description": one_line(raw.get("description")),
                }
            else:
                binding = {"form": name}
            self.top.add(Field(snake(name), converted, name in required, [binding], f"form:{name}"))

    # -- JSON:API bodies ---------------------------------------------------------------------

    def _json_api(self, schema: dict[str, Any]) -> None:
        data = self.spec.deref(schema["properties"]["data"])
        if data.get("type") == "array":
            item = self.spec.deref(data["items"])
            kind = self._type_of(item)
            last = self.op.path.rstrip("/").rsplit("/", 1)[-1]
            name = relationship_field_name(last, many=True)
            field_schema = {"type": "array", "items": {"type": "string", "minLength": 1}}
            self.top.add(
                Field(name, field_schema, True, [{"body": ["data"], "ref": kind}], "body:data")
            )
            self.top.skeleton["data"] = []
            return
        id_field = self.path_fields.get("id") if self.op.method == "PATCH" else None
        self._resource(
            self.top,
            data,
            ["data"],
            present=True,
            anchor=None,
            naming=Naming(),
            top=True,
            copy_id=id_field,
        )

    def _type_of(self, resource: dict[str, Any]) -> str:
        kind = self.spec.deref(resource["properties"]["type"])
        (value,) = kind["enum"]
        return value

    def _wrapper(self, node: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """Recognise `{"data": resource}` / `{"data": [resource]}` nested inside attributes."""
        props = node.get("properties", {})
        if set(props) != {"data"}:
            return None
        data = self.spec.deref(props["data"])
        if data.get("type") == "array":
            item = self.spec.deref(data.get("items", {}))
            if "type" in item.get("properties", {}):
                return "many", item
            return None
        if "type" in data.get("properties", {}):
            return "one", data
        return None

    def _resource(
        self,
        shape: Shape,
        node: dict[str, Any],
        prefix: list[str],
        *,
        present: bool,
        anchor: list[str] | None,
        naming: Naming,
        top: bool = False,
        copy_id: Field | None = None,
    ) -> None:
        props = node.get("properties", {})
        required = set(node.get("required", [])) if present else set()
        shape.constant([*prefix, "type"], self._type_of(node), anchor)
        if "id" in props:
            self._resource_id(shape, node, prefix, required, naming, top, copy_id)
        if "attributes" in props:
            attributes = self.spec.deref(props["attributes"])
            inner_present = "attributes" in required
            if inner_present:
                if anchor is None:
                    shape.ensure([*prefix, "attributes"])
                else:
                    shape.constants.append([[*prefix, "attributes"], {}, anchor])
            self._attributes(shape, attributes, [*prefix, "attributes"], inner_present, naming)
        if "relationships" in props:
            relationships = self.spec.deref(props["relationships"])
            inner_present = "relationships" in required
            self._relationships(shape, relationships, [*prefix, "relationships"], inner_present)
        if "meta" in props:
            meta = self.spec.deref(props["meta"])
            self._attributes(shape, meta, [*prefix, "meta"], False, naming)

    def _resource_id(
        self,
        shape: Shape,
        node: dict[str, Any],
        prefix: list[str],
        required: set[str],
        naming: Naming,
        top: bool,
        copy_id: Field | None,
    ) -> None:
        if copy_id is not None:
            # PATCH bodies repeat the path id; fill it in rather than asking twice.
            copy_id.bindings.append({"body": [*prefix, "id"]})
            return
        if naming.id_name:
            name = naming.id_name
        elif top:
            name = resource_id_field_name(self._type_of(node))
        else:
            name = "id"
        id_schema = self._schema(node["properties"]["id"])
        id_schema.setdefault("type", "string")
        if "id" in required:
            id_schema["minLength"] = 1
        shape.add(Field(name, id_schema, "id" in required, [{"body": [*prefix, "id"]}], "id"))

    def _attributes(
        self,
        shape: Shape,
        node: dict[str, Any],
        prefix: list[str],
        present: bool,
        naming: Naming,
    ) -> None:
        required = set(node.get("required", [])) if present else set()
        for attribute, sub in node.get("properties", {}).items():
            raw = self.spec.deref(sub)
            if raw.get("readOnly"):
                continue
            is_required = attribute in required
            location = [*prefix, attribute]
            wrapped = self._wrapper(raw)
            if attribute == "meta" and raw.get("properties") and not wrapped:
                # A profile's `meta` only groups patch operations: hoist them.
                self._attributes(shape, raw, location, False, naming)
            elif wrapped and wrapped[0] == "one":
                self._nested_one(shape, attribute, wrapped[1], location, is_required, naming)
            elif wrapped:
                self._nested_many(shape, attribute, wrapped[1], location, is_required, raw)
            else:
                base = attribute_field_name(attribute)
                name = naming.name(base, shape.names())
                schema = self._schema(sub)
                shape.add(
                    Field(name, schema, is_required, [{"body": location}], "/".join(location))
                )

    def _nested_one(
        self,
        shape: Shape,
        attribute: str,
        resource: dict[str, Any],
        location: list[str],
        required: bool,
        naming: Naming,
    ) -> None:
        props = resource.get("properties", {})
        if set(props) <= {"type", "id"}:
            name = naming.name(f"{snake(attribute)}_id", shape.names())
            field_schema = {"type": "string", "minLength": 1}
            binding = {"body": [*location, "data"], "ref": self._type_of(resource)}
            shape.add(Field(name, field_schema, required, [binding], "/".join(location)))
            return
        prefix = snake(attribute)
        inner = Naming(prefix=prefix, hoist=attribute == "profile", id_name=f"{prefix}_id")
        if naming.prefix and naming.prefix != prefix:
            inner.prefix = f"{naming.prefix}_{prefix}"
        anchor = None if required else location
        if required:
            shape.ensure([*location, "data"])
        self._resource(
            shape, resource, [*location, "data"], present=True, anchor=anchor, naming=inner
        )

    def _nested_many(
        self,
        shape: Shape,
        attribute: str,
        item: dict[str, Any],
        location: list[str],
        required: bool,
        raw: dict[str, Any],
    ) -> None:
        kind = self._type_of(item)
        description = one_line(raw.get("description"))
        if set(item.get("properties", {})) <= {"type", "id"}:
            name = relationship_field_name(attribute, many=True)
            schema: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}}
            binding: dict[str, Any] = {"body": [*location, "data"], "ref": kind}
        else:
            item_shape = Shape()
            self._resource(
                item_shape, item, [], present=True, anchor=None, naming=Naming(hoist=True)
            )
            properties = {f.name: f.schema for f in item_shape.fields}
            item_schema: dict[str, Any] = {
                "type": "object",
                "properties": properties,
                "additionalProperties": False,
            }
            item_required = [f.name for f in item_shape.fields if f.required]
            if item_required:
                item_schema["required"] = item_required
            name = attribute_field_name(attribute)
            schema = {"type": "array", "items": item_schema}
            binding = {"body": [*location, "data"], "items": item_shape.template()}
        if description:
            schema["description"] = description
        if required:
            schema["minItems"] = 1
        shape.add(Field(name, schema, required, [binding], "/".join(location)))

    def _relationships(
        self, shape: Shape, node: dict[str, Any], prefix: list[str], present: bool
    ) -> None:
        required = set(node.get("required", [])) if present else set()
        for relationship, sub in node.get("properties", {}).items():
            data = self.spec.deref(self.spec.deref(sub)["properties"]["data"])
            many = data.get("type") == "array"
            item = self.spec.deref(data["items"]) if many else data
            kind = self._type_of(item)
            name = relationship_field_name(relationship, many)
            item_schema = {"type": "string", "minLength": 1}
            schema: dict[str, Any] = (
                {"type": "array", "items": item_schema} if many else dict(item_schema)
            )
            description = one_line(self.spec.deref(sub).get("description"))
            if description:
                schema["description"] = description
            binding = {"body": [*prefix, relationship, "data"], "ref": kind}
            is_required = relationship in required
            if is_required and many:
                schema["minItems"] = 1
            shape.add(Field(name, schema, is_required, [binding], f"relationship:{relationship}"))
