"""Segments: the stored definition decides membership, evaluated when someone asks.

Supported conditions (https://developers.klaviyo.com/en/reference/create_segment): profile
properties (string, numeric, boolean and static date filters), list/segment membership, email /
SMS / push marketing consent and metric counts/sums over a timeframe. Condition groups are
ANDed, the conditions inside a group ORed, as in Klaviyo. Conditions the sandbox cannot
evaluate (predictive analytics, regions, custom objects...) never match.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.klaviyo_sandbox.api import engine, store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.filters import parse_datetime
from integrations.klaviyo_sandbox.api.handlers import consent
from integrations.klaviyo_sandbox.api.handlers.events import event_value
from integrations.klaviyo_sandbox.api.listing import dotted
from integrations.klaviyo_sandbox.api.relations import related_ids
from integrations.klaviyo_sandbox.models import SandboxResource

_CUSTOM = re.compile(r"""^properties\[['"](.+)['"]\]$""")
_UNITS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}


def create_segment(call: Call) -> Reply:
    """Answer POST /api/segments: store the definition; the segment is active at once."""
    res = store.create(call.account, "segment", dict(call.attributes))
    res.attributes = {
        "is_starred": False,
        **res.attributes,
        "is_active": True,
        "is_processing": False,
    }
    store.save(res, touch=False)
    return engine.answer(call, res)


def member_ids(segment: SandboxResource, name: str = "profiles", depth: int = 0) -> list[str]:
    """Return the ids of the account's profiles that match the segment's definition."""
    definition = segment.attributes.get("definition") or {}
    profiles = store.of_type(segment.account, "profile")
    return [p.resource_id for p in profiles if matches(p, definition, depth)]


def segment_ids_for_profile(profile: SandboxResource, name: str = "segments") -> list[str]:
    """Return the ids of the segments the profile belongs to."""
    segments = store.of_type(profile.account, "segment")
    return [
        s.resource_id for s in segments if matches(profile, s.attributes.get("definition") or {})
    ]


def profile_count(segment: SandboxResource, call: Call) -> int:
    """Return the segment's member count (`additional-fields[segment]=profile_count`)."""
    return len(member_ids(segment))


def matches(profile: SandboxResource, definition: dict[str, Any], depth: int = 0) -> bool:
    """Tell whether a profile satisfies every condition group of a definition."""
    groups = definition.get("condition_groups") or []
    if not groups or depth > 3:  # nested segments deeper than this are treated as empty
        return False
    return all(
        any(_condition(profile, c, depth) for c in group.get("conditions") or [])
        for group in groups
    )


def _condition(profile: SandboxResource, condition: dict[str, Any], depth: int) -> bool:
    kind = condition.get("type")
    if kind == "profile-property":
        return _property(profile, condition["property"], condition.get("filter") or {})
    if kind in ("profile-group-membership", "profile-no-group-membership"):
        member = any(_in_group(profile, group, depth) for group in condition.get("group_ids") or [])
        return member if kind == "profile-group-membership" else not member
    if kind == "profile-marketing-consent":
        return _consent(profile, condition.get("consent") or {})
    if kind == "profile-metric":
        return _metric(profile, condition)
    return False


def _in_group(profile: SandboxResource, group_id: str, depth: int) -> bool:
    account = profile.account
    if store.get(account, "list", group_id) is not None:
        return profile.resource_id in store.link_ids(account, "list", group_id, "profiles")
    segment = store.get(account, "segment", group_id)
    if segment is None:
        return False
    return matches(profile, segment.attributes.get("definition") or {}, depth + 1)


def _property(profile: SandboxResource, name: str, spec: dict[str, Any]) -> bool:
    custom = _CUSTOM.match(name)
    attrs = profile.attributes
    if custom:
        value = (attrs.get("properties") or {}).get(custom.group(1))
    else:
        value = dotted(attrs, name.lstrip("$"))
        if value is None:
            value = (attrs.get("properties") or {}).get(name)
    return compare(value, spec)


