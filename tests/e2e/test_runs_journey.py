"""Inspecting and repairing a run (issue #13): a run fails on a bad list id, its page shows the
message at its step, the runs list finds it, the user fixes the step in the editor, publishes,
replays from the failed step on the new version, and the replay succeeds without repeating the
steps before the failed one.

Every stage leaves a screenshot in artifacts/screenshots/runs-NN-<stage>.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from builder.models import Run, StepRun
from builder.services.workflows import workflow_create, workflow_publish
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxLink, SandboxResource
from tests.e2e.conftest import CONNECTION, stage_shots

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

WORKER_TIMEOUT = 45_000  # ms: a run goes through the real worker
EMAIL = "replayed.vip@example.com"


@pytest.fixture
def shot(page):
    return stage_shots(page, "runs")


def vip_workflow(workspace, user):
    """Make or update the customer's profile, then add it to a list, here one that is not there."""
    document = {
        "format": "stepbuilder.workflow/1",
        "name": "Welcome a VIP",
        "trigger": {"type": "manual", "input_schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email", "title": "Email"}}}},
        "steps": [
            {"key": "profile", "name": "Make the profile",
             "action": "KLAVIYO_CREATE_OR_UPDATE_PROFILE", "connection": CONNECTION,
             "input": {"email": "{{ trigger.email }}"}},
            {"key": "add", "name": "Add to the VIP list", "action": "KLAVIYO_ADD_PROFILE_TO_LIST",
             "connection": CONNECTION,
             "input": {"list_id": "NoSuchList",
                       "profile_ids": ["{{ steps.profile.data.data.id }}"]}},
        ],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    workflow_publish(workflow=workflow, user=user)
    return workflow


def wait_for_status(page, expected: str) -> None:
    """The run page updates itself while the run is in progress; wait for `expected`."""
    expect(page.get_by_test_id("run-status")).to_have_text(expected, timeout=WORKER_TIMEOUT)


def test_a_failed_run_is_found_fixed_and_replayed_from_its_failed_step(
    logged_in, shot, worker, connection, alice, alice_workspace
):
    page = logged_in
    workflow = vip_workflow(alice_workspace, alice)
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    target = SandboxResource.objects.filter(account=account, type="list").order_by("pk").first()
    assert target is not None, "the sandbox has no demo list"

    # 1. Run now; the run fails at its second step, and its page says so there, by itself.
    page.goto(f"/workflows/{workflow.pk}/run/")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_role("button", name="Run now").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    run = Run.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    wait_for_status(page, "Failed")
    expect(page.get_by_test_id("run-error")).to_contain_text("Add to the VIP list")
    failed_step = page.get_by_test_id("step-add")
    expect(failed_step).to_have_attribute("data-status", "failed")
    expect(failed_step.get_by_test_id("step-error")).to_contain_text("NoSuchList")
    expect(failed_step.get_by_test_id("step-attempts")).to_contain_text("/api/lists/NoSuchList")
    expect(page.get_by_test_id("step-profile")).to_have_attribute("data-status", "succeeded")
    expect(page.get_by_test_id("run-live")).not_to_have_attribute("hx-trigger", re.compile("."))
    shot(1, "failed-run")

    # 2. The runs list finds it by the customer's email, among failed runs.
    page.get_by_role("link", name="All runs").click()
    page.get_by_label("Search").fill(EMAIL)
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))
    rows = page.get_by_test_id("run-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(f"#{run.pk}")
    expect(rows.first).to_contain_text("Add to the VIP list")
    shot(2, "runs-list-search")

    # 3. Fix the list id in the editor and publish version 2.
    page.goto(f"/workflows/{workflow.pk}/?step=add#step-add")
    field = page.locator('li.step-card[data-key="add"] input[name="in/list_id"]')
    field.fill(target.resource_id)
    expect(page.locator("#save-state")).to_have_text("Saved", timeout=10_000)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".editor-status .badge-ok")).to_have_text("Published · version 2")
    shot(3, "fixed-and-published")

    # 4. Replay from the failed step on the current version.
    page.goto(f"/runs/{run.pk}/")
    form = page.get_by_test_id("replay-form")
    form.get_by_label("Start").select_option("failed_step")
    form.get_by_label("Version").select_option("current")
    shot(4, "replay-choices")
    form.get_by_role("button", name="Replay").click()
    expect(page).to_have_url(re.compile(r"/runs/\d+/$"))
    replay = Run.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    assert replay.pk != run.pk
    wait_for_status(page, "Succeeded")
    expect(page.get_by_test_id("run-replay-of")).to_contain_text(f"run {run.pk}")
    expect(page.get_by_test_id("step-profile").get_by_test_id("step-reused")).to_contain_text(
        f"run {run.pk}"
    )
    expect(page.get_by_test_id("step-add")).to_have_attribute("data-status", "succeeded")
    shot(5, "replay-succeeded")

    # 5. The original links to its replay.
    page.get_by_test_id("run-replay-of").get_by_role("link").click()
    expect(page.get_by_test_id("run-replays")).to_contain_text(f"run {replay.pk}")
    shot(6, "original-links-to-replay")

    # What reached the stand-in: the profile was made once, and it is in the list now.
    profile = StepRun.objects.get(run=run, step_key="profile")
    assert not StepRun.objects.get(run=replay, step_key="profile").attempts.exists()
    assert StepRun.objects.get(run=replay, step_key="add").attempts.count() == 1
    profile_id = profile.output["data"]["data"]["id"]
    assert SandboxLink.objects.filter(
        account=account, src_type="list", src_id=target.resource_id, rel="profiles",
        dst_id=profile_id,
    ).exists()  # fmt: skip
    assert (
        SandboxResource.objects.filter(
            account=account, type="profile", attributes__email=EMAIL
        ).count()
        == 1
    )
