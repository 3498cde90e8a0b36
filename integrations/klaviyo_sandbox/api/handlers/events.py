"""Events and metrics: an event names its metric, which is created on first use.

Klaviyo's create-event call (https://developers.klaviyo.com/en/reference/create_event) upserts
the profile, creates the metric by name, stores `value` as `$value` in the event properties and
drops a repeated `unique_id` for the same profile and metric. A new metric brings its webhook
topic, and the events a request records are announced to the webhooks subscribed to their topics
once the request commits (see `webhooks`).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.filters import parse_datetime
from integrations.klaviyo_sandbox.api.handlers import profiles
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from integrations.klaviyo_sandbox.webhooks import deliveries_enqueue, metric_topic_create

API_INTEGRATION = {
    "object": "integration",
    "id": "7FtS4J",
    "key": "api",
    "name": "API",
    "category": "API",
}


def metric_for(
    account: SandboxAccount, name: str, *, created: datetime | None = None
) -> SandboxResource:
    """Return the account's metric called `name`, creating it and its webhook topic if new."""
    found = store.of_type(account, "metric").filter(attributes__name=name).first()
    if found is not None:
        return found
    metric = store.create(
        account, "metric", {"name": name, "integration": dict(API_INTEGRATION)}, created=created
    )
    metric_topic_create(account=account, metric_name=name)
    return metric


def event_value(event: SandboxResource) -> float:
    """Return an event's `$value` as a number: 0 unless it is a finite number or numeric text.

    `value` must be a number, but `properties` take anything, `$value` included ("abc", [1]);
    reports and segments sum what they can.
    """
    value = (event.attributes.get("event_properties") or {}).get("$value")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) else 0.0


def metric_named(account: SandboxAccount, name: str) -> SandboxResource | None:
    """Return the metric called `name`, or None."""
    return store.of_type(account, "metric").filter(attributes__name=name).first()


def event_profile(account: SandboxAccount, data: dict[str, Any], pointer: str) -> SandboxResource:
    """Upsert the profile an event names (by id, identifiers or `anonymous_id`)."""
    attrs = dict(data.get("attributes") or {})
    anonymous = attrs.get("anonymous_id") or attrs.get("_kx")
    if not data.get("id") and not any(attrs.get(n) for n in profiles.IDENTIFIERS) and anonymous:
        found = store.of_type(account, "profile").filter(internal__anonymous_id=anonymous).first()
        if found is None:
            found = store.create(account, "profile", {}, internal={"anonymous_id": anonymous})
        return found
    profile, _ = profiles.upsert(
        account, attrs, profile_id=data.get("id"), meta=data.get("meta"), pointer=pointer
    )
    return profile


def record(
    account: SandboxAccount,
    attributes: dict[str, Any],
    profile: SandboxResource,
    now: datetime,
) -> SandboxResource | None:
    """Store one event for `profile`; return None when its `unique_id` was already recorded."""
    metric_data = attributes["metric"]["data"]
    metric = metric_for(account, metric_data["attributes"]["name"])
    unique_id = attributes.get("unique_id")
    if unique_id:
        seen = store.of_type(account, "event").filter(
            internal__unique_id=unique_id,
            relationships__metric=metric.resource_id,
            relationships__profile=profile.resource_id,
        )
        if seen.exists():
            return None
    moment = parse_datetime(attributes.get("time")) or now
    properties = dict(attributes.get("properties") or {})
    if attributes.get("value") is not None:
        properties["$value"] = attributes["value"]
    if attributes.get("value_currency"):
        properties["$value_currency"] = attributes["value_currency"]
    event = store.create(
        account,
        "event",
        {
            "timestamp": int(moment.timestamp()),
            "event_properties": properties,
            "datetime": iso(moment),
            "uuid": str(uuid.uuid4()),
        },
        relationships={"metric": metric.resource_id, "profile": profile.resource_id},
        internal={"unique_id": unique_id} if unique_id else {},
        created=moment,
    )
    last = parse_datetime(profile.attributes.get("last_event_date"))
    if last is None or moment > last:
        profile.attributes = {**profile.attributes, "last_event_date": iso(moment)}
        store.save(profile, touch=False)
    return event


def create_event(call: Call) -> Reply:
    """Answer POST /api/events (and /client/events): record the event; 202 with no body."""
    attributes = call.attributes
    pointer = "/data/attributes/profile/data/attributes"
    profile = event_profile(call.account, attributes["profile"]["data"], pointer)
    event = record(call.account, attributes, profile, call.now)
    _announce(call, [event])
    return Reply(202)


def _announce(call: Call, events: list[SandboxResource | None]) -> None:
    """Have the request's recorded events (not the dropped repeats) delivered after commit."""
    recorded = [e for e in events if e is not None]
    deliveries_enqueue(account=call.account, events=recorded, base_url=call.base_url)


def _bulk(call: Call, entries: list[dict[str, Any]], base: str) -> Reply:
    recorded = []
    for index, entry in enumerate(entries):
        attrs = entry["attributes"]
        pointer = f"{base}/{index}/attributes/profile/data/attributes"
        profile = event_profile(call.account, attrs["profile"]["data"], pointer)
        for event in attrs["events"]["data"]:
            recorded.append(record(call.account, event["attributes"], profile, call.now))
    _announce(call, recorded)
    return Reply(202)


def bulk_create_events(call: Call) -> Reply:
    """Answer POST /api/event-bulk-create-jobs: record every profile's events; 202 with no body."""
    entries = call.attributes["events-bulk-create"]["data"]
    return _bulk(call, entries, "/data/attributes/events-bulk-create/data")


def bulk_create_client_events(call: Call) -> Reply:
    """Answer POST /client/event-bulk-create: one profile's events; 202 with no body."""
    return _bulk(call, [call.data], "/data")


def predictive_analytics(profile: SandboxResource, call: Call) -> dict[str, Any]:
    """Return `predictive_analytics` for a profile from its "Placed Order" history."""
    account = profile.account
    metric = metric_named(account, "Placed Order")
    orders = []
    if metric is not None:
        orders = list(
            store.of_type(account, "event")
            .filter(relationships__profile=profile.resource_id)
            .filter(relationships__metric=metric.resource_id)
        )
    values = [event_value(e) for e in orders]
    count = len(values)
    total = round(sum(values), 2)
    gaps = None
    if count > 1:
        span = (orders[-1].created - orders[0].created).days
        gaps = round(span / (count - 1), 1)
    return {
        "historic_clv": total,
        "predicted_clv": round(total * 0.4, 2),
        "total_clv": round(total * 1.4, 2),
        "historic_number_of_orders": count,
        "predicted_number_of_orders": round(count * 0.4, 1),
        "average_days_between_orders": gaps,
        "average_order_value": round(total / count, 2) if count else 0.0,
        "churn_probability": 0.25 if count > 1 else 0.75,
        "expected_date_of_next_order": None,
        "ranked_channel_affinity": ["email", "sms", "push"],
    }
