"""Building a workflow in the editor (issue #12): trigger, two steps, a problem fixed, a test,
publish and a real run through the worker against the sandbox.

Every stage leaves a screenshot in artifacts/screenshots/editor-NN-<stage>.png (and a copy in
/tmp/shots/ for review).
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from builder.models import Run, StepRun, Workflow
from builder.services.workflows import workflow_create
from integrations.klaviyo_sandbox.models import SandboxLink, SandboxResource
from tests.e2e.conftest import CONNECTION, SCREENSHOTS

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

COPIES = Path(tempfile.gettempdir()) / "shots"  # /tmp/shots: copies for review
WORKER_TIMEOUT = 45_000  # ms: a test step or a run goes through the real worker


@pytest.fixture
def shot(page):
    """Return shot(number, stage, full_page=True): a screenshot in artifacts/screenshots/ (as the
    screenshot fixture takes them).

    caret="initial": hiding the caret (Playwright's default) leaves style="" on every input,
    and htmx's settle copies that attribute onto the inputs of a swapped card with
    setAttribute, which the Content-Security-Policy reports as a blocked inline style.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(number: int, stage: str, *, full_page: bool = True) -> Path:
        name = f"editor-{number:02d}-{stage}"
        path = SCREENSHOTS / f"{name}.png"
        if full_page:  # from the top, or the sticky header lands mid-page in the picture
            page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(path), full_page=full_page, caret="initial")
        return path

    return take


def demo_profile_and_list(connection) -> tuple[SandboxResource, SandboxResource]:
    """Return a demo profile of the sandbox and a list it is not yet a member of."""
    account = connection.sandbox_account_id
    profiles = SandboxResource.objects.filter(account_id=account, type="profile").order_by("pk")
    lists = list(SandboxResource.objects.filter(account_id=account, type="list").order_by("pk"))
    assert profiles.exists() and lists, "the sandbox has no demo profiles or lists"
    for profile in profiles[:50]:
        member_of = set(
            SandboxLink.objects.filter(
                account_id=account, src_type="list", rel="profiles", dst_id=profile.resource_id
            ).values_list("src_id", flat=True)
        )
        for found in lists:
            if found.resource_id not in member_of and profile.attributes.get("email"):
                return profile, found
    pytest.fail("every demo profile is in every demo list")


def wait_saved(page) -> None:
    """Wait for the autosave (debounced ~1 s) to reach the server."""
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=10_000)


