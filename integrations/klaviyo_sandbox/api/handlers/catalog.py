"""Catalog items, variants and categories, one at a time or in bulk jobs.

Catalog ids are compound: `<integration_type>:::<catalog_type>:::<external_id>`
(`$custom:::$default:::SHIRT-1`), so a second object with the same external id is a 409
(https://developers.klaviyo.com/en/reference/create_catalog_item). Bulk jobs apply every entry
they can and report the others in the job's `errors`, each with a pointer into the request.
"""

from __future__ import annotations

import copy
from typing import Any

from integrations.klaviyo_sandbox.api import engine, relations, store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, conflict
from integrations.klaviyo_sandbox.api.handlers import jobs
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

LABELS = {"catalog-item": "item", "catalog-variant": "variant", "catalog-category": "category"}
# Bulk job type -> (resource type, action, body member and job relationship name).
BULK = {
    "catalog-item-bulk-create-job": ("catalog-item", "create", "items"),
    "catalog-item-bulk-update-job": ("catalog-item", "update", "items"),
    "catalog-item-bulk-delete-job": ("catalog-item", "delete", "items"),
    "catalog-variant-bulk-create-job": ("catalog-variant", "create", "variants"),
    "catalog-variant-bulk-update-job": ("catalog-variant", "update", "variants"),
    "catalog-variant-bulk-delete-job": ("catalog-variant", "delete", "variants"),
    "catalog-category-bulk-create-job": ("catalog-category", "create", "categories"),
    "catalog-category-bulk-update-job": ("catalog-category", "update", "categories"),
    "catalog-category-bulk-delete-job": ("catalog-category", "delete", "categories"),
}


def compound_id(attributes: dict[str, Any]) -> str:
    """Return the catalog id Klaviyo derives from the integration, catalog and external id."""
    integration = attributes.get("integration_type") or "$custom"
    catalog = attributes.get("catalog_type") or "$default"
    return f"{integration}:::{catalog}:::{attributes['external_id']}"


def create_object(
    account: SandboxAccount,
    kind: str,
    data: dict[str, Any],
    pointer: str = "/data",
) -> SandboxResource:
    """Create one catalog object from a resource object; raise 404/409 like Klaviyo."""
    attrs = copy.deepcopy(data.get("attributes") or {})
    resource_id = compound_id(attrs)
    if store.get(account, kind, resource_id) is not None:
        raise conflict(
            f"A catalog {LABELS[kind]} with external ID {attrs['external_id']} already exists.",
            pointer=f"{pointer}/attributes/external_id",
        )
    rels = data.get("relationships") or {}
    item_id = ((rels.get("item") or {}).get("data") or {}).get("id")
    if kind == "catalog-variant":
        store.require(
            account, "catalog-item", item_id, pointer=f"{pointer}/relationships/item/data/id"
        )
    for name in ("integration_type", "catalog_type"):
        attrs.pop(name, None)
    if kind != "catalog-category":
        attrs.setdefault("published", True)
    res = store.create(
        account,
        kind,
        attrs,
        resource_id=resource_id,
        relationships={"item": item_id} if kind == "catalog-variant" else None,
        id_pointer=f"{pointer}/attributes/external_id",
    )
    for name in ("categories", "items"):
        if name in rels:
            ids = relations.body_ids((rels[name] or {}).get("data"))
            relations.change(res, name, ids, "replace")
    return res


def update_object(account: SandboxAccount, kind: str, data: dict[str, Any]) -> SandboxResource:
    """Apply one update entry (attributes and relationships) to an existing catalog object."""
    res = store.require(account, kind, data["id"], pointer="/data/id")
    store.merge_attributes(res, data.get("attributes") or {})
    store.save(res)
    for name, value in (data.get("relationships") or {}).items():
        if relations.relation(kind, name) is not None:
            relations.change(res, name, relations.body_ids((value or {}).get("data")), "replace")
    return res


def create_catalog_object(call: Call) -> Reply:
    """Answer POST /api/catalog-items|variants|categories: 201, or 409 for a taken external id."""
    return single(call, create_object(call.account, call.op["type"], call.data), 201)


def bulk_catalog_job(call: Call) -> Reply:
    """Answer POST /api/catalog-*-bulk-*-jobs: apply every entry, report failures; 202 + job."""
    kind, action, member = BULK[call.op["type"]]
    entries = call.attributes[member]["data"]
    done: list[str] = []
    errors = []
    for index, entry in enumerate(entries):
        pointer = f"/data/attributes/{member}/data/{index}"
        try:
            if action == "create":
                done.append(create_object(call.account, kind, entry, pointer).resource_id)
            elif action == "update":
                done.append(update_object(call.account, kind, entry).resource_id)
            else:
                engine.remove(store.require(call.account, kind, entry["id"]))
                done.append(str(entry["id"]))
        except ApiError as error:
            errors.append(jobs.job_error(error.detail, error.pointer or pointer, error.code))
    job = jobs.start(
        call.account,
        call.op["type"],
        total=len(entries),
        failed=len(errors),
        errors=errors,
        relationships={member: done},
    )
    return single(call, job, call.op["status"])
