"""Flows: read, change status, delete; which flows a list, segment or metric triggers.

Flows cannot be built through this API revision's actions, so the sandbox's flows come from the
demo data; each keeps what triggers it in `internal.trigger_id`.
"""

from __future__ import annotations

from integrations.klaviyo_sandbox.api import engine, store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.errors import invalid
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.models import SandboxResource

STATUSES = ("draft", "manual", "live")


def update_flow(call: Call) -> Reply:
    """Answer PATCH /api/flows/{id}: set the status to draft, manual or live."""
    engine.check_body_id(call)
    flow = store.require(call.account, "flow", call.id)
    status = call.attributes["status"]
    if status not in STATUSES:
        raise invalid(
            f"Invalid flow status {status!r}; use one of {', '.join(STATUSES)}.",
            pointer="/data/attributes/status",
        )
    flow.attributes = {**flow.attributes, "status": status}
    store.save(flow)
    return single(call, flow)


def triggered_by(resource: SandboxResource, name: str = "flow-triggers") -> list[str]:
    """Return the ids of the flows the list, segment or metric triggers."""
    flows = store.of_type(resource.account, "flow").filter(
        internal__trigger_id=resource.resource_id
    )
    return list(flows.values_list("resource_id", flat=True))
