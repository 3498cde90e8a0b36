"""Serialize stored resources as Klaviyo's JSON:API resource objects and documents.

A served resource has `type`, `id`, `attributes` (the spec's required attributes filled with
defaults, timestamps from the row, per-type computed values, "additional fields" only when asked
for, sparse fieldsets applied), `relationships` (links, plus `data` for to-one and included
relationships) and `links.self`. See https://developers.klaviyo.com/en/reference/api_overview.
"""

from __future__ import annotations

import copy
from datetime import datetime
from functools import cache
from typing import Any

from integrations.klaviyo_sandbox.api import relations, store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.operations import operations, resource, single_path
from integrations.klaviyo_sandbox.models import SandboxResource


@cache
def hidden_attributes(kind: str) -> frozenset[str]:
    """Return the attributes of `kind` served only via `additional-fields[kind]=...`."""
    names: set[str] = set()
    for op in operations().values():
        names.update(op["query"]["additional_fields"].get(kind, []))
    return frozenset(names)


def attributes_of(res: SandboxResource, now: datetime) -> dict[str, Any]:
    """Return every attribute of a resource as served (before sparse fieldsets)."""
    from integrations.klaviyo_sandbox.api.handlers import view_hook

    shape = resource(res.type)
    attrs = copy.deepcopy(shape.get("defaults", {}))
    attrs.update(copy.deepcopy(res.attributes))
    stamps = shape.get("timestamps", {})
    if "created" in stamps:
        attrs[stamps["created"]] = iso(res.created)
    if "updated" in stamps:
        attrs[stamps["updated"]] = iso(res.updated)
    hook = view_hook(res.type)
    if hook is not None:
        hook(res, attrs, now)
    return attrs


def _sparse(attrs: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in wanted:
        head, _, rest = name.partition(".")
        if head not in attrs:
            continue
        if not rest:
            out[head] = attrs[head]
        elif isinstance(attrs[head], dict):
            inner = _sparse(attrs[head], [rest])
            if inner:
                out.setdefault(head, {}).update(inner)
    return out


def resource_object(
    call: Call,
    res: SandboxResource,
    *,
    attrs: dict[str, Any] | None = None,
    rel_data: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """Return the JSON:API resource object for `res` as this request should see it."""
    from integrations.klaviyo_sandbox.api.handlers import additional_value

    attrs = dict(attrs if attrs is not None else attributes_of(res, call.now))
    requested = call.query.additional.get(res.type, set())
    for name in hidden_attributes(res.type):
        if name in requested:
            computed = additional_value(res.type, name)
            if computed is not None:
                attrs[name] = computed(res, call)
        else:
            attrs.pop(name, None)
    if res.type in call.query.fields:
        attrs = _sparse(attrs, call.query.fields[res.type])
    obj: dict[str, Any] = {"type": res.type, "id": res.resource_id, "attributes": attrs}
    base = _base_path(res)
    relationships = _relationships(call, res, base, rel_data or {})
    if relationships:
        obj["relationships"] = relationships
    obj["links"] = {"self": call.url(f"{base}/") if base else call.self_link()}
    return obj


def _base_path(res: SandboxResource) -> str | None:
    path = single_path(res.type)
    return path.replace("{id}", res.resource_id) if path else None


def _relationships(
    call: Call, res: SandboxResource, base: str | None, rel_data: dict[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in resource(res.type).get("relationships", {}).items():
        entry: dict[str, Any] = {}
        if name in rel_data:
            entry["data"] = rel_data[name] if info["many"] else (rel_data[name] or [None])[0]
        elif not info["many"]:
            related = res.relationships.get(name)
            if related:
                entry["data"] = {"type": info["type"], "id": str(related)}
        if base:
            entry["links"] = {
                "self": call.url(f"{base}/relationships/{name}/"),
                "related": call.url(f"{base}/{name}/"),
            }
        if entry.get("data", 0) is None:
            entry.pop("data")
        if entry:
            out[name] = entry
    return out


def serialize(
    call: Call,
    resources: list[SandboxResource],
    attrs: dict[int, dict[str, Any]] | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return `(data, included)` for resources, following the request's `include`."""
    included: dict[tuple[str, str], dict[str, Any]] = {}
    data = []
    for res in resources:
        rel_data: dict[str, list[dict[str, str]]] = {}
        for name in call.query.include:
            rel = relations.relation(res.type, name)
            if rel is None:
                continue
            ids = list(relations.related_ids(res, name))
            rel_data[name] = [{"type": rel.target, "id": i} for i in ids]
            for other in store.many(call.account, rel.target, ids):
                key = (other.type, other.resource_id)
                if key not in included:
                    included[key] = resource_object(call, other)
        own = (attrs or {}).get(res.pk)
        data.append(resource_object(call, res, attrs=own, rel_data=rel_data))
    return data, list(included.values())


def single(call: Call, res: SandboxResource | None, status: int = 200) -> Reply:
    """Answer with one resource (or `data: null`), its includes and `links.self`."""
    if res is None:
        return Reply(status, {"data": None, "links": {"self": call.self_link()}})
    data, included = serialize(call, [res])
    document: dict[str, Any] = {"data": data[0], "links": {"self": call.self_link()}}
    if call.query.include:
        document["included"] = included
    return Reply(status, document)
