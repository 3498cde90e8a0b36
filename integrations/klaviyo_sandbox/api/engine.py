"""The generic engine: answer an operation from its path shape alone.

`kind` comes from the operation table (`list`, `get`, `create`, `update`, `delete`, `related`,
`relationship_get|add|replace|remove`). Operations with real semantics register a special handler
instead (see `handlers`); those handlers reuse these functions for the plain parts.
"""

from __future__ import annotations

from typing import Any

from integrations.klaviyo_sandbox.api import relations, store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.api.listing import collection, identifiers, joined, page_links
from integrations.klaviyo_sandbox.models import SandboxResource


def answer(call: Call, res: SandboxResource | None, status: int | None = None) -> Reply:
    """Reply with the resource document, or an empty body where the spec has none."""
    status = status or call.op["status"]
    if not call.op["response_body"]:
        return Reply(status)
    return single(call, res, status)


def list_all(call: Call) -> Reply:
    """Answer GET /api/<collection>: every resource of the type, filtered, sorted, paginated."""
    return collection(call, store.of_type(call.account, call.op["type"]))


def get_one(call: Call) -> Reply:
    """Answer GET /api/<collection>/{id}."""
    return single(call, store.require(call.account, call.op["type"], call.id))


def create(call: Call, *, resource_id: str | None = None) -> Reply:
    """Answer POST /api/<collection>: store the body's attributes and relationships; answer 201."""
    res = store.create(
        call.account, call.op["type"], dict(call.attributes), resource_id=resource_id
    )
    apply_relationships(res, (call.data or {}).get("relationships") or {})
    return answer(call, res)


def check_body_id(call: Call) -> None:
    """Refuse a PATCH whose `data.id` names another resource than the URL."""
    body_id = (call.data or {}).get("id")
    if body_id is not None and str(body_id) != call.id:
        raise invalid(
            f"The id in the body ({body_id}) does not match the id in the URL ({call.id}).",
            pointer="/data/id",
        )


def update(call: Call) -> Reply:
    """Answer PATCH /api/<collection>/{id}: merge the given attributes and relationships."""
    check_body_id(call)
    res = store.require(call.account, call.op["type"], call.id)
    store.merge_attributes(res, call.attributes)
    store.save(res)
    apply_relationships(res, (call.data or {}).get("relationships") or {})
    return answer(call, res)


def delete(call: Call) -> Reply:
    """Answer DELETE /api/<collection>/{id}: delete it with its children; answer 204."""
    remove(store.require(call.account, call.op["type"], call.id))
    return Reply(204)


def remove(res: SandboxResource) -> None:
    """Delete a resource, its links and (recursively) the children that point at it."""
    from integrations.klaviyo_sandbox.api.handlers import before_delete

    hook = before_delete(res.type)
    if hook is not None:
        hook(res)
    for (kind, name), rel in relations.RELATIONS.items():
        if kind == res.type and rel.mode == "children":
            for child in store.many(res.account, rel.target, relations.related_ids(res, name)):
                remove(child)
    store.delete(res)


def apply_relationships(res: SandboxResource, body: dict[str, Any]) -> None:
    """Store the relationships a create/update body names (unknown ones are kept as given)."""
    for name, value in body.items():
        ids = relations.body_ids((value or {}).get("data"))
        rel = relations.relation(res.type, name)
        if rel is None:
            data = (value or {}).get("data")
            res.relationships = {
                **res.relationships,
                name: ids if isinstance(data, list) else (ids[0] if ids else None),
            }
            store.save(res, touch=False)
        elif rel.mode != "computed":
            relations.change(res, name, ids, "replace")


def _owner(call: Call) -> SandboxResource:
    return store.require(call.account, call.op["type"], call.id)


def _relation(call: Call) -> tuple[SandboxResource, relations.Relation, dict[str, Any]]:
    """Return the owner, the relationship and the related ids a relationship route names."""
    res = _owner(call)
    name = call.op["relationship"]
    return res, relations.require(res.type, name), relations.related_ids(res, name)


def related(call: Call) -> Reply:
    """Answer GET /api/<collection>/{id}/<relationship>: the related resource(s)."""
    res, rel, ids = _relation(call)
    if not rel.many:
        first = next(iter(ids), None)
        return single(call, store.get(call.account, rel.target, first) if first else None)
    return collection(call, store.many(call.account, rel.target, ids), _membership(res, rel, ids))


def _membership(
    res: SandboxResource, rel: relations.Relation, ids: dict[str, Any]
) -> dict[str, Any]:
    if rel.mode == "computed" and rel.target == "profile":
        # Segment members have no join row: they belong since the segment exists.
        return {key: {"joined_group_at": iso(res.created)} for key in ids}
    return joined(ids)


def relationship_get(call: Call) -> Reply:
    """Answer GET /api/<collection>/{id}/relationships/<relationship>: resource identifiers."""
    res, rel, ids = _relation(call)
    if not rel.many:
        first = next(iter(ids), None)
        data = {"type": rel.target, "id": first} if first else None
        return Reply(200, {"data": data, "links": page_links(call, None)})
    targets = store.many(call.account, rel.target, ids)
    return identifiers(call, rel.target, targets, _membership(res, rel, ids))


def _relationship_change(call: Call, how: str) -> Reply:
    res = _owner(call)
    data = call.data
    if data is None:
        raise invalid("'data' is a required property", pointer="/data")
    relations.change(res, call.op["relationship"], relations.body_ids(data), how)
    return Reply(call.op["status"])


def relationship_add(call: Call) -> Reply:
    """Answer POST .../relationships/<relationship>: add the given ids; answer 204."""
    return _relationship_change(call, "add")


def relationship_replace(call: Call) -> Reply:
    """Answer PATCH .../relationships/<relationship>: replace with the given ids; answer 204."""
    return _relationship_change(call, "replace")


def relationship_remove(call: Call) -> Reply:
    """Answer DELETE .../relationships/<relationship>: remove the given ids; answer 204."""
    return _relationship_change(call, "remove")


GENERIC = {
    "list": list_all,
    "get": get_one,
    "create": create,
    "update": update,
    "delete": delete,
    "related": related,
    "relationship_get": relationship_get,
    "relationship_add": relationship_add,
    "relationship_replace": relationship_replace,
    "relationship_remove": relationship_remove,
}


def run(call: Call) -> Reply:
    """Answer a call with its special handler if it has one, else by its path shape."""
    from integrations.klaviyo_sandbox.api.handlers import handler_for

    special = handler_for(call.op["id"])
    if special is not None:
        return special(call)
    generic = GENERIC.get(call.op["kind"])
    if generic is None:
        raise ApiError(501, "not_implemented", f"{call.op['id']} has no sandbox handler.")
    return generic(call)
