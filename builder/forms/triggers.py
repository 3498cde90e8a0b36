"""The trigger card's settings form: the values it shows, and what it posts read back into a
trigger object of the workflow format.

Each type's form posts plain names (`repeat`, `cron`, `every_minutes`, `timezone`, `signing`,
`headers`, `connection`, `topics`, `source`, `metric`, `list`, `segment`); what cannot be read
at all (a number that is not one, an empty cron) is a FieldError at the field's `/trigger/...`
pointer. Everything else is checked by the one reader (`parse_trigger`) when it is saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Protocol
from zoneinfo import available_timezones

from builder.engine.triggers import (
    KLAVIYO_POLL,
    KLAVIYO_WEBHOOK,
    MAX_EVERY_MINUTES,
    POLL_SOURCES,
    SCHEDULE,
    SIGNINGS,
    WEBHOOK,
    Trigger,
    next_times,
)
from builder.forms.conditions import posted
from builder.forms.widgets import FieldError

#: Longer than any cron expression or time zone name; longer text is refused, not read.
MAX_TEXT = 200
_SEPARATORS = re.compile(r"[\s,]+")


class PostedData(Protocol):
    def get(self, key: str, default: Any = ...) -> Any: ...

    def getlist(self, key: str) -> list[Any]: ...

    def __contains__(self, key: object) -> bool: ...


def split_names(values: list[Any]) -> list[str]:
    """Return the names in comma- or space-separated texts, each once, in the order given."""
    names: list[str] = []
    for value in values:
        for name in _SEPARATORS.split(str(value)):
            if name and name not in names:
                names.append(name)
    return names


def _minutes(data: PostedData, errors: list[FieldError]) -> int:
    text = posted(data, "every_minutes").strip()
    digits = text.isascii() and text.isdigit() and len(text) <= 6  # not "²", not "٣"
    if not digits or not 1 <= int(text) <= MAX_EVERY_MINUTES:
        errors.append(
            FieldError(
                "/trigger/every_minutes",
                f"Enter a whole number of minutes from 1 to {MAX_EVERY_MINUTES} (a week).",
            )
        )
        return 0
    return int(text)


def _text(data: PostedData, name: str, errors: list[FieldError], what: str) -> str:
    value = posted(data, name).strip()
    if len(value) > MAX_TEXT:
        errors.append(FieldError(f"/trigger/{name}", f"{what} has at most {MAX_TEXT} characters."))
        return ""
    return value


def read_trigger_settings(
    kind: str, data: PostedData, current: dict[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the trigger of type `kind` the posted settings form describes, and what could
    not be read. The input fields (`input_schema`) are the field builder's: kept from `current`.
    """
    errors: list[FieldError] = []
    trigger: dict[str, Any] = {"type": kind}
    if kind == SCHEDULE:
        if posted(data, "repeat") == "cron":
            cron = _text(data, "cron", errors, "A cron expression")
            if not cron and not errors:
                errors.append(
                    FieldError(
                        "/trigger/cron",
                        "Enter a cron expression, e.g. 0 9 * * 1 (Mondays at 9:00).",
                    )
                )
            trigger["cron"] = cron
        else:
            trigger["every_minutes"] = _minutes(data, errors)
        trigger["timezone"] = _text(data, "timezone", errors, "A time zone name") or "UTC"
    elif kind == WEBHOOK:
        trigger["signing"] = posted(data, "signing") or "hmac-sha256"
        if isinstance(current.get("input_schema"), dict):
            trigger["input_schema"] = current["input_schema"]
        headers = split_names(data.getlist("headers"))
        if headers:
            trigger["headers"] = headers
    elif kind in (KLAVIYO_WEBHOOK, KLAVIYO_POLL):
        # Left out while empty: the draft then says what to choose.
        connection = _text(data, "connection", errors, "A connection name")
        if connection:
            trigger["connection"] = connection
        if kind == KLAVIYO_WEBHOOK:
            trigger["topics"] = split_names(data.getlist("topics"))
        else:
            source = posted(data, "source")
            trigger["source"] = source
            needs = POLL_SOURCES[source][0] if source in POLL_SOURCES else None
            value = _text(data, needs, errors, f"A {needs}") if needs else ""
            if needs and value:
                trigger[needs] = value
            trigger["every_minutes"] = _minutes(data, errors)
    else:
        return dict(current), errors
    return trigger, errors


