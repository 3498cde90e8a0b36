"""Reporting endpoints computed from stored events: metric aggregates and values/series reports.

* Metric aggregates (https://developers.klaviyo.com/en/reference/query_metric_aggregates): count,
  sum_value and unique profiles of one metric's events per hour/day/week/month bucket, optionally
  grouped `by` event properties, within the `datetime` range the filters give.
* Campaign/flow values and flow series reports: email statistics of the messages, from the
  "Received/Opened/Clicked Email"... events whose `$message` names a campaign or flow message,
  and conversions whose `$attributed_message` does.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.klaviyo_sandbox.api import filters, store
from integrations.klaviyo_sandbox.api.context import Call, Reply, iso
from integrations.klaviyo_sandbox.api.errors import invalid
from integrations.klaviyo_sandbox.api.handlers.events import event_value
from integrations.klaviyo_sandbox.api.handlers.timeframes import buckets, floor, timeframe
from integrations.klaviyo_sandbox.models import SandboxAccount

MESSAGE_METRICS = {
    "Received Email": "received",
    "Opened Email": "opens",
    "Clicked Email": "clicks",
    "Bounced Email": "bounced",
    "Unsubscribed from Email Marketing": "unsubscribes",
    "Marked Email as Spam": "spam",
}
SERIES_INTERVALS = {"hourly": "hour", "daily": "day", "weekly": "week", "monthly": "month"}


def _events(account: SandboxAccount, metric_ids: list[str], start: datetime, end: datetime):
    return (
        store.of_type(account, "event")
        .filter(relationships__metric__in=metric_ids, created__gte=start, created__lt=end)
        .order_by("created", "pk")
    )


# -- metric aggregates -------------------------------------------------------------------------


def query_metric_aggregates(call: Call) -> Reply:
    """Answer POST /api/metric-aggregates: count / sum_value / unique per interval bucket."""
    attrs = call.attributes
    pointer = "/data/attributes"
    metric = store.require(
        call.account, "metric", attrs["metric_id"], pointer=f"{pointer}/metric_id"
    )
    try:
        zone = ZoneInfo(attrs.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long
        raise invalid("Unknown timezone.", pointer=f"{pointer}/timezone") from exc
    start, end, others = _range(attrs["filter"], f"{pointer}/filter")
    interval = attrs.get("interval") or "day"
    dates = buckets(start, end, interval, zone, pointer=f"{pointer}/filter")
    index = {moment: position for position, moment in enumerate(dates)}
    by = attrs.get("by") or []
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for event in _events(call.account, [metric.resource_id], start, end):
        props = event.attributes.get("event_properties") or {}
        if others and not filters.evaluate(others, props.get):
            continue
        position = index.get(floor(event.created, interval, zone))
        if position is None:
            continue
        key = tuple(str(props.get(name, "")) for name in by)
        group = groups.setdefault(
            key,
            {
                "count": [0] * len(dates),
                "sum_value": [0.0] * len(dates),
                "unique": [set() for _ in dates],
            },
        )
        group["count"][position] += 1
        group["sum_value"][position] += event_value(event)
        group["unique"][position].add(event.relationships.get("profile"))
    if not groups and not by:
        groups[()] = {
            "count": [0] * len(dates),
            "sum_value": [0.0] * len(dates),
            "unique": [set() for _ in dates],
        }
    data = []
    for key, group in groups.items():
        measurements = {}
        for name in attrs["measurements"]:
            values = group[name]
            measurements[name] = (
                [len(v) for v in values] if name == "unique" else [round(v, 2) for v in values]
            )
        data.append({"dimensions": list(key), "measurements": measurements})
    data = _sorted(data, attrs.get("sort"), by)[: int(attrs.get("page_size") or 500)]
    body = {
        "type": "metric-aggregate",
        "id": str(uuid.uuid4()),
        "attributes": {"dates": [d.isoformat(timespec="seconds") for d in dates], "data": data},
        "links": {"self": call.self_link()},
    }
    return Reply(200, {"data": body, "links": {"self": call.self_link()}})


def _range(texts: list[str], pointer: str) -> tuple[datetime, datetime, filters.Node | None]:
    """Split metric-aggregate filters into the datetime range and the other conditions."""
    start = end = None
    others = []
    for position, text in enumerate(texts):
        try:
            node = filters.parse(text)
        except filters.FilterSyntaxError as exc:
            raise invalid(f"Invalid filter: {exc}.", pointer=f"{pointer}/{position}") from exc
        for comparison in filters.comparisons(node):
            if comparison.field != "datetime":
                others.append(comparison)
                continue
            moment = filters.parse_datetime(comparison.value)
            if moment is None:
                raise invalid(
                    "datetime filters need an ISO date-time.", pointer=f"{pointer}/{position}"
                )
            if comparison.operator in ("greater-or-equal", "greater-than"):
                start = moment
            elif comparison.operator in ("less-than", "less-or-equal"):
                end = moment
    if start is None or end is None or end <= start:
        raise invalid(
            "Filter must give a datetime range: greater-or-equal(datetime,...) and "
            "less-than(datetime,...).",
            pointer=pointer,
        )
    if end - start > timedelta(days=366):
        raise invalid("The datetime range can be at most one year.", pointer=pointer)
    node = filters.Logical("and", tuple(others)) if others else None
    return start, end, node


def _sorted(data: list[dict[str, Any]], sort: str | None, by: list[str]) -> list[dict[str, Any]]:
    if not sort:
        return data
    field = sort.lstrip("-")

    def key(row: dict[str, Any]) -> Any:
        if field in by:
            return row["dimensions"][by.index(field)]
        return sum(row["measurements"].get(field) or [0])

    return sorted(data, key=key, reverse=sort.startswith("-"))


# -- campaign and flow reports -----------------------------------------------------------------


def _messages(account: SandboxAccount, owner: str) -> dict[str, dict[str, Any]]:
    """Map message ids to their groupings (`campaign_id`/`flow_id`, channel, name)."""
    found: dict[str, dict[str, Any]] = {}
    if owner == "campaign":
        campaigns = {c.resource_id: c for c in store.of_type(account, "campaign")}
        for message in store.of_type(account, "campaign-message"):
            campaign_id = message.relationships.get("campaign")
            definition = message.attributes.get("definition") or {}
            found[message.resource_id] = {
                "campaign_id": campaign_id,
                "campaign_message_id": message.resource_id,
                "campaign_message_name": definition.get("label") or "",
                "send_channel": definition.get("channel") or "email",
                "name": (
                    campaigns.get(campaign_id).attributes.get("name")
                    if campaign_id in campaigns
                    else ""
                ),
            }
        return found
    actions = {
        a.resource_id: a.relationships.get("flow") for a in store.of_type(account, "flow-action")
    }
    flows = {f.resource_id: f for f in store.of_type(account, "flow")}
    for message in store.of_type(account, "flow-message"):
        flow_id = actions.get(message.relationships.get("flow-action"))
        found[message.resource_id] = {
            "flow_id": flow_id,
            "flow_message_id": message.resource_id,
            "flow_message_name": message.internal.get("name")
            or (message.attributes.get("definition") or {}).get("subject_line")
            or "",
            "flow_name": flows[flow_id].attributes.get("name") if flow_id in flows else "",
            "send_channel": message.attributes.get("channel") or "email",
        }
    return found


def _report(call: Call, owner: str, series: bool) -> Reply:
    attrs = call.attributes
    pointer = "/data/attributes"
    conversion = store.require(
        call.account,
        "metric",
        attrs["conversion_metric_id"],
        pointer=f"{pointer}/conversion_metric_id",
    )
    start, end = timeframe(attrs["timeframe"], call.now, f"{pointer}/timeframe")
    messages = _messages(call.account, owner)
    default_group = [f"{owner}_id", f"{owner}_message_id", "send_channel"]
    group_by = attrs.get("group_by") or default_group
    condition = None
    if attrs.get("filter"):
        try:
            condition = filters.parse(attrs["filter"])
        except filters.FilterSyntaxError as exc:
            raise invalid(f"Invalid filter: {exc}.", pointer=f"{pointer}/filter") from exc
    interval = SERIES_INTERVALS.get(attrs.get("interval") or "daily", "day")
    dates = (
        buckets(start, end, interval, ZoneInfo("UTC"), pointer=f"{pointer}/timeframe")
        if series
        else [start]
    )
    index = {moment: position for position, moment in enumerate(dates)}
    metric_names = {
        m.resource_id: MESSAGE_METRICS.get(m.attributes.get("name"))
        for m in store.of_type(call.account, "metric")
    }
    metric_names[conversion.resource_id] = "conversions"
    tallies: dict[tuple, list[dict[str, Any]]] = {}
    for event in _events(call.account, [k for k, v in metric_names.items() if v], start, end):
        kind = metric_names[event.relationships.get("metric")]
        props = event.attributes.get("event_properties") or {}
        message_key = "$attributed_message" if kind == "conversions" else "$message"
        grouping_source = messages.get(str(props.get(message_key)))
        if grouping_source is None:
            continue
        groupings = {name: grouping_source.get(name) for name in group_by}
        if condition is not None and not filters.evaluate(condition, groupings.get):
            continue
        position = index[floor(event.created, interval, ZoneInfo("UTC"))] if series else 0
        key = tuple(sorted(groupings.items(), key=lambda item: item[0]))
        slots = tallies.setdefault(key, [_empty() for _ in dates])
        slot = slots[position]
        slot[kind] += 1
        slot[f"{kind}_profiles"].add(event.relationships.get("profile"))
        if kind == "conversions":
            slot["value"] += event_value(event)
    results = []
    for key, slots in tallies.items():
        stats = [_statistics(slot, attrs["statistics"]) for slot in slots]
        statistics = (
            {name: [s[name] for s in stats] for name in attrs["statistics"]} if series else stats[0]
        )
        results.append({"groupings": dict(key), "statistics": statistics})
    report_attrs: dict[str, Any] = {"results": results}
    if series:
        report_attrs["date_times"] = [iso(d) for d in dates]
    body = {"type": call.op["type"], "attributes": report_attrs}
    return Reply(200, {"data": body, "links": {"self": call.self_link()}})


def _empty() -> dict[str, Any]:
    slot: dict[str, Any] = {"value": 0.0}
    for kind in [*MESSAGE_METRICS.values(), "conversions"]:
        slot[kind] = 0
        slot[f"{kind}_profiles"] = set()
    return slot


def _ratio(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def _statistics(slot: dict[str, Any], wanted: list[str]) -> dict[str, float]:
    recipients = slot["received"]
    delivered = max(recipients - slot["bounced"], 0)
    opens_unique = len(slot["opens_profiles"])
    clicks_unique = len(slot["clicks_profiles"])
    conversion_uniques = len(slot["conversions_profiles"])
    unsubscribe_uniques = len(slot["unsubscribes_profiles"])
    value = round(slot["value"], 2)
    known = {
        "recipients": recipients,
        "delivered": delivered,
        "delivery_rate": _ratio(delivered, recipients),
        "opens": slot["opens"],
        "opens_unique": opens_unique,
        "open_rate": _ratio(opens_unique, delivered),
        "clicks": slot["clicks"],
        "clicks_unique": clicks_unique,
        "click_rate": _ratio(clicks_unique, delivered),
        "click_to_open_rate": _ratio(clicks_unique, opens_unique),
        "conversions": slot["conversions"],
        "conversion_uniques": conversion_uniques,
        "conversion_value": value,
        "conversion_rate": _ratio(conversion_uniques, delivered),
        "revenue_per_recipient": _ratio(value, delivered),
        "average_order_value": _ratio(value, slot["conversions"]),
        "unsubscribes": slot["unsubscribes"],
        "unsubscribe_uniques": unsubscribe_uniques,
        "unsubscribe_rate": _ratio(unsubscribe_uniques, delivered),
        "bounced": slot["bounced"],
        "bounce_rate": _ratio(slot["bounced"], recipients),
        "bounced_or_failed": slot["bounced"],
        "bounced_or_failed_rate": _ratio(slot["bounced"], recipients),
        "spam_complaints": slot["spam"],
        "spam_complaint_rate": _ratio(slot["spam"], delivered),
    }
    # SMS-only statistics (credits, segments, spend) are always zero: the sandbox sends no SMS.
    return {name: known.get(name, 0) for name in wanted}


def query_campaign_values(call: Call) -> Reply:
    """Answer POST /api/campaign-values-reports."""
    return _report(call, "campaign", series=False)


def query_flow_values(call: Call) -> Reply:
    """Answer POST /api/flow-values-reports."""
    return _report(call, "flow", series=False)


def query_flow_series(call: Call) -> Reply:
    """Answer POST /api/flow-series-reports."""
    return _report(call, "flow", series=True)
