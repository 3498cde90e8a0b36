"""How each relationship of each resource type is stored, read and changed.

The spec says which relationships a type has and whether they are to-one or to-many (see
`operations.relationship_target`); this registry adds which side owns the data:

* `one`      — to-one, stored on the resource (`relationships["metric"] = id`);
* `owned`    — to-many id list stored on the resource (a job's profiles, a webhook's topics);
* `link`     — many-to-many rows in SandboxLink owned by this side (list -> profiles);
* `inverse`  — the other side of a `link` (profile -> lists);
* `children` — resources whose `one` relationship points here (coupon -> coupon-codes);
* `computed` — worked out by a handler (segment -> profiles, list -> flow-triggers).

Anything the registry does not name falls back to `one`/`owned` from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.operations import relationship_target
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource


@dataclass(frozen=True)
class Relation:
    """How one relationship is kept; `via` names the owning relationship on the other side."""

    mode: str
    target: str
    many: bool
    via: str | None = None
    owner: str | None = None


def _link(target: str) -> Relation:
    return Relation("link", target, True)


def _inverse(owner: str, via: str) -> Relation:
    return Relation("inverse", owner, True, via=via, owner=owner)


def _children(target: str, via: str) -> Relation:
    return Relation("children", target, True, via=via)


def _computed(target: str, handler: str) -> Relation:
    return Relation("computed", target, True, via=handler)


RELATIONS: dict[tuple[str, str], Relation] = {
    ("list", "profiles"): _link("profile"),
    ("profile", "lists"): _inverse("list", "profiles"),
    ("tag", "lists"): _link("list"),
    ("tag", "segments"): _link("segment"),
    ("tag", "campaigns"): _link("campaign"),
    ("tag", "flows"): _link("flow"),
    ("list", "tags"): _inverse("tag", "lists"),
    ("segment", "tags"): _inverse("tag", "segments"),
    ("campaign", "tags"): _inverse("tag", "campaigns"),
    ("flow", "tags"): _inverse("tag", "flows"),
    ("catalog-category", "items"): _link("catalog-item"),
    ("catalog-item", "categories"): _inverse("catalog-category", "items"),
    ("catalog-item", "variants"): _children("catalog-variant", "item"),
    ("coupon", "coupon-codes"): _children("coupon-code", "coupon"),
    ("campaign", "campaign-messages"): _children("campaign-message", "campaign"),
    ("flow", "flow-actions"): _children("flow-action", "flow"),
    ("flow-action", "flow-messages"): _children("flow-message", "flow-action"),
    ("tag-group", "tags"): _children("tag", "tag-group"),
    ("form", "form-versions"): _children("form-version", "form"),
    ("profile", "push-tokens"): _children("push-token", "profile"),
    ("segment", "profiles"): _computed("profile", "segments:member_ids"),
    ("profile", "segments"): _computed("segment", "segments:segment_ids_for_profile"),
    ("list", "flow-triggers"): _computed("flow", "flows:triggered_by"),
    ("segment", "flow-triggers"): _computed("flow", "flows:triggered_by"),
    ("metric", "flow-triggers"): _computed("flow", "flows:triggered_by"),
}


def relation(kind: str, name: str) -> Relation | None:
    """Return how relationship `name` of type `kind` is kept, or None if it has none."""
    if (kind, name) in RELATIONS:
        return RELATIONS[(kind, name)]
    target = relationship_target(kind, name)
    if target is None:
        return None
    return Relation("owned" if target["many"] else "one", target["type"], target["many"])


def require(kind: str, name: str) -> Relation:
    """Return the relation or raise a 404 for a relationship the type does not have."""
    found = relation(kind, name)
    if found is None:
        raise ApiError(404, "not_found", f"A {kind} has no relationship named {name}.")
    return found


def related_ids(resource: SandboxResource, name: str) -> dict[str, datetime | None]:
    """Return `{id: linked_at or None}` of the resources related through `name`, in order."""
    rel = require(resource.type, name)
    stored = resource.relationships.get(name)
    if rel.mode == "one":
        return {str(stored): None} if stored else {}
    if rel.mode == "owned":
        return dict.fromkeys(map(str, stored or []))
    account = resource.account  # a query when not loaded: only the linked modes need it
    if rel.mode == "link":
        return store.link_ids(account, resource.type, resource.resource_id, name)
    if rel.mode == "inverse":
        return store.inverse_link_ids(
            account, rel.owner, rel.via, resource.type, resource.resource_id
        )
    if rel.mode == "children":
        return dict.fromkeys(store.reverse_one(account, rel.target, rel.via, resource.resource_id))
    from integrations.klaviyo_sandbox.api.handlers import resolve

    return dict.fromkeys(resolve(rel.via)(resource, name))


def change(resource: SandboxResource, name: str, ids: list[str], how: str) -> None:
    """Add (`add`), remove (`remove`) or replace (`replace`) related ids; raise 400 if read-only.

    Every id must name an existing resource of the target type (404 otherwise).
    """
    rel = require(resource.type, name)
    account = resource.account
    if how != "remove":
        for index, related_id in enumerate(ids):
            store.require(account, rel.target, related_id, pointer=f"/data/{index}/id")
    if rel.mode in ("link", "inverse"):
        _change_links(account, resource, rel, name, ids, how)
    elif rel.mode in ("owned", "one"):
        current = list(related_ids(resource, name))
        if how == "add":
            current += [i for i in ids if i not in current]
        elif how == "remove":
            current = [i for i in current if i not in ids]
        else:
            current = list(dict.fromkeys(ids))
        value: Any = current if rel.mode == "owned" else (current[-1] if current else None)
        resource.relationships = {**resource.relationships, name: value}
        store.save(resource)
    else:
        raise ApiError(
            400, "invalid", f"The {name} relationship of a {resource.type} cannot be changed."
        )


def _change_links(
    account: SandboxAccount,
    resource: SandboxResource,
    rel: Relation,
    name: str,
    ids: list[str],
    how: str,
) -> None:
    if rel.mode == "link":
        sources, owner, owner_rel, targets = [resource.resource_id], resource.type, name, ids
        target_type = rel.target
    else:
        # The owning side holds the rows: profile -> lists is stored as list -> profiles.
        sources, owner, owner_rel, targets = ids, rel.owner, rel.via, [resource.resource_id]
        target_type = resource.type
    if how == "replace":
        if rel.mode == "link":
            store.link_clear(account, owner, resource.resource_id, owner_rel)
        else:
            current = store.inverse_link_ids(account, owner, owner_rel, target_type, targets[0])
            store.link_remove(account, owner, list(current), owner_rel, targets)
    if how == "remove":
        store.link_remove(account, owner, sources, owner_rel, targets)
    else:
        store.link_add(account, owner, sources, owner_rel, target_type, targets)


def body_related_id(data: Any, name: str, *, pointer: str = "/data") -> str:
    """Return the id a resource object's `relationships.<name>.data` names; 400 if absent."""
    rel = ((data or {}).get("relationships") or {}).get(name) or {}
    target = rel.get("data") if isinstance(rel, dict) else None
    if not isinstance(target, dict) or target.get("id") in (None, ""):
        raise invalid(
            f"The {name} relationship is required.",
            pointer=f"{pointer}/relationships/{name}/data/id",
        )
    return str(target["id"])


def body_ids(data: Any) -> list[str]:
    """Return the ids of a relationship body's `data` (a list or a single identifier)."""
    items = data if isinstance(data, list) else [data] if data else []
    return [str(item["id"]) for item in items if isinstance(item, dict) and "id" in item]