# --- what the settings form shows ---------------------------------------------------------------


@dataclass(frozen=True)
class NextRun:
    """One fire time: ISO 8601 for the browser, and in words in the schedule's zone."""

    iso: str
    text: str


@cache
def time_zones() -> list[str]:
    """Return every IANA time zone name, sorted (what a schedule's `timezone` may be)."""
    return sorted(available_timezones())


def next_runs(trigger: Trigger, now: datetime, count: int = 5) -> list[NextRun]:
    """Return a schedule's next `count` fire times after `now` ("Mon 7 Dec 2026, 09:00 UTC")."""
    zone = trigger.settings.get("timezone") or "UTC"
    return [
        NextRun(t.isoformat(), f"{t:%a} {t.day} {t:%b %Y, %H:%M} {zone}")
        for t in next_times(trigger, now, count)
    ]


@dataclass
class SettingsForm:
    """The values the settings controls of the draft's trigger start with."""

    type: str
    repeat: str = "every"
    cron: str = ""
    every_minutes: int = 60
    timezone: str = "UTC"
    signing: str = "hmac-sha256"
    headers: str = ""
    connection: str = ""
    topics: list[str] = field(default_factory=list)
    source: str = "metric_event"
    #: The poll's source's setting ("metric", "list", "segment") and its value, or "".
    needs: str = ""
    needs_value: str = ""
    needs_label: str = ""
    needs_noun: str = ""

    @property
    def topics_text(self) -> str:
        return ", ".join(self.topics)

    #: Each choice's (value, title).
    sources: list[tuple[str, str]] = field(default_factory=list)
    signings: list[tuple[str, str]] = field(default_factory=list)


#: The label and plural of each Klaviyo choice a trigger names.
CHOICE_WORDS = {
    "topics": ("Topics", "webhook topics"),
    "metric": ("Metric", "metrics"),
    "list": ("List", "lists"),
    "segment": ("Segment", "segments"),
}
SIGNING_TITLES = {"hmac-sha256": "HMAC-SHA256 signature", "none": "No signature"}
#: Cron's example when a schedule switches from minutes to cron.
CRON_EXAMPLE = "0 9 * * 1"


def settings_form(trigger: Trigger) -> SettingsForm:
    """Return the settings form's starting values for `trigger` (as the draft has it)."""
    settings = trigger.settings
    form = SettingsForm(
        type=trigger.type,
        sources=[(key, title) for key, (_, title) in POLL_SOURCES.items()],
        signings=[(key, SIGNING_TITLES[key]) for key in SIGNINGS],
    )
    if trigger.type == SCHEDULE:
        form.repeat = "cron" if "cron" in settings else "every"
        form.cron = settings.get("cron") or CRON_EXAMPLE
        form.every_minutes = settings.get("every_minutes") or 60
        form.timezone = settings.get("timezone") or "UTC"
    elif trigger.type == WEBHOOK:
        form.signing = settings.get("signing") or "hmac-sha256"
        form.headers = ", ".join(settings.get("headers") or [])
    elif trigger.type in (KLAVIYO_WEBHOOK, KLAVIYO_POLL):
        form.connection = trigger.connection or ""
        topics = settings.get("topics")
        form.topics = [t for t in topics if isinstance(t, str)] if isinstance(topics, list) else []
        source = settings.get("source")
        form.source = source if source in POLL_SOURCES else "metric_event"
        form.needs = POLL_SOURCES[form.source][0] or ""
        form.needs_label, form.needs_noun = CHOICE_WORDS.get(form.needs, ("", ""))
        value = settings.get(form.needs) if form.needs else ""
        form.needs_value = value if isinstance(value, str) else ""
        form.every_minutes = settings.get("every_minutes") or 5
    return form
