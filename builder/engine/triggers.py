"""The trigger of a workflow: what starts its runs, its settings, and what `{{ trigger.* }}` holds.

Pure logic, like the rest of the engine: reading the `trigger` object of the workflow format
(docs/workflows.md) into a `Trigger`, with problems for what is wrong, and the JSON Schema of the
data a run of each type starts with — what the editor's picker offers and the validator checks
references against. Arming (schedules, webhook URLs, Klaviyo registrations, polling) is the
Django side's work: `builder/triggers/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

MANUAL, SCHEDULE, WEBHOOK, KLAVIYO_WEBHOOK, KLAVIYO_POLL = (
    "manual",
    "schedule",
    "webhook",
    "klaviyo_webhook",
    "klaviyo_poll",
)
TRIGGER_TYPES = (MANUAL, SCHEDULE, WEBHOOK, KLAVIYO_WEBHOOK, KLAVIYO_POLL)
TITLES = {
    MANUAL: "Manual (Run now and the API)",
    SCHEDULE: "Schedule",
    WEBHOOK: "Inbound webhook",
    KLAVIYO_WEBHOOK: "Klaviyo webhook",
    KLAVIYO_POLL: "Klaviyo polling",
}
SIGNINGS = ("hmac-sha256", "none")
POLL_SOURCES = {
    "metric_event": ("metric", "New event of a metric"),
    "list_member": ("list", "Profile added to a list"),
    "segment_member": ("segment", "Profile added to a segment"),
    "new_profile": (None, "New profile"),
}
MAX_EVERY_MINUTES = 7 * 24 * 60
MAX_HEADERS = 20
MAX_TOPICS = 50
EMPTY_OBJECT: dict[str, Any] = {"type": "object", "properties": {}}


@dataclass(frozen=True)
class Trigger:
    """A workflow's trigger: its type, its settings as written, and the schema of its data."""

    type: str = MANUAL
    #: The settings besides `type`, as the document has them (input_schema included).
    settings: dict[str, Any] = field(default_factory=dict)
    #: What a run's `trigger` holds (the manual trigger's declared fields; a webhook's body,
    #: query and headers; a Klaviyo event or profile; a schedule's time).
    data_schema: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_OBJECT))
    #: The schema a webhook's body (or the manual input) is checked against.
    input_schema: dict[str, Any] = field(default_factory=lambda: dict(EMPTY_OBJECT))

    @property
    def title(self) -> str:
        return TITLES[self.type]

    @property
    def armable(self) -> bool:
        """Whether enabling the workflow arms something (all but the manual trigger)."""
        return self.type != MANUAL

    @property
    def connection(self) -> str | None:
        value = self.settings.get("connection")
        return value if isinstance(value, str) else None

    def to_document(self) -> dict[str, Any]:
        return {"type": self.type, **self.settings}

    @property
    def summary(self) -> dict[str, Any]:
        """The settings without the body schema (which the editor shows as fields)."""
        return {k: v for k, v in self.to_document().items() if k != "input_schema"}


Problem = tuple[str, str]  # (JSON pointer, message)


def _timezone(name: Any, problems: list[Problem]) -> str:
    if name is None:
        return "UTC"
    if not isinstance(name, str) or name not in _zones():
        problems.append(
            ("/trigger/timezone", "timezone is an IANA time zone name such as Europe/Berlin.")
        )
        return "UTC"
    return name


_ZONES: set[str] = set()


def _zones() -> set[str]:
    if not _ZONES:
        _ZONES.update(available_timezones())
    return _ZONES


def cron_problem(expression: str) -> str | None:
    """Return why a cron expression cannot be used, or None (checked by croniter)."""
    from croniter import CroniterBadDateError, croniter

    if len(expression.split()) != 5:
        return (
            "A cron expression has five fields: minute hour day-of-month month day-of-week, "
            "e.g. 0 9 * * 1 (Mondays at 9:00)."
        )
    if not croniter.is_valid(expression):
        return f"{expression!r} is not a cron expression croniter understands."
    try:
        croniter(expression).get_next(datetime)
    except (CroniterBadDateError, ValueError, KeyError):
        return f"{expression!r} never comes round (e.g. the 30th of February)."
    return None


