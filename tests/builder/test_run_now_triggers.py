"""Run now works for every trigger type: each run by hand gets the data its trigger would give."""

from __future__ import annotations

import json

import pytest

from builder.models import Run
from builder.services.workflows import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db

NOTE = [{"key": "note", "action": "builtin.set", "input": {"values": {"n": 1}}}]


def published(workspace, user, trigger):
    document = {"format": "stepbuilder.workflow/1", "name": "By hand", "trigger": trigger,
                "steps": NOTE}  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    workflow_publish(workflow=workflow, user=user)
    return workflow


@pytest.fixture
def web(client_for, alice):
    return client_for(alice)


def test_a_webhooks_body_fields_become_trigger_body(web, alice, alice_workspace):
    body = {"type": "object", "properties": {"email": {"type": "string"}}}
    workflow = published(alice_workspace, alice, {"type": "webhook", "input_schema": body})
    page = web.get(f"/workflows/{workflow.pk}/run/")
    assert b"trigger.body" in page.content
    answer = web.post(f"/workflows/{workflow.pk}/run/", {"in/email": "ada@example.com"})
    assert answer.status_code == 302
    run = Run.objects.get(workflow=workflow)
    assert run.trigger_payload == {"body": {"email": "ada@example.com"}, "query": {}, "headers": {}}


def test_a_schedule_runs_as_if_it_fired_now(web, alice, alice_workspace):
    trigger = {"type": "schedule", "every_minutes": 15, "timezone": "Europe/Berlin"}
    workflow = published(alice_workspace, alice, trigger)
    assert web.post(f"/workflows/{workflow.pk}/run/").status_code == 302
    payload = Run.objects.get(workflow=workflow).trigger_payload
    assert payload["timezone"] == "Europe/Berlin" and payload["scheduled_at"][-6:] in (
        "+01:00", "+02:00",
    )  # fmt: skip


def test_a_klaviyo_trigger_takes_its_event_as_json_prefilled_with_its_shape(
    web, alice, alice_workspace, sandbox, without_showcase
):
    from integrations.services import connection_create_sandbox

    connection_create_sandbox(workspace=alice_workspace, user=alice, name="K")
    trigger = {"type": "klaviyo_webhook", "connection": "K", "topics": ["event:klaviyo.x"]}
    workflow = published(alice_workspace, alice, trigger)
    page = web.get(f"/workflows/{workflow.pk}/run/")
    assert page.status_code == 200 and b"Trigger data (JSON)" in page.content
    event = {"data": {"type": "event", "id": "EV1", "attributes": {"datetime": "2026-12-02"}}}
    answer = web.post(f"/workflows/{workflow.pk}/run/", {"trigger_data": json.dumps(event)})
    assert answer.status_code == 302
    assert Run.objects.get(workflow=workflow).trigger_payload == event
    for bad in ("{not json", "[1, 2]"):
        refused = web.post(f"/workflows/{workflow.pk}/run/", {"trigger_data": bad})
        assert refused.status_code == 400 and b"trigger data" in refused.content
