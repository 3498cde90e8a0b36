"""Bulk profile imports: upsert every profile, add them to the lists, keep per-row errors.

Rows that fail (a malformed email, no identifier...) become `import-error` resources of the job
(https://developers.klaviyo.com/en/reference/bulk_import_profiles); the rest are imported.
"""

from __future__ import annotations

from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError
from integrations.klaviyo_sandbox.api.handlers import jobs, profiles
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.models import SandboxResource


def bulk_import_profiles(call: Call) -> Reply:
    """Answer POST /api/profile-bulk-import-jobs: upsert profiles into the lists; 202 + job."""
    account = call.account
    rows = call.attributes["profiles"]["data"]
    list_ids = []
    lists = ((call.data.get("relationships") or {}).get("lists") or {}).get("data") or []
    for index, item in enumerate(lists):
        pointer = f"/data/relationships/lists/data/{index}/id"
        list_ids.append(store.require(account, "list", item["id"], pointer=pointer).resource_id)
    imported: list[str] = []
    errors: list[SandboxResource] = []
    for index, row in enumerate(rows):
        pointer = f"/data/attributes/profiles/data/{index}/attributes"
        try:
            profile, _ = profiles.upsert(
                account,
                row.get("attributes") or {},
                profile_id=row.get("id"),
                meta=row.get("meta"),
                pointer=pointer,
            )
        except ApiError as error:
            errors.append(_import_error(call, error, row))
            continue
        imported.append(profile.resource_id)
    for list_id in list_ids:
        store.link_add(account, "list", [list_id], "profiles", "profile", imported)
    job = jobs.start(
        account,
        "profile-bulk-import-job",
        total=len(rows),
        failed=len(errors),
        relationships={
            "lists": list_ids,
            "profiles": imported,
            "import-errors": [e.resource_id for e in errors],
        },
    )
    return single(call, job, call.op["status"])


def _import_error(call: Call, error: ApiError, row: dict[str, Any]) -> SandboxResource:
    return store.create(
        call.account,
        "import-error",
        {
            "code": error.code,
            "title": error.title,
            "detail": error.detail,
            "source": {"pointer": error.pointer or "/data"},
            "original_payload": row.get("attributes") or {},
        },
    )


def push_tokens_of(profile: SandboxResource, attrs: dict[str, Any]) -> list[str]:
    """Return the push token values of a profile (filter field `push_token`)."""
    tokens = store.of_type(profile.account, "push-token").filter(
        relationships__profile=profile.resource_id
    )
    return [t.attributes.get("token") for t in tokens]
