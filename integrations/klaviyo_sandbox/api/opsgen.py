"""Generate the sandbox's operation table (`operations.json`) from Klaviyo's OpenAPI spec.

Reads `<shared>/klaviyo/openapi-stable.json` and `<shared>/klaviyo/actions-map.tsv` (with the
catalog generator's own readers, `catalog/generate/spec.py` and `sources.py`) and writes,
for every operation an action calls, what the sandbox needs to answer it the way Klaviyo does:
method and path template, the request-body JSON Schema (components shared in `$defs`), required
query parameters, allowed `fields[...]` / `additional-fields[...]` / `include` / `sort` values,
allowed filters, page sizes, success status, rate-limit tier, OAuth scopes and the resource types
involved. `resources` describes each resource type (required attributes with defaults, timestamp
names, relationships) from the response schemas.

The output is committed and deterministic (sorted keys), so the app never reads ../shared at run
time. Regenerate with `python manage.py sandbox_opsgen`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from integrations.klaviyo.catalog.generate.sources import MAP_FILE, SPEC_FILE, read_map
from integrations.klaviyo.catalog.generate.spec import Spec
from integrations.klaviyo.ratelimit import nearest_tier
from integrations.klaviyo_sandbox.api.opsgen_schema import Deref, SchemaCompactor, resource_shape

# List endpoints that take `page[cursor]` but no `page[size]` answer fixed-size pages.
FIXED_PAGE_SIZE = 100

_FILTER_LINE = re.compile(r"`([^`]+)`: ((?:`[^`]+`(?:, )?)+)")
_PAGE_NUMBERS = re.compile(r"Default: (\d+)\. Min: \d+\. Max: (\d+)")


def generate(shared_dir: str | Path, out_path: str | Path) -> dict[str, Any]:
    """Write the operation table for the actions-map's operations to `out_path`; return it.

    Raise KeyError if actions-map.tsv names an operation the spec does not have.
    """
    shared = Path(shared_dir)
    spec = Spec.load(shared / SPEC_FILE)
    wanted = {op.operation_id for ops in read_map(shared / MAP_FILE).values() for op in ops}
    table = build_table(spec, wanted)
    text = json.dumps(table, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    Path(out_path).write_text(text)
    return table


def build_table(spec: Spec, wanted: set[str]) -> dict[str, Any]:
    """Return the operation table for the operation ids in `wanted`."""
    components = spec.document["components"]["schemas"]
    deref = Deref(components)
    compactor = SchemaCompactor(components)
    everything = {
        op_id: (op.method.lower(), op.path, op.raw) for op_id, op in spec.operations.items()
    }
    missing = sorted(wanted - everything.keys())
    if missing:
        raise KeyError(f"Operations not in the spec: {', '.join(missing)}")
    collections = _collection_types(everything, deref)

    operations = {}
    shapes: dict[str, dict[str, Any]] = {}
    # Single-resource GETs first: their response schema is the canonical shape of a type;
    # relationships are collected from every schema the type appears in.
    single = re.compile(r"/api/[a-z-]+/\{(id|job_id)\}")
    order = sorted(
        wanted,
        key=lambda o: (not single.fullmatch(everything[o][1]), everything[o][0] != "get", o),
    )
    for op_id in order:
        method, path, op = everything[op_id]
        response_types, resources = _response_types(op, deref)
        for resource in resources:
            kind = deref.enum_value(resource["properties"].get("type", {}))
            if not kind:
                continue
            shape = resource_shape(resource, deref)
            if kind not in shapes:
                shapes[kind] = shape
            else:
                merged = {**shape["relationships"], **shapes[kind]["relationships"]}
                shapes[kind]["relationships"] = dict(sorted(merged.items()))
        operations[op_id] = _operation(
            op_id, method, path, op, response_types, collections, compactor, deref
        )
    for shape_type, path in _single_paths(operations).items():
        if shape_type in shapes:
            shapes[shape_type]["path"] = path
    return {
        "$defs": dict(sorted(compactor.defs.items())),
        "fields": _shared_fields(operations),
        "operations": operations,
        "resources": shapes,
        "revision": spec.revision,
    }


def _collection_types(everything: dict[str, Any], deref: Deref) -> dict[str, str]:
    """Map collection segments (`lists`) to the resource type their GETs answer with."""
    found: dict[str, str] = {}
    for method, path, op in everything.values():
        match = re.fullmatch(r"/api/([a-z-]+)(?:/\{(?:id|job_id)\})?", path)
        if method != "get" or not match:
            continue
        types, _ = _response_types(op, deref)
        if len(types) == 1:
            found.setdefault(match.group(1), types[0])
    return found


def _response_types(op: dict[str, Any], deref: Deref) -> tuple[list[str], list[dict[str, Any]]]:
    for code in sorted(op["responses"]):
        if code.startswith("2"):
            content = op["responses"][code].get("content") or {}
            for media in content.values():
                resources = deref.data_items(media["schema"])
                kinds = [deref.enum_value(r["properties"].get("type", {})) for r in resources]
                return sorted({k for k in kinds if k}), resources
    return [], []


def _request_types(op: dict[str, Any], deref: Deref) -> list[str]:
    for media in (op.get("requestBody") or {}).get("content", {}).values():
        resources = deref.data_items(media["schema"])
        kinds = {deref.enum_value(r["properties"].get("type", {})) for r in resources}
        return sorted(k for k in kinds if k)
    return []


def _operation(
    op_id: str,
    method: str,
    path: str,
    op: dict[str, Any],
    response_types: list[str],
    collections: dict[str, str],
    compactor: SchemaCompactor,
    deref: Deref,
) -> dict[str, Any]:
    successes = sorted(int(code) for code in op["responses"] if code.startswith("2"))
    has_body = any(op["responses"][str(code)].get("content") for code in successes)
    request_types = _request_types(op, deref)
    entry: dict[str, Any] = {
        "id": op_id,
        "method": method.upper(),
        "path": path,
        "client": path.startswith("/client/"),
        "statuses": successes,
        "status": successes[0],
        "response_body": has_body,
        "response_types": response_types,
        "request_types": request_types,
        "scopes": sorted(op.get("x-klaviyo-scopes", [])),
        "rate_limit": _rate_limit(op.get("x-klaviyo-ratelimit") or {}),
        "query": _query(op),
        "body": _body(op, compactor),
    }
    entry.update(_shape(method, path, response_types, request_types, collections))
    return entry


def _shape(
    method: str,
    path: str,
    response_types: list[str],
    request_types: list[str],
    collections: dict[str, str],
) -> dict[str, Any]:
    """Classify the path: list, get, create, update, delete, related, relationship_* or action."""
    parts = path.strip("/").split("/")[1:]
    collection = parts[0]
    own_type = collections.get(collection)
    fallback = own_type or ((response_types or request_types) or [None])[0]
    shape: dict[str, Any] = {"kind": "action", "type": fallback, "related_type": None}
    if path.startswith("/client/"):
        shape["type"] = (request_types or [None])[0]
        return shape
    if len(parts) == 1:
        if method == "get":
            shape["kind"] = "list"
        elif own_type and own_type in request_types and own_type in (response_types or [own_type]):
            shape["kind"] = "create"
        elif not own_type and len(request_types) == 1 and _plural(request_types[0]) == collection:
            shape.update(kind="create", type=request_types[0])
    elif len(parts) == 2:
        shape["kind"] = {"get": "get", "patch": "update", "delete": "delete"}.get(method, "action")
    elif len(parts) == 3:
        shape.update(kind="related", relationship=parts[2])
        shape["related_type"] = (response_types or [None])[0]
    elif len(parts) == 4 and parts[2] == "relationships":
        verbs = {"get": "get", "post": "add", "patch": "replace", "delete": "remove"}
        shape.update(kind=f"relationship_{verbs[method]}", relationship=parts[3])
        shape["related_type"] = ((response_types or request_types) or [None])[0]
    return shape


def _shared_fields(operations: dict[str, Any]) -> dict[str, list[str]]:
    """Move each operation's `fields[type]` enum into one table per type (they repeat a lot).

    Afterwards an operation's `query.fields` only lists the types it accepts `fields[...]` for.
    """
    shared: dict[str, set[str]] = {}
    for op in operations.values():
        for kind, names in op["query"]["fields"].items():
            shared.setdefault(kind, set()).update(names)
        op["query"]["fields"] = sorted(op["query"]["fields"])
    return {kind: sorted(names) for kind, names in sorted(shared.items())}


def _plural(kind: str) -> str:
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


def _single_paths(operations: dict[str, Any]) -> dict[str, str]:
    """Return each type's single-resource path (`/api/lists/{id}`), for `links.self`."""
    found = {}
    for op in sorted(operations.values(), key=lambda o: o["path"]):
        if op["kind"] == "get" and op["type"]:
            found.setdefault(op["type"], re.sub(r"\{job_id\}", "{id}", op["path"]))
    return found


