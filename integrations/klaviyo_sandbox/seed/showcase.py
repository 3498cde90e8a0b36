"""Make every catalog action's example input work against a freshly seeded account.

Each action's example names ids unique to that action (see `catalog/generate/localize.py`).
`seed_showcase` reads the catalog, builds each example's request, finds every id it refers to
(path ids typed by the router's operation table, `{type, id}` pairs in the body, metric and
audience ids in attributes) and creates the missing ones as copies of demo-store resources of
the same type (`seed_clone`), in the state the action needs (a Draft campaign to send, a
scheduled send to cancel, a finished bulk job to read). The sandbox stays strict: ids nobody
seeded still answer 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from django.utils import timezone

from integrations.klaviyo_sandbox.api.router import route
from integrations.klaviyo_sandbox.models import SandboxAccount
from integrations.klaviyo_sandbox.seed.clone import Cloner

# A POST naming one resource in `data.id` acts on a resource of another type.
_ACTS_ON = {
    "campaign-send-job": "campaign",
    "campaign-recipient-estimation-job": "campaign",
    "profile-merge": "profile",
}
# Path types whose id is the campaign's (Klaviyo keys them by campaign id).
_BY_CAMPAIGN = {
    "campaign-send-job": "send-job",
    "campaign-recipient-estimation-job": "estimation-job",
    "campaign-recipient-estimation": "",
}
# Ids every account has (webhook topics) or that name the account itself: nothing to create.
_FIXED = {"webhook-topic", "account"}
# Attribute names holding ids of a known type.
_ATTRIBUTE_TYPES = {"metric_id": "metric", "conversion_metric_id": "metric", "group_ids": "list"}

Reference = tuple[str, str, str]  # (type, id, state the action needs)


def references(method: str, path: str, body: Any) -> list[Reference]:
    """Return the (type, id, state) of every existing resource one request refers to."""
    op, params = route(method, unquote(path))
    found: list[Reference] = []
    owner = op["type"]
    if "id" in params and op["kind"] != "create" and owner not in _FIXED:
        resource_id = unquote(params["id"])
        if owner in _BY_CAMPAIGN:
            state = _BY_CAMPAIGN[owner]
            if state == "send-job" and method == "PATCH":
                state = "scheduled"
            found.append(("campaign", resource_id, state))
        else:
            found.append((owner, resource_id, ""))
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict) and data.get("id") and data.get("type") in _ACTS_ON:
        state = "draft" if data["type"] == "campaign-send-job" else ""
        found.append((_ACTS_ON[data["type"]], str(data["id"]), state))
    elif isinstance(data, dict) and data.get("id") and "id" not in params:
        found.append((data["type"], str(data["id"]), ""))
    found.extend(_nested(data, top=True))
    return [ref for ref in found if ref[0] not in _FIXED]


def _nested(value: Any, *, top: bool = False) -> Iterator[Reference]:
    """Yield `{type, id}` pairs below the top-level resource, and typed id attributes."""
    if isinstance(value, list):
        for item in value:
            yield from _nested(item)
        return
    if not isinstance(value, dict):
        return
    if not top and isinstance(value.get("type"), str) and isinstance(value.get("id"), str):
        yield value["type"], value["id"], ""
    for name, sub in value.items():
        if name in _ATTRIBUTE_TYPES:
            for item in sub if isinstance(sub, list) else [sub]:
                if isinstance(item, str):
                    yield _ATTRIBUTE_TYPES[name], item, ""
        elif name == "audiences" and isinstance(sub, dict):
            for item in sub.get("included") or []:
                yield "list", item, ""
        elif name != "id":
            yield from _nested(sub)


def _composite_references(params: dict[str, Any]) -> list[Reference]:
    """Return the ids a composite action's example names (its requests depend on answers)."""
    found: list[Reference] = []
    if params.get("list_id"):
        found.append(("list", params["list_id"], ""))
    found.extend(("profile", pid, "") for pid in params.get("profile_ids") or [])
    return found


def showcase_plan() -> dict[tuple[str, str], set[str]]:
    """Return `{(type, id): states}` for every resource the catalog's examples refer to."""
    from integrations.klaviyo.catalog import all_actions, build_request, example_input

    plan: dict[tuple[str, str], set[str]] = {}
    for _key, action in sorted(all_actions().items()):
        params = example_input(action)
        if action.composite:
            refs = _composite_references(params)
        else:
            request = build_request(action, params)
            refs = references(request.method, request.path, request.body)
        for kind, resource_id, state in refs:
            plan.setdefault((kind, resource_id), set()).add(state)
    return plan


def seed_showcase(account: SandboxAccount) -> int:
    """Create what every catalog example refers to in `account`; return how many were created."""
    cloner = Cloner(account, timezone.now())
    for (kind, resource_id), states in showcase_plan().items():
        cloner.ensure(kind, resource_id, states)
    return cloner.save()