def test_build_test_publish_and_run_a_workflow(logged_in, shot, worker, connection):
    page = logged_in
    profile, target_list = demo_profile_and_list(connection)
    email = profile.attributes["email"]

    # 1. Signed in (the logged_in fixture); the workspace has the sandbox connection.
    # 2. The workflows page: New workflow opens the editor.
    page.goto("/workflows/")
    expect(page.get_by_test_id("no-workflows")).to_be_visible()
    shot(1, "workflows")
    page.locator(".page-head").get_by_role("button", name="New workflow").click()
    expect(page).to_have_url(re.compile(r"/workflows/\d+/$"))
    workflow = Workflow.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    expect(page.locator("section#trigger")).to_be_visible()
    shot(2, "editor-new")

    # 3. The trigger's first field: a required email address, autosaved.
    trigger = page.locator("section#trigger")
    trigger.get_by_label("Field name").first.fill("email")
    trigger.get_by_label("Field type").first.select_option(label="Email address")
    trigger.get_by_label("Required").first.check()
    wait_saved(page)
    trigger.get_by_role("button", name="Save").click()  # the no-wait path saves the same
    wait_saved(page)
    workflow.refresh_from_db()
    schema = workflow.definition["trigger"]["input_schema"]
    assert schema["properties"]["email"] == {"type": "string", "format": "email"}, schema
    assert schema.get("required") == ["email"], schema
    shot(3, "trigger")

    # 4. Add step: the picker dialog, searched and chosen by keyboard.
    page.locator(".add-end a[data-picker]", has_text="Add step").click()
    picker = page.locator("dialog#picker-dialog")
    expect(picker).to_be_visible()
    search = picker.get_by_label("Search actions")
    expect(search).to_be_focused()
    search.fill("get profiles")
    first = picker.locator(".picker-option").first
    # The results for the query have been swapped in: the exact title ranks first, active.
    expect(first).to_have_id("opt-KLAVIYO_GET_PROFILES")
    expect(first).to_have_class(re.compile(r"\bis-active\b"))
    search.press("ArrowDown")
    expect(first).not_to_have_class(re.compile(r"\bis-active\b"))
    search.press("ArrowUp")
    expect(first).to_have_class(re.compile(r"\bis-active\b"))
    expect(first).to_have_attribute("aria-selected", "true")
    expect(picker.locator('[aria-selected="true"]')).to_have_count(1)
    expect(search).to_be_focused()
    shot(4, "picker")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"\?step=get_profiles#step-get_profiles$"))
    card = page.locator('li.step-card[data-key="get_profiles"]')
    expect(card.locator("details.step-details")).to_have_attribute("open", "")

    # 5. Filter: typed text around a reference from Insert data.
    filter_input = card.locator('input[name="in/filter"]')
    filter_input.fill("")
    filter_input.press_sequentially('equals(email,"')
    wait_saved(page)
    filter_input.evaluate("el => { el.beforeInsert = true; }")  # gone once the card re-renders
    filter_field = card.locator('.field[data-pointer="/input/filter"]')
    filter_field.get_by_role("button", name="Insert data").click()
    data_dialog = page.locator("dialog#data-dialog")
    expect(data_dialog).to_be_visible()
    pick = data_dialog.locator('button[data-ref="trigger.email"]')
    expect(pick).to_be_visible()
    shot(5, "insert-data", full_page=False)  # the dialog over the card
    pick.click()
    expect(data_dialog).to_be_hidden()
    wait_saved(page)  # the card's Save button posted it and the card came back re-rendered
    page.wait_for_function(
        "() => !document.querySelector('#step-get_profiles [name=\"in/filter\"]').beforeInsert"
    )
    filter_input = page.locator('li.step-card[data-key="get_profiles"] input[name="in/filter"]')
    expect(filter_input).to_have_value('equals(email,"{{ trigger.email }}')
    # The re-rendered card keeps its badge, and the field shows what it maps.
    expect(page.locator("#badge-get_profiles")).to_have_text("Ready")
    expect(card.locator('.field[data-pointer="/input/filter"] .chip')).to_contain_text("Trigger")
    filter_input.click()
    filter_input.press("End")
    filter_input.press_sequentially('")')
    expect(filter_input).to_have_value('equals(email,"{{ trigger.email }}")')
    wait_saved(page)
    workflow.refresh_from_db()
    step = workflow.definition["steps"][0]
    assert step["input"]["filter"] == 'equals(email,"{{ trigger.email }}")', step
    assert step["connection"] == CONNECTION, step
    shot(6, "get-profiles")

    # 6. A second step at the end: Add Profile To List, mapped from the first step's output.
    page.locator(".add-end a[data-picker]", has_text="Add step").click()
    expect(picker).to_be_visible()
    search = picker.get_by_label("Search actions")
    search.fill("add profile to list")
    option = picker.get_by_role("option", name=re.compile(r"^Add Profile To List\b"))
    expect(option).to_be_visible()
    option.click()
    expect(page).to_have_url(re.compile(r"\?step=add_profile_to_list#step-add_profile_to_list$"))
    add_card = page.locator('li.step-card[data-key="add_profile_to_list"]')
    expect(add_card.locator("details.step-details")).to_have_attribute("open", "")
    ids = add_card.locator('input[name="in/profile_ids/0"]')
    ids.fill("{{ steps.get_profiles.data.data[0].id }}")
    wait_saved(page)

    # 7. The missing list shows in the header and beside its field; then it is fixed.
    problems = page.locator("#problems")
    expect(problems.locator("summary")).to_have_text(re.compile(r"^\d+ problems?$"))
    problem = problems.locator('li[data-step="add_profile_to_list"][data-pointer="/input/list_id"]')
    expect(problem).to_have_count(1)
    message = problem.get_attribute("data-message")
    assert message, "the problem has no message"
    expect(problem).to_contain_text(message)
    list_field = add_card.locator('.field[data-pointer="/input/list_id"]')
    expect(list_field.locator(".field-problem")).to_be_visible()
    expect(list_field.locator(".field-problem")).to_have_text(message)
    problems.locator("summary").click()
    shot(7, "problem")
    problems.locator("summary").click()
    list_field.locator('input[name="in/list_id"]').fill(target_list.resource_id)
    wait_saved(page)
    expect(problems.locator("summary")).to_have_text("No problems")
    expect(list_field.locator(".field-problem")).to_be_hidden()
    shot(8, "fixed")

    # 8. Test the first step with trigger data: resolved input, output and HTTP attempts.
    card = page.locator('li.step-card[data-key="get_profiles"]')
    details = card.locator("details.step-details")
    if details.get_attribute("open") is None:
        card.locator("summary.step-summary").click()
    test_form = card.locator("form.test-form")
    test_form.locator("summary", has_text="Test data").click()
    test_form.get_by_label("Email").fill(email)
    test_form.get_by_role("button", name="Test step").click()
    result = card.locator("#test-get_profiles [data-testid=test-result]")
    expect(result).to_have_attribute("data-status", "succeeded", timeout=WORKER_TIMEOUT)
    expect(result.get_by_role("heading", name="Resolved input")).to_be_visible()
    expect(result.get_by_role("heading", name="Output")).to_be_visible()
    expect(result.get_by_role("heading", name="HTTP attempts")).to_be_visible()
    expect(result.locator("pre.json").first).to_contain_text(email)
    expect(result.locator("pre.json").nth(1)).to_contain_text(profile.resource_id)
    expect(result.locator(".attempts li code").first).to_contain_text("GET")
    result.evaluate("el => el.scrollIntoView({block: 'end'})")  # below the sticky header
    shot(9, "test-step", full_page=False)

    # The editor at a phone's width and a laptop's.
    page.set_viewport_size({"width": 390, "height": 844})
    shot(10, "editor-390")
    page.evaluate("window.scrollTo(0, 0)")
    shot(11, "editor-390-screen", full_page=False)
    page.set_viewport_size({"width": 1280, "height": 800})
    shot(12, "editor-1280")

    # 9. Publish.
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status").get_by_text("Published version 1")).to_be_visible()
    expect(page.locator(".editor-status .badge-ok")).to_have_text("Published · version 1")
    shot(13, "published")

    # 10. Run now with the same email; the run goes through the worker to the end.
    page.get_by_role("link", name="Run now").click()
    expect(page).to_have_url(re.compile(rf"/workflows/{workflow.pk}/run/$"))
    page.get_by_label("Email").fill(email)
    shot(14, "run-form")
    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run = Run.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    status = page.get_by_test_id("run-status")
    deadline = time.monotonic() + 60
    while status.inner_text().strip() != "Succeeded" and time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            page.reload()
            break
        page.wait_for_timeout(1000)
        page.reload()
    run.refresh_from_db()
    errors = [(s.step_key, s.error) for s in run.steps.exclude(error="")]
    expect(status, f"run {run.pk}: {run.status} {run.error!r} {errors}").to_have_text("Succeeded")
    row = page.get_by_test_id("step-add_profile_to_list")
    expect(row).to_have_attribute("data-status", "succeeded")
    row.locator("summary").first.click()
    expect(row.get_by_test_id("step-attempts")).to_contain_text(
        f"/api/lists/{target_list.resource_id}/relationships/profiles"
    )
    shot(15, "run")

    run.refresh_from_db()
    assert run.trigger_payload == {"email": email}
    steps = {s.step_key: s for s in StepRun.objects.filter(run=run, item_index__isnull=True)}
    assert steps["get_profiles"].status == StepRun.Status.SUCCEEDED
    added = steps["add_profile_to_list"]
    assert added.status == StepRun.Status.SUCCEEDED, added.error
    assert added.input["list_id"] == target_list.resource_id
    assert added.input["profile_ids"] == [profile.resource_id]
    assert SandboxLink.objects.filter(
        account_id=connection.sandbox_account_id,
        src_type="list",
        src_id=target_list.resource_id,
        rel="profiles",
        dst_id=profile.resource_id,
    ).exists()


