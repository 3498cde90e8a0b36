"""The trigger object of the workflow format: each type's settings, problems and data schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from builder.engine.definition import parse_definition
from builder.engine.triggers import next_times, parse_trigger


def problems_of(raw):
    return dict(parse_trigger(raw)[1])


def test_a_schedule_takes_a_cron_expression_checked_by_croniter_and_a_time_zone():
    trigger, problems = parse_trigger(
        {"type": "schedule", "cron": "0  9 * * 1", "timezone": "Europe/Berlin"}
    )
    assert problems == []
    assert trigger.to_document() == {
        "type": "schedule",
        "cron": "0 9 * * 1",
        "timezone": "Europe/Berlin",
    }
    monday = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
    fires = next_times(trigger, datetime(2026, 12, 2, tzinfo=UTC), count=2)
    assert fires[0] == monday and (fires[1] - fires[0]).days == 7
    assert "/trigger/cron" in problems_of({"type": "schedule", "cron": "61 * * * *"})
    assert "five fields" in problems_of({"type": "schedule", "cron": "* * *"})["/trigger/cron"]
    assert "/trigger/timezone" in problems_of(
        {"type": "schedule", "every_minutes": 5, "timezone": "Mars/Olympus"}
    )


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "schedule"},
        {"type": "schedule", "cron": "0 9 * * *", "every_minutes": 5},
        {"type": "schedule", "every_minutes": 0},
        {"type": "schedule", "every_minutes": True},
    ],
)
def test_a_schedule_needs_one_of_cron_and_an_interval(raw):
    trigger, problems = parse_trigger(raw)
    assert problems
    assert ("cron" in trigger.settings) != ("every_minutes" in trigger.settings)


def test_a_webhooks_data_is_its_body_query_and_chosen_headers():
    body = {"type": "object", "properties": {"email": {"type": "string"}}}
    trigger, problems = parse_trigger(
        {"type": "webhook", "signing": "none", "input_schema": body, "headers": ["X-Shop"]}
    )
    assert problems == []
    schema = trigger.data_schema["properties"]
    assert schema["body"] == body and list(schema["headers"]["properties"]) == ["x-shop"]
    assert "/trigger/signing" in problems_of({"type": "webhook", "signing": "md5"})


def test_klaviyo_triggers_name_their_connection_and_what_they_watch():
    assert set(problems_of({"type": "klaviyo_webhook"})) == {
        "/trigger/connection",
        "/trigger/topics",
    }
    found = problems_of({"type": "klaviyo_poll", "connection": "K", "source": "metric_event"})
    assert list(found) == ["/trigger/metric"]
    trigger, problems = parse_trigger(
        {"type": "klaviyo_poll", "connection": "K", "source": "list_member", "list": "VIPs"}
    )
    assert problems == [] and trigger.settings["every_minutes"] == 5
    # A profile as KLAVIYO_GET_PROFILE returns one ({"data": {...}}), from the catalog.
    profile = trigger.data_schema["properties"]["data"]
    assert "email" in profile["properties"]["attributes"]["properties"]
    assert "/trigger/every_minutes" in problems_of(
        {"type": "klaviyo_poll", "connection": "K", "source": "new_profile", "every_minutes": 0}
    )


def test_references_to_a_webhooks_body_are_checked_against_its_schema():
    document = {
        "name": "Hook",
        "trigger": {"type": "webhook", "signing": "none", "input_schema": {
            "type": "object", "properties": {"email": {"type": "string"}}}},
        "steps": [{"key": "note", "action": "builtin.set",
                   "input": {"values": {"who": "{{ trigger.body.email }}"}}}],
    }  # fmt: skip
    definition, problems = parse_definition(document)
    assert problems == []
    assert definition.to_document()["trigger"]["signing"] == "none"
    assert definition.input_schema["properties"]["body"]["properties"]["email"]


def test_an_interval_keeps_real_time_across_a_daylight_saving_change():
    from datetime import UTC, datetime, timedelta

    from builder.engine.triggers import next_times

    trigger, _ = parse_trigger(
        {"type": "schedule", "every_minutes": 60, "timezone": "Europe/Berlin"}
    )
    times = next_times(trigger, datetime(2026, 10, 25, 0, 30, tzinfo=UTC), count=3)
    gaps = {b.astimezone(UTC) - a.astimezone(UTC) for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {timedelta(hours=1)}
    assert times[0].astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert "/trigger/cron" in problems_of({"type": "schedule", "cron": "0 0 30 2 *"})
