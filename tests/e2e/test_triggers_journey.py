"""A workflow that starts by itself (issue #14): in the editor, the user sets its trigger to
"New event of a metric: Placed Order" polled from the sandbox, publishes and enables it; a
Placed Order event is created in the sandbox; the worker's poll starts a run, which appears in
the workflow's runs with the event as its trigger data.

Every stage leaves a screenshot in artifacts/screenshots/triggers-NN-<stage>.png.
"""

from __future__ import annotations

import re
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from builder.models import Run, TriggerState, Workflow
from builder.services.workflows import workflow_create
from integrations import services
from tests.e2e.conftest import CONNECTION, stage_shots

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_TIMEOUT = 45_000  # ms: the poll and the run go through the real worker
BUYER = "first.order@example.com"


@pytest.fixture
def shot(page):
    return stage_shots(page, "triggers")


def test_a_new_placed_order_in_the_sandbox_starts_a_run_that_history_shows(
    without_showcase, logged_in, shot, connection, start_worker, alice, alice_workspace
):
    page = logged_in
    document = {
        "format": "stepbuilder.workflow/1",
        "name": "Thank each buyer",
        "trigger": {"type": "manual"},
        "steps": [{"key": "note", "name": "Note the order", "action": "builtin.set",
                   "input": {"values": {"thanked": True}}}],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    start_worker(beat=True)

    # 1. The trigger card: Klaviyo polling, new events of the metric Placed Order.
    page.goto(f"/workflows/{workflow.pk}/")
    page.get_by_label("Trigger type").select_option(label="Klaviyo polling")
    card = page.locator("#trigger")
    expect(card.get_by_label("Watch for")).to_be_visible()
    expect(card.get_by_label("Connection")).to_have_value(CONNECTION)
    # Another source and back (each re-renders the card; what is chosen after still saves).
    card.get_by_label("Watch for").select_option("list_member")
    expect(card.get_by_label("List")).to_be_visible()
    card.get_by_label("Watch for").select_option("metric_event")
    metric = card.get_by_label("Metric")
    expect(metric.locator("option", has_text="Placed Order").first).to_be_attached(timeout=15_000)
    metric.select_option("Placed Order")
    card.get_by_label("Check every").fill("1")
    wanted = {
        "type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
        "metric": "Placed Order", "every_minutes": 1,
    }  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # autosaved after a pause in typing
        workflow.refresh_from_db()
        if workflow.definition["trigger"] == wanted:
            break
        page.wait_for_timeout(200)
    assert workflow.definition["trigger"] == wanted
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=10_000)
    shot(1, "polling-trigger")

    # 2. Publish, then enable it from the workflows list: the trigger is armed.
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".editor-status .badge-ok")).to_have_text("Published · version 1")
    Workflow.objects.filter(pk=workflow.pk).update(enabled=False)
    page.goto("/workflows/")
    row = page.get_by_role("row").filter(has_text="Thank each buyer")
    row.get_by_role("button", name="Enable").click()
    expect(page.get_by_text("“Thank each buyer” is enabled.")).to_be_visible()
    state = TriggerState.objects.get(workflow=workflow)
    assert state.armed and state.cursor["target"]
    page.goto(f"/workflows/{workflow.pk}/")
    expect(page.locator("#trigger")).to_contain_text("Armed since")
    shot(2, "armed")

    # 3. A Placed Order event is created in the sandbox after the enable (Klaviyo's times are
    #    whole seconds), and the minute until the first poll is up.
    time.sleep(1.1)
    made = services.connection_run_action(
        connection=connection,
        key="KLAVIYO_CREATE_EVENT",
        params={"email": BUYER, "metric_name": "Placed Order", "value": 42.5,
                "properties": {"order_id": "SB-1001"}},
    )  # fmt: skip
    assert made.successful, made.error
    TriggerState.objects.filter(pk=state.pk).update(due_at=timezone.now())

    # 4. The run appears in the workflow's runs, started by Klaviyo polling, and succeeds.
    page.goto(f"/runs/?workflow={workflow.pk}")
    rows = page.get_by_test_id("run-row")
    deadline = time.monotonic() + WORKER_TIMEOUT / 1000
    while rows.count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(500)
        page.reload()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Klaviyo polling")
    run = Run.objects.get(workflow=workflow)
    page.goto(f"/runs/{run.pk}/")
    expect(page.get_by_test_id("run-status")).to_have_text("Succeeded", timeout=WORKER_TIMEOUT)
    expect(page.locator("body")).to_contain_text("SB-1001")  # the event, as trigger data
    shot(3, "run-from-the-event")
    page.goto(f"/runs/?workflow={workflow.pk}")
    expect(page.get_by_test_id("run-row")).to_have_count(1)
    shot(4, "runs-list")

    # 5. The trigger card tells what the poll found.
    page.goto(f"/workflows/{workflow.pk}/")
    expect(page.locator("#trigger")).to_contain_text(re.compile(r"1 new"))
    shot(5, "trigger-activity")
    assert Run.objects.filter(workflow=workflow).count() == 1


def test_a_re_rendered_trigger_card_answers_the_next_change_at_once(
    without_showcase, logged_in, connection, alice, alice_workspace
):
    """A change on the card re-renders it; a change made the moment the new card is in the page
    (before any timer runs) is not lost. htmx wires up swapped-in content when it settles, so
    with a settle delay a quick change to the new card would go nowhere."""
    page = logged_in
    document = {"format": "stepbuilder.workflow/1", "name": "Quick", "trigger": {"type": "manual"}}
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    page.goto(f"/workflows/{workflow.pk}/")
    # As soon as the polling card's "Watch for" arrives (a microtask after the swap), choose lists.
    page.evaluate(
        """() => new MutationObserver((changes, observer) => {
            const source = document.getElementById("trigger-source");
            if (!source) return;
            observer.disconnect();
            source.value = "list_member";
            source.dispatchEvent(new Event("change", {bubbles: true}));
        }).observe(document.body, {childList: true, subtree: true})"""
    )
    page.get_by_label("Trigger type").select_option(label="Klaviyo polling")
    card = page.locator("#trigger")
    expect(card.get_by_label("Watch for")).to_have_value("list_member")
    expect(card.get_by_label("List")).to_be_visible()
    expect(card.get_by_label("Metric")).to_have_count(0)
    workflow.refresh_from_db()
    assert workflow.definition["trigger"]["source"] == "list_member"
