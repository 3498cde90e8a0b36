"""Replays with a real worker against the sandbox over HTTP: what reaches the Klaviyo stand-in."""

from __future__ import annotations

import pytest

from builder.models import Run, StepRun
from builder.services.replays import replay_plan, run_replay
from builder.services.runs import run_start
from builder.services.workflows import workflow_publish, workflow_update
from integrations import services
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from tests.builder.test_engine_worker import CONNECTION, finished, published

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def connection(alice, alice_workspace, sandbox):
    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


def requests_seen(connection) -> int:
    return SandboxAccount.objects.get(pk=connection.sandbox_account_id).request_count


def test_a_replay_from_the_failed_step_repeats_nothing_before_it(
    alice, alice_workspace, connection, celery_worker_process
):
    steps = [
        {"key": "profile", "action": "KLAVIYO_CREATE_OR_UPDATE_PROFILE",
         "connection": CONNECTION, "input": {"email": "{{ trigger.email }}"}},
        {"key": "vips", "action": "KLAVIYO_CREATE_LIST", "connection": CONNECTION,
         "input": {"name": "Made once"}},
        {"key": "add", "action": "KLAVIYO_ADD_PROFILE_TO_LIST", "connection": CONNECTION,
         "input": {"list_id": "NoSuchList", "profile_ids": ["{{ steps.profile.data.data.id }}"]}},
    ]  # fmt: skip
    workflow = published(alice_workspace, alice, steps, email={"type": "string", "format": "email"})
    run = finished(run_start(workflow=workflow, payload={"email": "vip@example.com"}))
    assert run.status == Run.Status.FAILED
    failed = StepRun.objects.get(run=run, step_key="add")
    assert failed.status == StepRun.Status.FAILED and failed.error

    # The fix: the list the run made, then a replay from the failed step on the new version.
    steps[2]["input"]["list_id"] = "{{ steps.vips.data.data.id }}"
    workflow_update(workflow=workflow, definition={**workflow.definition, "steps": steps})
    workflow_publish(workflow=workflow, user=alice)
    workflow.refresh_from_db()
    before = requests_seen(connection)
    plan = replay_plan(run=run, start="failed_step", version="current")
    assert not plan.needs_confirmation
    replay = finished(run_replay(plan=plan))

    assert replay.status == Run.Status.SUCCEEDED, replay.error
    assert requests_seen(connection) - before == 1  # only the add
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    assert (
        SandboxResource.objects.filter(account=account, attributes__name="Made once").count() == 1
    )
    add = StepRun.objects.get(run=replay, step_key="add")
    vips = StepRun.objects.get(run=replay, step_key="vips")
    assert add.input["list_id"] == vips.output["data"]["data"]["id"]
    assert vips.state["reused_from"] == run.pk and not vips.attempts.exists()

    # From the start, on the version it ran: every step again (two more lists would be wrong).
    before = requests_seen(connection)
    again = finished(run_replay(plan=replay_plan(run=run, start="start", version="original")))
    assert again.status == Run.Status.FAILED
    assert requests_seen(connection) - before == 3
