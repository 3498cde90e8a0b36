"""Campaigns, their messages, send jobs and recipient estimations.

A campaign moves Draft -> Scheduled (a static send time in the future) -> Sending -> Sent once
a send job exists; cancelling the job marks it Cancelled, reverting returns it to Draft
(https://developers.klaviyo.com/en/reference/send_campaign). Progress is worked out from the
clock when the campaign is read, like the jobs in `jobs`.
"""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

from integrations.klaviyo_sandbox.api import engine, relations, store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.api.handlers import consent, jobs, templates
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

DEFAULT_TRACKING = {
    "add_tracking_params": False,
    "is_tracking_clicks": True,
    "is_tracking_opens": True,
}


def _message_attributes(definition: dict[str, Any]) -> dict[str, Any]:
    return {"definition": copy.deepcopy(definition), "send_times": []}


def _check_audiences(account: SandboxAccount, audiences: dict[str, Any]) -> None:
    for part in ("included", "excluded"):
        for index, group_id in enumerate(audiences.get(part) or []):
            if not any(store.get(account, kind, group_id) for kind in ("list", "segment")):
                raise invalid(
                    f"Audience {group_id} is neither a list nor a segment of this account.",
                    pointer=f"/data/attributes/audiences/{part}/{index}",
                )


def create_campaign(call: Call) -> Reply:
    """Answer POST /api/campaigns: a Draft campaign with its messages; 201."""
    attrs = copy.deepcopy(call.attributes)
    messages = (attrs.pop("campaign-messages", None) or {}).get("data") or []
    audiences = attrs.get("audiences") or {}
    _check_audiences(call.account, audiences)
    channel = (
        ((messages[0].get("attributes") or {}).get("definition") or {}).get("channel")
        if messages
        else "email"
    )
    campaign = store.create(
        call.account,
        "campaign",
        {
            "name": attrs["name"],
            "status": "Draft",
            "archived": False,
            "audiences": {
                "included": audiences.get("included", []),
                "excluded": audiences.get("excluded") or [],
            },
            "send_options": attrs.get("send_options") or {"use_smart_sending": True},
            "tracking_options": attrs.get("tracking_options") or dict(DEFAULT_TRACKING),
            "send_strategy": attrs.get("send_strategy") or {"method": "immediate"},
            "scheduled_at": None,
            "send_time": None,
        },
        internal={"channel": channel or "email"},
    )
    for message in messages:
        definition = (message.get("attributes") or {}).get("definition") or {"channel": channel}
        store.create(
            call.account,
            "campaign-message",
            _message_attributes(definition),
            relationships={"campaign": campaign.resource_id},
        )
    return single(call, campaign, 201)


def update_campaign(call: Call) -> Reply:
    """Answer PATCH /api/campaigns/{id}: only Draft campaigns can change (400 otherwise)."""
    campaign = store.require(call.account, "campaign", call.id)
    if campaign.internal.get("send") and not campaign.internal["send"].get("reverted"):
        raise invalid("Only Draft campaigns can be updated.", pointer="/data/attributes")
    if "audiences" in call.attributes:
        _check_audiences(call.account, call.attributes["audiences"] or {})
    return engine.update(call)


def update_campaign_message(call: Call) -> Reply:
    """Answer PATCH /api/campaign-messages/{id}: merge the definition (content key by key)."""
    engine.check_body_id(call)
    message = store.require(call.account, "campaign-message", call.id)
    changes = call.attributes.get("definition") or {}
    definition = copy.deepcopy(message.attributes.get("definition") or {})
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(definition.get(key), dict):
            definition[key] = {**definition[key], **value}
        else:
            definition[key] = value
    message.attributes = {**message.attributes, "definition": definition}
    store.save(message)
    engine.apply_relationships(message, (call.data or {}).get("relationships") or {})
    return single(call, message)