def next_times(trigger: Trigger, after: datetime, count: int = 5) -> list[datetime]:
    """Return a schedule's next `count` fire times after `after`, in its time zone."""
    from datetime import timedelta

    from croniter import croniter

    zone = ZoneInfo(trigger.settings.get("timezone") or "UTC")
    if "cron" in trigger.settings:
        times = croniter(trigger.settings["cron"], after.astimezone(zone))
        return [times.get_next(datetime) for _ in range(count)]
    # An interval is counted in real time (UTC), so a daylight-saving change stretches nothing.
    every = timedelta(minutes=trigger.settings.get("every_minutes") or 1)
    start = after.astimezone(ZoneInfo("UTC"))
    return [(start + every * (n + 1)).astimezone(zone) for n in range(count)]


def _every_minutes(value: Any, problems: list[Problem], low: int = 1) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= MAX_EVERY_MINUTES
    ):
        problems.append(
            (
                "/trigger/every_minutes",
                f"every_minutes is a whole number of minutes from {low} to {MAX_EVERY_MINUTES} "
                "(a week).",
            )
        )
        return max(low, 15)
    return value


def _body_schema(trigger: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    schema = trigger.get("input_schema", EMPTY_OBJECT)
    if not isinstance(schema, dict) or schema.get("type", "object") != "object":
        problems.append(
            (
                "/trigger/input_schema",
                "The trigger's input_schema is a JSON Schema of an object "
                '({"type": "object", "properties": {...}}).',
            )
        )
        return dict(EMPTY_OBJECT)
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        problems.append(
            (
                "/trigger/input_schema" + (f"/{where}" if where else ""),
                f"The trigger's input schema is not valid JSON Schema: {error.message}",
            )
        )
        return dict(EMPTY_OBJECT)
    return schema


def _connection(trigger: dict[str, Any], problems: list[Problem]) -> None:
    if not isinstance(trigger.get("connection"), str) or not trigger["connection"].strip():
        problems.append(("/trigger/connection", "Choose the Klaviyo connection to listen to."))


#: Fields each type takes besides `type`.
FIELDS = {
    MANUAL: {"input_schema"},
    SCHEDULE: {"cron", "every_minutes", "timezone"},
    WEBHOOK: {"signing", "input_schema", "headers"},
    KLAVIYO_WEBHOOK: {"connection", "topics"},
    KLAVIYO_POLL: {"connection", "source", "metric", "list", "segment", "every_minutes"},
}


def parse_trigger(raw: Any) -> tuple[Trigger, list[Problem]]:
    """Read a workflow's `trigger` object; return the trigger and (pointer, message) problems."""
    problems: list[Problem] = []
    if raw is None:
        return Trigger(settings={"input_schema": dict(EMPTY_OBJECT)}), problems
    if not isinstance(raw, dict):
        problems.append(("/trigger", "The trigger is an object with a type."))
        return Trigger(settings={"input_schema": dict(EMPTY_OBJECT)}), problems
    kind = raw.get("type", MANUAL)
    if kind not in TRIGGER_TYPES:
        problems.append(
            (
                "/trigger/type",
                f"Unknown trigger type {kind!r}; use one of: {', '.join(TRIGGER_TYPES)}.",
            )
        )
        kind = MANUAL
    for extra in sorted(set(raw) - FIELDS[kind] - {"type"}):
        problems.append((f"/trigger/{extra}", f"Unknown field {extra!r} of a {kind} trigger."))
    settings = {name: value for name, value in raw.items() if name in FIELDS[kind]}
    body = _body_schema(raw, problems) if kind in (MANUAL, WEBHOOK) else dict(EMPTY_OBJECT)
    if kind == MANUAL or (kind == WEBHOOK and "input_schema" in settings):
        settings["input_schema"] = body
    if kind == SCHEDULE:
        _schedule(raw, settings, problems)
    elif kind == WEBHOOK:
        _webhook(raw, settings, problems)
    elif kind == KLAVIYO_WEBHOOK:
        _klaviyo_webhook(raw, settings, problems)
    elif kind == KLAVIYO_POLL:
        _klaviyo_poll(raw, settings, problems)
    trigger = Trigger(kind, settings, data_schema(kind, settings, body), body)
    return trigger, problems


def _schedule(raw: dict[str, Any], settings: dict[str, Any], problems: list[Problem]) -> None:
    has_cron, has_every = "cron" in raw, "every_minutes" in raw
    if has_cron == has_every:
        problems.append(
            (
                "/trigger",
                'A schedule has either "cron" (e.g. "0 9 * * 1") or "every_minutes" (e.g. 15).',
            )
        )
    if has_cron:
        cron = raw["cron"]
        why = cron_problem(cron) if isinstance(cron, str) else "The cron expression is text."
        if why:
            problems.append(("/trigger/cron", why))
            settings.pop("cron")
        else:
            settings["cron"] = " ".join(cron.split())
    if has_every:
        settings["every_minutes"] = _every_minutes(raw["every_minutes"], problems)
    if "cron" in settings:
        settings.pop("every_minutes", None)
    elif "every_minutes" not in settings:
        settings["every_minutes"] = 60  # what is used until the problem is fixed
    settings["timezone"] = _timezone(raw.get("timezone"), problems)


def _webhook(raw: dict[str, Any], settings: dict[str, Any], problems: list[Problem]) -> None:
    signing = raw.get("signing", "hmac-sha256")
    if signing not in SIGNINGS:
        problems.append(("/trigger/signing", f"signing is one of: {', '.join(SIGNINGS)}."))
        signing = "hmac-sha256"
    settings["signing"] = signing
    headers = raw.get("headers", [])
    if (
        not isinstance(headers, list)
        or len(headers) > MAX_HEADERS
        or not all(isinstance(h, str) and 0 < len(h) <= 100 for h in headers)
    ):
        problems.append(
            ("/trigger/headers", f"headers is a list of at most {MAX_HEADERS} header names.")
        )
        headers = []
    if headers or "headers" in raw:
        settings["headers"] = sorted({h.strip().lower() for h in headers if h.strip()})


def _klaviyo_webhook(
    raw: dict[str, Any], settings: dict[str, Any], problems: list[Problem]
) -> None:
    _connection(raw, problems)
    topics = raw.get("topics")
    if (
        not isinstance(topics, list)
        or not topics
        or len(topics) > MAX_TOPICS
        or not all(isinstance(t, str) and 0 < len(t) <= 200 for t in topics)
    ):
        problems.append(
            (
                "/trigger/topics",
                "Choose at least one topic, e.g. event:klaviyo.placed_order.",
            )
        )
        settings["topics"] = []


def _klaviyo_poll(raw: dict[str, Any], settings: dict[str, Any], problems: list[Problem]) -> None:
    _connection(raw, problems)
    source = raw.get("source")
    if source not in POLL_SOURCES:
        problems.append(("/trigger/source", f"source is one of: {', '.join(POLL_SOURCES)}."))
        settings["source"] = source = "new_profile"
    needs = POLL_SOURCES[source][0]
    for name in ("metric", "list", "segment"):
        if name != needs and name in raw:
            problems.append((f"/trigger/{name}", f"A {source} poll takes no {name}."))
            settings.pop(name, None)
    if needs is not None:
        value = raw.get(needs)
        if not isinstance(value, str) or not value.strip() or len(value) > 200:
            problems.append(
                (f"/trigger/{needs}", f"Name the {needs} to watch, by its id or its name.")
            )
    settings["every_minutes"] = _every_minutes(raw.get("every_minutes", 5), problems)


def _output(action: str) -> dict[str, Any]:
    """The schema of what a Klaviyo action returns for one resource (`{"data": {...}}`).

    A Klaviyo webhook item's payload has "the same structure as a Get Event API call", and a
    polled item is given the same shape, so `trigger.data.attributes...` reads alike in both.
    """
    from integrations.klaviyo.catalog import UnknownAction, get_action

    try:
        output = get_action(action).output_schema
    except UnknownAction:
        return {"type": "object"}
    data = (output.get("properties") or {}).get("data") or {}
    resource = (data.get("properties") or {}).get("data") or {"type": "object"}
    return {"type": "object", "properties": {"data": resource}, "required": ["data"]}


def data_schema(kind: str, settings: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON Schema of a run's trigger data for a trigger of `kind`."""
    if kind == MANUAL:
        return body
    if kind == SCHEDULE:
        return {
            "type": "object",
            "properties": {
                "scheduled_at": {"type": "string", "format": "date-time",
                                 "description": "When this run was due, in the schedule's zone."},
                "timezone": {"type": "string", "description": "The schedule's time zone."},
            },
        }  # fmt: skip
    if kind == WEBHOOK:
        return {
            "type": "object",
            "properties": {
                "body": body,
                "query": {"type": "object", "additionalProperties": {"type": "string"},
                          "description": "The URL's query parameters."},
                "headers": {"type": "object", "properties": {
                    name: {"type": "string"} for name in settings.get("headers", [])}},
            },
        }  # fmt: skip
    if kind == KLAVIYO_WEBHOOK:
        return _output("KLAVIYO_GET_EVENT")
    source = settings.get("source")
    return _output("KLAVIYO_GET_EVENT" if source == "metric_event" else "KLAVIYO_GET_PROFILE")
