"""Runs from trigger items: one run per new item, in order; an item seen before starts nothing."""

from __future__ import annotations

import pytest

from builder.models import Run, TriggerEvent
from builder.services.workflows import workflow_create, workflow_publish
from builder.triggers.base import runs_from_items

pytestmark = pytest.mark.django_db


def test_each_item_starts_one_run_once_and_bad_ones_are_counted(alice, alice_workspace):
    document = {
        "name": "Items",
        "trigger": {"type": "manual", "input_schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}}}},
        "steps": [{"key": "note", "action": "builtin.set", "input": {"values": {"n": 1}}}],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    workflow_publish(workflow=workflow, user=alice)
    workflow.refresh_from_db()
    items = [("ev-1", {"email": "a@example.com"}), ("ev-2", {"email": "b@example.com"})]
    refused = []

    first = runs_from_items(workflow=workflow, items=items, trigger_kind=Run.Trigger.KLAVIYO_POLL)
    again = runs_from_items(
        workflow=workflow,
        items=[*items, ("ev-3", {"email": "not an email"})],
        trigger_kind=Run.Trigger.KLAVIYO_POLL,
        on_refused=lambda external_id, invalid: refused.append(external_id),
    )

    assert [run.trigger_payload["email"] for run in first.runs] == [
        "a@example.com",
        "b@example.com",
    ]
    assert (len(again.runs), again.duplicates, again.refused, refused) == (0, 2, 1, ["ev-3"])
    assert Run.objects.count() == 2
    assert set(TriggerEvent.objects.values_list("external_id", flat=True)) == {"ev-1", "ev-2"}