def _rate_limit(limits: dict[str, str]) -> dict[str, Any]:
    def number(text: str | None) -> int | None:
        return int(text.split("/")[0]) if text else None

    burst, steady = number(limits.get("burst")), number(limits.get("steady"))
    # The published tier's name is for people; an operation's own numbers are what is enforced.
    tier = nearest_tier(burst) if burst else "XS"
    return {"burst": burst, "steady": steady, "daily": number(limits.get("daily")), "tier": tier}


def _query(op: dict[str, Any]) -> dict[str, Any]:
    params = [p for p in op.get("parameters", []) if p["in"] == "query"]
    names = sorted(p["name"] for p in params)
    query: dict[str, Any] = {
        "names": names,
        "required": sorted(p["name"] for p in params if p.get("required")),
        "fields": {},
        "additional_fields": {},
        "include": [],
        "sort": [],
        "filters": None,
        "page": None,
    }
    for param in params:
        name, schema = param["name"], param.get("schema", {})
        values = sorted((schema.get("items") or {}).get("enum") or schema.get("enum") or [])
        if name.startswith("fields["):
            query["fields"][name[len("fields[") : -1]] = values
        elif name.startswith("additional-fields["):
            query["additional_fields"][name[len("additional-fields[") : -1]] = values
        elif name == "include":
            query["include"] = values
        elif name == "sort":
            query["sort"] = values
        elif name == "filter":
            query["filters"] = _filters(op, param)
        elif name == "page[size]":
            numbers = _PAGE_NUMBERS.search(param.get("description", ""))
            default = schema.get("default") or (int(numbers.group(1)) if numbers else 20)
            maximum = schema.get("maximum") or (int(numbers.group(2)) if numbers else 100)
            query["page"] = {"default": default, "max": maximum}
    if query["page"] is None and "page[cursor]" in names:
        query["page"] = {"default": FIXED_PAGE_SIZE, "max": FIXED_PAGE_SIZE}
    return query


