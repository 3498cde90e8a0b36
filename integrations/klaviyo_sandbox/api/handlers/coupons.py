"""Coupons and coupon codes (https://developers.klaviyo.com/en/reference/coupons_api_overview).

A coupon's id is its external id (`10OFF`); a code's id is `<coupon id>-<unique code>`.
"""

from __future__ import annotations

from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import ApiError, conflict
from integrations.klaviyo_sandbox.api.handlers import jobs
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.api.relations import body_related_id
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource


def create_coupon(call: Call) -> Reply:
    """Answer POST /api/coupons: the id is the external id; 409 when it is taken."""
    attrs = dict(call.attributes)
    external = attrs["external_id"]
    if store.get(call.account, "coupon", external) is not None:
        raise conflict(
            f"A coupon with external ID {external} already exists.",
            pointer="/data/attributes/external_id",
        )
    coupon = store.create(
        call.account,
        "coupon",
        attrs,
        resource_id=external,
        id_pointer="/data/attributes/external_id",
    )
    return single(call, coupon, 201)


def create_code(account: SandboxAccount, data: dict[str, Any], pointer: str) -> SandboxResource:
    """Create one coupon code from a resource object; raise 404 (coupon) or 409 (code)."""
    attrs = data["attributes"]
    coupon_id = body_related_id(data, "coupon", pointer=pointer)
    coupon = store.require(
        account, "coupon", coupon_id, pointer=f"{pointer}/relationships/coupon/data/id"
    )
    code_id = f"{coupon.resource_id}-{attrs['unique_code']}"
    if store.get(account, "coupon-code", code_id) is not None:
        raise conflict(
            f"The code {attrs['unique_code']} already exists for coupon {coupon_id}.",
            pointer=f"{pointer}/attributes/unique_code",
        )
    return store.create(
        account,
        "coupon-code",
        {
            "unique_code": attrs["unique_code"],
            "expires_at": attrs.get("expires_at"),
            "status": "UNASSIGNED",
        },
        resource_id=code_id,
        relationships={"coupon": coupon.resource_id},
        id_pointer=f"{pointer}/attributes/unique_code",
    )


def create_coupon_code(call: Call) -> Reply:
    """Answer POST /api/coupon-codes: a new UNASSIGNED code of a coupon."""
    return single(call, create_code(call.account, call.data, "/data"), call.op["status"])


def bulk_create_coupon_codes(call: Call) -> Reply:
    """Answer POST /api/coupon-code-bulk-create-jobs: create every code it can; 202 + job."""
    entries = call.attributes["coupon-codes"]["data"]
    created, errors = [], []
    for index, entry in enumerate(entries):
        pointer = f"/data/attributes/coupon-codes/data/{index}"
        try:
            created.append(create_code(call.account, entry, pointer).resource_id)
        except ApiError as error:
            errors.append(jobs.job_error(error.detail, error.pointer or pointer, error.code))
    job = jobs.start(
        call.account,
        "coupon-code-bulk-create-job",
        total=len(entries),
        failed=len(errors),
        errors=errors,
        relationships={"coupon-codes": created},
    )
    return single(call, job, call.op["status"])