def view_campaign(campaign: SandboxResource, attrs: dict[str, Any], now: datetime) -> None:
    """Work out status, scheduled_at and send_time from the campaign's send job."""
    send = campaign.internal.get("send")
    if not send or send.get("reverted"):
        return
    starts = jobs.moment(send["at"])
    attrs["scheduled_at"] = iso(starts) if send.get("scheduled") else None
    if send.get("cancelled"):
        attrs["status"] = "Cancelled"
    elif now < starts:
        attrs["status"] = "Scheduled"
    elif now < starts + timedelta(seconds=float(send["seconds"])):
        attrs["status"], attrs["send_time"] = "Sending", iso(starts)
    else:
        attrs["status"], attrs["send_time"] = "Sent", iso(starts)


def messages_channel(campaign: SandboxResource, attrs: dict[str, Any]) -> str:
    """Return the channel of a campaign's messages (filter field `messages.channel`)."""
    return campaign.internal.get("channel", "email")


def recipients(account: SandboxAccount, campaign: SandboxResource) -> list[str]:
    """Return the ids of the profiles a campaign would reach on its channel."""
    audiences = campaign.attributes.get("audiences") or {}
    chosen: dict[str, None] = {}
    excluded: set[str] = set()
    for part, into in (("included", chosen), ("excluded", None)):
        for group_id in audiences.get(part) or []:
            group = store.get(account, "list", group_id) or store.get(account, "segment", group_id)
            ids = relations.related_ids(group, "profiles") if group else {}
            if into is None:
                excluded.update(ids)
            else:
                into.update(dict.fromkeys(ids))
    channel = campaign.internal.get("channel", "email")
    identity = {"email": "email", "sms": "phone_number"}.get(channel)
    reachable = []
    for profile in store.many(account, "profile", [i for i in chosen if i not in excluded]):
        if identity and not profile.attributes.get(identity):
            continue
        marketing = (consent.subscriptions_of(profile).get(channel) or {}).get("marketing") or {}
        if marketing.get("consent") == "UNSUBSCRIBED" or marketing.get("suppression"):
            continue
        reachable.append(profile.resource_id)
    return reachable


def send_campaign(call: Call) -> Reply:
    """Answer POST /api/campaign-send-jobs: queue the send (data.id is the campaign); 202 + job."""
    campaign = store.require(call.account, "campaign", call.data["id"], pointer="/data/id")
    send = campaign.internal.get("send")
    if send and not send.get("reverted"):
        raise invalid("This campaign has already been sent or scheduled.", pointer="/data/id")
    if not (campaign.attributes.get("audiences") or {}).get("included"):
        raise invalid("The campaign has no audience to send to.", pointer="/data/id")
    strategy = campaign.attributes.get("send_strategy") or {}
    starts = call.now
    scheduled = False
    if strategy.get("method") in ("static", "throttled") and strategy.get("datetime"):
        when = jobs.moment(strategy["datetime"])
        if when and when > call.now:
            starts, scheduled = when, True
    delay = (starts - call.now).total_seconds()
    count = len(recipients(call.account, campaign))
    old = store.get(call.account, "campaign-send-job", campaign.resource_id)
    if old is not None:
        store.delete(old)
    job = jobs.start(
        call.account,
        "campaign-send-job",
        total=count,
        resource_id=campaign.resource_id,
        internal={"seconds": delay + jobs.job_seconds()},
    )
    campaign.internal = {
        **campaign.internal,
        # Full precision: the Sending -> Sent switch may be a fraction of a second away.
        "send": {"at": starts.isoformat(), "seconds": jobs.job_seconds(), "scheduled": scheduled},
        "recipients": count,
    }
    store.save(campaign)
    return single(call, job, call.op["status"])