def test_steps_reorder_by_drag_and_by_move_buttons(logged_in, alice, alice_workspace):
    page = logged_in
    steps = [
        {"key": key, "action": "builtin.set", "input": {"values": {"n": key}}} for key in "abc"
    ]
    workflow, _ = workflow_create(
        workspace=alice_workspace, user=alice, definition={"name": "Order", "steps": steps}
    )
    page.goto(f"/workflows/{workflow.pk}/")
    cards = page.locator("li.step-card")
    expect(cards).to_have_count(3)

    # Drag c's handle above a: SortableJS reorders, the order is saved, the page reloads.
    handle = page.locator("#step-c .drag-handle").bounding_box()
    top = page.locator("#step-a").bounding_box()
    page.mouse.move(handle["x"] + 4, handle["y"] + 4)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(handle["x"] + 4, handle["y"] + (top["y"] - handle["y"]) * i / 20 - 4)
    with page.expect_navigation():  # the new order is saved, then the page reloads
        page.mouse.up()
    expect(cards.first).to_have_attribute("data-key", "c")
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == ["c", "a", "b"]

    # Move down on the first card, from its opened body.
    page.locator("#step-c summary.step-summary").click()
    page.locator("#step-c").get_by_role("button", name="Move down").click()
    expect(page).to_have_url(re.compile(r"\?step=c#step-c$"))
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == ["a", "c", "b"]
