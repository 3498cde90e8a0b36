"""Composite actions: inputs one Klaviyo request cannot serve, built from catalog actions.

A handler gets the validated parameters and `send(request) -> parsed JSON answer` (raising on
HTTP errors) and returns the action's `data`, as its output schema documents. Every request a
handler sends is itself built by `build_request` from a catalog action, so it is validated and
shaped like any other step's request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .requests import Send, build_request

# Klaviyo's `any(email,[...])` filter and page size both stop at 100 values.
LOOKUP_CHUNK = 100
# The list relationship endpoints take at most 1000 profiles per call.
RELATIONSHIP_CHUNK = 1000


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _records(answer: Any) -> list[dict[str, Any]]:
    data = answer.get("data") if isinstance(answer, dict) else None
    if isinstance(data, dict):
        return [data]
    return [item for item in data or [] if isinstance(item, dict)]


def find_profile_ids(emails: Sequence[str], send: Send) -> dict[str, str]:
    """Return lower-cased email -> profile id for the emails that have a Klaviyo profile."""
    found: dict[str, str] = {}
    for chunk in _chunks(_unique([email.lower() for email in emails]), LOOKUP_CHUNK):
        values = json.dumps(chunk, separators=(",", ":"))
        request = build_request(
            "KLAVIYO_GET_PROFILES",
            {
                "filter": f"any(email,{values})",
                "page_size": LOOKUP_CHUNK,
                "fields_profile": ["email"],
            },
        )
        for record in _records(send(request)):
            email = (record.get("attributes") or {}).get("email")
            if isinstance(email, str) and record.get("id"):
                found[email.lower()] = str(record["id"])
    return found


def add_profiles_to_list(params: dict[str, Any], send: Send) -> dict[str, Any]:
    """Add profiles to a list by id and/or email, creating profiles for unknown emails.

    Emails are looked up 100 at a time; each email without a profile gets one through the
    profile import (an upsert, so a retry never duplicates it); then the ids are posted to the
    list's profile relationship, 1000 per call.
    """
    list_id = params["list_id"]
    emails = params.get("emails") or []
    found = find_profile_ids(emails, send) if emails else {}
    created: list[str] = []
    for email in _unique([e.lower() for e in emails if e.lower() not in found]):
        answer = send(build_request("KLAVIYO_CREATE_OR_UPDATE_PROFILE", {"email": email}))
        records = _records(answer)
        if records and records[0].get("id"):
            created.append(str(records[0]["id"]))
    ids = _unique([*(params.get("profile_ids") or []), *found.values(), *created])
    for chunk in _chunks(ids, RELATIONSHIP_CHUNK):
        send(
            build_request("KLAVIYO_ADD_PROFILE_TO_LIST", {"list_id": list_id, "profile_ids": chunk})
        )
    return {"list_id": list_id, "profile_ids": ids, "created_profile_ids": created}


def remove_profiles_from_list(params: dict[str, Any], send: Send) -> dict[str, Any]:
    """Remove profiles from a list by id and/or email; emails without a profile are skipped."""
    list_id = params["list_id"]
    emails = params.get("emails") or []
    found = find_profile_ids(emails, send) if emails else {}
    not_found = _unique([e.lower() for e in emails if e.lower() not in found])
    ids = _unique([*(params.get("profile_ids") or []), *found.values()])
    for chunk in _chunks(ids, RELATIONSHIP_CHUNK):
        send(
            build_request(
                "KLAVIYO_REMOVE_PROFILE_FROM_LIST", {"list_id": list_id, "profile_ids": chunk}
            )
        )
    return {"list_id": list_id, "profile_ids": ids, "not_found_emails": not_found}


def get_account(params: dict[str, Any], send: Send) -> Any:
    """Return an account as GET /api/accounts/{id} does; without an id, the connected one.

    An account id is the account's public key, which a workflow rarely knows; a private key
    only ever sees its own account, so GET /api/accounts answers exactly that one.
    """
    if params.get("account_id"):
        return send(build_request("KLAVIYO_GET_ACCOUNT", params))
    fields = {name: value for name, value in params.items() if name == "fields_account"}
    answer = send(build_request("KLAVIYO_GET_ACCOUNTS", fields))
    records = _records(answer)
    links = answer.get("links") if isinstance(answer, dict) else None
    return {"data": records[0] if records else None, "links": links or {}}


#: Handler name (an action's `composite`) -> handler.
COMPOSITES: dict[str, Callable[[dict[str, Any], Send], Any]] = {
    "add_profiles_to_list": add_profiles_to_list,
    "remove_profiles_from_list": remove_profiles_from_list,
    "get_account": get_account,
}