def cancel_campaign_send(call: Call) -> Reply:
    """Answer PATCH /api/campaign-send-jobs/{id}: `cancel` (Cancelled) or `revert` (Draft)."""
    engine.check_body_id(call)
    job = store.require(call.account, "campaign-send-job", call.id)
    campaign = store.require(call.account, "campaign", call.id)
    if jobs.status(job, call.now) == "complete":
        raise ApiError(400, "invalid", "The campaign has already been sent.", pointer="/data/id")
    action = call.attributes["action"]
    send = dict(campaign.internal.get("send") or {})
    if action == "revert":
        send["reverted"] = True
        store.delete(job)
    else:
        send["cancelled"] = True
        job.internal = {**job.internal, "cancelled": True}
        store.save(job)
    campaign.internal = {**campaign.internal, "send": send}
    store.save(campaign)
    return Reply(204)


def refresh_campaign_recipient_estimation(call: Call) -> Reply:
    """Answer POST /api/campaign-recipient-estimation-jobs: count the audience; 202 + job."""
    campaign = store.require(call.account, "campaign", call.data["id"], pointer="/data/id")
    count = len(recipients(call.account, campaign))
    _estimation(call.account, campaign, count)
    old = store.get(call.account, "campaign-recipient-estimation-job", campaign.resource_id)
    if old is not None:
        store.delete(old)
    job = jobs.start(
        call.account,
        "campaign-recipient-estimation-job",
        total=count,
        resource_id=campaign.resource_id,
    )
    return single(call, job, call.op["status"])


def _estimation(account: SandboxAccount, campaign: SandboxResource, count: int) -> SandboxResource:
    found = store.get(account, "campaign-recipient-estimation", campaign.resource_id)
    if found is None:
        return store.create(
            account,
            "campaign-recipient-estimation",
            {"estimated_recipient_count": count},
            resource_id=campaign.resource_id,
        )
    found.attributes = {"estimated_recipient_count": count}
    return store.save(found)


def get_campaign_recipient_estimation(call: Call) -> Reply:
    """Answer GET /api/campaign-recipient-estimations/{id}: the last estimate (computed if none)."""
    campaign = store.require(call.account, "campaign", call.id)
    found = store.get(call.account, "campaign-recipient-estimation", campaign.resource_id)
    if found is None:
        found = _estimation(call.account, campaign, len(recipients(call.account, campaign)))
    return single(call, found)


def create_campaign_clone(call: Call) -> Reply:
    """Answer POST /api/campaign-clone: a Draft copy with copies of the messages; 201."""
    source = store.require(call.account, "campaign", call.data["id"], pointer="/data/id")
    attrs = copy.deepcopy(source.attributes)
    attrs.update(
        name=call.attributes.get("new_name") or f"{attrs.get('name', '')} (Clone)",
        status="Draft",
        scheduled_at=None,
        send_time=None,
    )
    clone = store.create(
        call.account,
        "campaign",
        attrs,
        internal={"channel": source.internal.get("channel", "email")},
    )
    for name in ("campaign-messages",):
        for message in store.many(
            call.account, "campaign-message", relations.related_ids(source, name)
        ):
            store.create(
                call.account,
                "campaign-message",
                copy.deepcopy(message.attributes),
                relationships={**message.relationships, "campaign": clone.resource_id},
            )
    return single(call, clone, 201)


def assign_template_to_campaign_message(call: Call) -> Reply:
    """Answer POST /api/campaign-message-assign-template: link a non-reusable template copy."""
    message = store.require(call.account, "campaign-message", call.data["id"], pointer="/data/id")
    template_id = relations.body_related_id(call.data, "template")
    pointer = "/data/relationships/template/data/id"
    template = store.require(call.account, "template", template_id, pointer=pointer)
    copy_ = templates.copy_template(template, name=template.attributes.get("name"), reusable=False)
    message.relationships = {**message.relationships, "template": copy_.resource_id}
    store.save(message)
    return single(call, message, call.op["status"])


def before_delete_campaign(campaign: SandboxResource) -> None:
    """Delete a campaign's send job and estimations with it."""
    for kind in (
        "campaign-send-job",
        "campaign-recipient-estimation",
        "campaign-recipient-estimation-job",
    ):
        found = store.get(campaign.account, kind, campaign.resource_id)
        if found is not None:
            store.delete(found)
