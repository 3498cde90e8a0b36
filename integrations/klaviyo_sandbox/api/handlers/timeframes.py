"""Time buckets and named timeframes for the reporting endpoints."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from integrations.klaviyo_sandbox.api.errors import invalid
from integrations.klaviyo_sandbox.api.filters import parse_datetime

MAX_BUCKETS = 2000


def floor(moment: datetime, interval: str, zone: ZoneInfo) -> datetime:
    """Return the start of the hour/day/week (Monday)/month holding `moment`, in `zone`."""
    local = moment.astimezone(zone)
    if interval == "hour":
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    return day


def _next(moment: datetime, interval: str) -> datetime:
    if interval == "hour":
        return moment + timedelta(hours=1)
    if interval == "week":
        return moment + timedelta(days=7)
    if interval == "month":
        year, month = (
            (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
        )
        return moment.replace(year=year, month=month)
    # Aware arithmetic within one zone is wall-clock arithmetic, so midnight stays midnight
    # across daylight-saving changes.
    return moment + timedelta(days=1)


def buckets(
    start: datetime, end: datetime, interval: str, zone: ZoneInfo, *, pointer: str | None = None
) -> list[datetime]:
    """Return the bucket starts covering [start, end); raise 400 for an absurd number, or for
    a range whose buckets leave the calendar (years 1 to 9999 in `zone`)."""
    found: list[datetime] = []
    try:
        current = floor(start, interval, zone)
        while current < end:
            found.append(current)
            if len(found) > MAX_BUCKETS:
                raise invalid(
                    f"Too many {interval} buckets in this range; use a larger interval.",
                    pointer=pointer,
                )
            current = _next(current, interval)
        floor(end, interval, zone)  # every event in the range is put in a bucket
    except (OverflowError, ValueError) as exc:  # datetime arithmetic past year 9999 (or 1)
        raise invalid(
            "The datetime range is outside the calendar reports cover (years 1 to 9999).",
            pointer=pointer,
        ) from exc
    return found


def timeframe(spec: dict[str, Any], now: datetime, pointer: str) -> tuple[datetime, datetime]:
    """Return the UTC [start, end) of a report timeframe (`{"key": ...}` or start/end)."""
    if "key" not in spec:
        start, end = parse_datetime(spec.get("start")), parse_datetime(spec.get("end"))
        if start is None or end is None or end <= start:
            raise invalid("The timeframe needs a start before its end.", pointer=pointer)
        return start, end
    today = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    year = today.replace(month=1, day=1)
    previous_month = (month - timedelta(days=1)).replace(day=1)
    ranges = {
        "today": (today, now),
        "yesterday": (today - timedelta(days=1), today),
        "last_7_days": (today - timedelta(days=7), today),
        "last_30_days": (today - timedelta(days=30), today),
        "last_90_days": (today - timedelta(days=90), today),
        "last_3_months": (today - timedelta(days=91), today),
        "last_365_days": (today - timedelta(days=365), today),
        "last_12_months": (today - timedelta(days=365), today),
        "this_week": (week, now),
        "last_week": (week - timedelta(days=7), week),
        "this_month": (month, now),
        "last_month": (previous_month, month),
        "this_year": (year, now),
        "last_year": (year.replace(year=year.year - 1), year),
    }
    if spec["key"] not in ranges:
        raise invalid(f"Unknown timeframe key {spec['key']!r}.", pointer=f"{pointer}/key")
    return ranges[spec["key"]]