def _filters(op: dict[str, Any], param: dict[str, Any]) -> dict[str, Any]:
    """Return `{field: {operators, list_operators, type, format}}` for an operation's filter."""
    found: dict[str, Any] = {}
    for field, spec in (op.get("x-klaviyo-filters") or {}).items():
        operators = spec.get("operators", {})
        value = spec.get("value", {})
        found[field] = {
            "operators": sorted({o for group in operators.values() for o in group}),
            "list_operators": sorted(operators.get("list", [])),
            "type": value.get("type", "string"),
            "format": value.get("format"),
        }
    if not found:
        # Older entries only document filters in prose: "`email`: `any`, `equals`<br>...".
        for field, ops_text in _FILTER_LINE.findall(param.get("description", "")):
            operators = sorted(set(re.findall(r"`([^`]+)`", ops_text)))
            found[field] = {"operators": operators, "list_operators": [], "type": "string"}
            found[field]["format"] = None
    return found


def _body(op: dict[str, Any], compactor: SchemaCompactor) -> dict[str, Any] | None:
    request = op.get("requestBody")
    if not request:
        return None
    content = request.get("content", {})
    media, spec = next(iter(sorted(content.items())))
    return {
        "content_types": sorted(content),
        "required": bool(request.get("required")),
        "schema": compactor.convert(spec["schema"]),
        "multipart": media.startswith("multipart/"),
    }