def compare(value: Any, spec: dict[str, Any]) -> bool:
    """Apply a segment filter (`{"type", "operator", "value"}`) to a value."""
    operator = spec.get("operator", "")
    expected = spec.get("value")
    kind = spec.get("type")
    if operator in ("is-set", "exists"):
        return value not in (None, "")
    if operator in ("is-not-set", "not-exists"):
        return value in (None, "")
    if kind == "date":
        return _date(value, spec)
    if kind == "numeric":
        if not isinstance(value, int | float) or isinstance(value, bool):
            return operator == "not-equals"
        return _numeric(value, operator, expected)
    if kind == "boolean":
        return value is expected
    text = "" if value is None else str(value)
    checks = {
        "equals": lambda: text == expected,
        "not-equals": lambda: text != expected,
        "contains": lambda: str(expected) in text,
        "not-contains": lambda: str(expected) not in text,
        "starts-with": lambda: text.startswith(str(expected)),
        "not-starts-with": lambda: not text.startswith(str(expected)),
        "ends-with": lambda: text.endswith(str(expected)),
        "not-ends-with": lambda: not text.endswith(str(expected)),
        "in": lambda: text in (expected or []),
        "not-in": lambda: text not in (expected or []),
        "regex": lambda: re.search(str(expected), text) is not None,
        "nregex": lambda: re.search(str(expected), text) is None,
    }
    check = checks.get(operator)
    return (
        bool(check and value is not None and check())
        or operator.startswith("not-")
        and value is None
    )


def _numeric(value: float, operator: str, expected: float) -> bool:
    return {
        "equals": value == expected,
        "not-equals": value != expected,
        "greater-than": value > expected,
        "greater-than-or-equal": value >= expected,
        "less-than": value < expected,
        "less-than-or-equal": value <= expected,
    }.get(operator, False)


def _date(value: Any, spec: dict[str, Any], now: datetime | None = None) -> bool:
    moment = parse_datetime(value)
    if moment is None:
        return False
    window = _window(spec, now)
    if window is None:
        return False
    start, end = window
    return (start is None or moment >= start) and (end is None or moment < end)


def _window(spec: dict[str, Any], now: datetime | None = None) -> tuple[Any, Any] | None:
    """Return the [start, end) a date/timeframe filter describes (None ends are open)."""
    now = now or datetime.now().astimezone()
    operator = spec.get("operator")
    if operator == "after":
        return parse_datetime(spec.get("date")), None
    if operator == "before":
        return None, parse_datetime(spec.get("date"))
    if operator == "between-static":
        return parse_datetime(spec.get("start")), parse_datetime(spec.get("end"))
    if operator == "in-the-last":
        return _before(now, spec), None
    if operator == "at-least":
        return None, _before(now, spec)
    if operator == "alltime":
        return None, None
    return None


def _before(now: datetime, spec: dict[str, Any]) -> datetime:
    """Return `quantity` units (hours, days, weeks) before `now`, within the calendar.

    The schema bounds `quantity` by nothing: "in the last 2**62 weeks" means since the first
    moment there is, not an OverflowError.
    """
    unit = _UNITS.get(spec.get("unit"), _UNITS["day"])
    quantity = int(spec.get("quantity") or 0)
    try:
        return now - unit * quantity
    except OverflowError:
        edge = datetime.min if quantity > 0 else datetime.max
        return edge.replace(tzinfo=UTC)


def _consent(profile: SandboxResource, spec: dict[str, Any]) -> bool:
    channel = {"push": "mobile_push"}.get(spec.get("channel"), spec.get("channel"))
    marketing = (consent.subscriptions_of(profile).get(channel) or {}).get("marketing") or {}
    receiving = any(v is True for k, v in marketing.items() if k.startswith("can_receive"))
    wanted = (spec.get("consent_status") or {}).get("subscription", "any")
    status_ok = wanted == "any" or marketing.get("consent", "").lower() == wanted
    return receiving == bool(spec.get("can_receive_marketing")) and status_ok


def _metric(profile: SandboxResource, condition: dict[str, Any]) -> bool:
    events = store.of_type(profile.account, "event").filter(
        relationships__profile=profile.resource_id,
        relationships__metric=condition.get("metric_id"),
    )
    window = _window(condition.get("timeframe_filter") or {"operator": "alltime"})
    if window is None:
        return False
    start, end = window
    if start is not None:
        events = events.filter(created__gte=start)
    if end is not None:
        events = events.filter(created__lt=end)
    if condition.get("measurement") == "sum":
        total = sum(event_value(e) for e in events)
    else:
        total = events.count()
    spec = condition.get("measurement_filter") or {}
    return _numeric(total, spec.get("operator", "greater-than-or-equal"), spec.get("value", 1))


def list_profile_count(lst: SandboxResource, call: Call) -> int:
    """Return a list's member count (`additional-fields[list]=profile_count`)."""
    return len(related_ids(lst, "profiles"))
