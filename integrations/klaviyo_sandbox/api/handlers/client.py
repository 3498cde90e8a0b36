"""Client-side endpoints (`/client/...`): public key only, 202 with no body, like Klaviyo.

Events, push tokens and back-in-stock subscriptions reuse the server-side handlers; these are
the two that differ.
"""

from __future__ import annotations

from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.handlers import consent, profiles


def create_client_profile(call: Call) -> Reply:
    """Answer POST /client/profiles: create or update the profile; 202."""
    data = call.data
    profiles.upsert(call.account, call.attributes, profile_id=data.get("id"), meta=data.get("meta"))
    return Reply(202)


def create_client_subscription(call: Call) -> Reply:
    """Answer POST /client/subscriptions: subscribe the profile (and add it to the list); 202."""
    return consent.client_subscribe(call.account, call)
