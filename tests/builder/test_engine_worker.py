"""The run engine with real worker processes against the sandbox over HTTP (not eager mode)."""

from __future__ import annotations

import time

import pytest

from builder.models import Run, StepRun, Workflow
from builder.services.runs import run_start, runs_orphaned
from builder.services.workflows import workflow_create, workflow_publish
from builder.tasks import run_execute, runs_sweep
from integrations import services
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CONNECTION = "Klaviyo sandbox"


@pytest.fixture
def fast_runs(settings):
    """Heartbeats and staleness on a test's time scale, for this process and its workers."""
    settings.RUN_HEARTBEAT_SECONDS = 0.3
    settings.RUN_STALE_SECONDS = 2.0


@pytest.fixture
def connection(alice, alice_workspace, sandbox):
    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


def published(workspace, alice, steps, **trigger_properties) -> Workflow:
    document = {
        "format": "stepbuilder.workflow/1",
        "name": "Test workflow",
        "trigger": {
            "type": "manual",
            "input_schema": {"type": "object", "properties": trigger_properties},
        },
        "steps": steps,
    }
    workflow, problems = workflow_create(workspace=workspace, user=alice, definition=document)
    errors = [p for p in problems if p.severity == "error"]
    assert not errors, errors
    workflow_publish(workflow=workflow, user=alice)
    return workflow


def finished(run: Run, timeout: float = 60) -> Run:
    def done():
        """the run to finish"""
        run.refresh_from_db()
        return run.is_finished

    wait_for(done, timeout=timeout, interval=0.1)
    return run


def step(run: Run, key: str, item: int | None = None) -> StepRun:
    return StepRun.objects.get(run=run, step_key=key, item_index=item)


def test_three_steps_with_mappings_succeed_and_keep_what_they_resolved(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(
        alice_workspace, alice,
        [
            {"key": "profile", "action": "KLAVIYO_CREATE_OR_UPDATE_PROFILE",
             "connection": CONNECTION, "input": {"email": "{{ trigger.email }}"}},
            {"key": "vips", "action": "KLAVIYO_CREATE_LIST", "connection": CONNECTION,
             "input": {"name": "VIPs of run {{ run.id }}"}},
            {"key": "add", "action": "KLAVIYO_ADD_PROFILE_TO_LIST", "connection": CONNECTION,
             "input": {"list_id": "{{ steps.vips.data.data.id }}",
                       "profile_ids": ["{{ steps.profile.data.data.id }}"]}},
        ],
        email={"type": "string", "format": "email"},
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={"email": "vip@example.com"}))

    assert run.status == Run.Status.SUCCEEDED, run.error
    profile, vips, add = step(run, "profile"), step(run, "vips"), step(run, "add")
    assert profile.input == {"email": "vip@example.com"}
    assert vips.input == {"name": f"VIPs of run {run.pk}"}
    list_id = vips.output["data"]["data"]["id"]
    assert add.input == {"list_id": list_id, "profile_ids": [profile.output["data"]["data"]["id"]]}
    assert [a.method for a in add.attempts.all()] == ["POST"]
    assert add.attempts.get().http_status == 204
    assert all(s.status == StepRun.Status.SUCCEEDED for s in (profile, vips, add))


def test_for_each_runs_items_in_flight_and_run_if_skips(
    alice, alice_workspace, connection, celery_worker_process
):
    emails = [f"fan{n}@example.com" for n in range(5)]
    workflow = published(
        alice_workspace, alice,
        [
            {"key": "profiles", "action": "KLAVIYO_CREATE_OR_UPDATE_PROFILE",
             "connection": CONNECTION, "input": {"email": "{{ item }}"},
             "for_each": {"items": "{{ trigger.emails }}", "in_flight": 3}},
            {"key": "never", "action": "KLAVIYO_CREATE_LIST", "connection": CONNECTION,
             "input": {"name": "Never made"},
             "run_if": {"all": [{"left": "{{ trigger.emails | length }}", "op": "greater_than",
                                 "right": 10}]}},
        ],
        emails={"type": "array", "items": {"type": "string", "format": "email"}},
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={"emails": emails}))

    assert run.status == Run.Status.SUCCEEDED, run.error
    items = StepRun.objects.filter(run=run, step_key="profiles").order_by("item_index")
    assert [s.input["email"] for s in items] == emails
    assert all(s.status == StepRun.Status.SUCCEEDED for s in items)
    skipped = step(run, "never")
    assert skipped.status == StepRun.Status.SKIPPED
    assert "greater than" in skipped.state["skipped_because"]
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    stored = SandboxResource.objects.filter(account=account, type="profile")
    assert {p.attributes["email"] for p in stored.filter(attributes__email__in=emails)} == set(
        emails
    )
    assert not SandboxResource.objects.filter(account=account, attributes__name="Never made")


def test_on_error_continue_records_the_failure_and_goes_on(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(
        alice_workspace, alice,
        [
            {"key": "missing", "action": "KLAVIYO_GET_LIST", "connection": CONNECTION,
             "input": {"list_id": "NOSUCH"}, "on_error": "continue"},
            {"key": "after", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}},
        ],
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={}))

    assert run.status == Run.Status.SUCCEEDED, run.error
    missing = step(run, "missing")
    assert missing.status == StepRun.Status.FAILED
    assert "Klaviyo could not find it (404)" in missing.error
    assert missing.attempts.get().http_status == 404
    assert step(run, "after").status == StepRun.Status.SUCCEEDED


def test_a_failing_step_stops_the_run_with_its_message(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(
        alice_workspace, alice,
        [
            {"key": "missing", "action": "KLAVIYO_GET_LIST", "connection": CONNECTION,
             "input": {"list_id": "NOSUCH"}},
            {"key": "after", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}},
        ],
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={}))

    assert run.status == Run.Status.FAILED
    assert run.error.startswith("Step “missing” failed: Klaviyo could not find it (404)")
    assert not StepRun.objects.filter(run=run, step_key="after").exists()


def test_a_delay_frees_the_worker(alice, alice_workspace, connection, celery_worker_process):
    waiting = published(
        alice_workspace, alice,
        [{"key": "pause", "action": "builtin.delay", "input": {"seconds": 4}},
         {"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )  # fmt: skip
    quick = published(
        alice_workspace,
        alice,
        [{"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )
    slow_run = run_start(workflow=waiting, payload={})

    def waits():
        """the delayed run to wait"""
        slow_run.refresh_from_db()
        return slow_run.status == Run.Status.WAITING

    wait_for(waits, timeout=30, interval=0.1)
    assert "a delay until" in slow_run.waiting_for
    quick_run = finished(run_start(workflow=quick, payload={}), timeout=30)
    slow_run.refresh_from_db()
    assert quick_run.status == Run.Status.SUCCEEDED
    assert slow_run.status == Run.Status.WAITING  # the one-slot worker ran the other meanwhile
    finished(slow_run, timeout=30)
    assert slow_run.status == Run.Status.SUCCEEDED, slow_run.error
    assert step(slow_run, "pause").output["data"]["waited_seconds"] >= 3.5


def test_a_redelivered_task_message_does_nothing(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(
        alice_workspace, alice,
        [{"key": "vips", "action": "KLAVIYO_CREATE_LIST", "connection": CONNECTION,
          "input": {"name": "Once only"}}],
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={}))
    claims = run.claim
    run_execute.delay(run.pk)  # the same message, delivered again
    run_execute.delay(run.pk)
    time.sleep(2)
    run.refresh_from_db()
    assert run.claim == claims and run.status == Run.Status.SUCCEEDED
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    assert (
        SandboxResource.objects.filter(account=account, attributes__name="Once only").count() == 1
    )


def _slow_sandbox(connection, latency_ms: int) -> None:
    SandboxAccount.objects.filter(pk=connection.sandbox_account_id).update(latency_ms=latency_ms)


def _in_flight(run: Run, key: str) -> None:
    def sending():
        """the step to be sending its request"""
        return StepRun.objects.filter(run=run, step_key=key, status=StepRun.Status.RUNNING).exists()

    wait_for(sending, timeout=30, interval=0.05)
    time.sleep(0.3)  # the request is out, the sandbox is holding it


def test_a_read_in_flight_when_the_worker_is_killed_is_repeated(
    alice, alice_workspace, connection, fast_runs, start_worker
):
    workflow = published(
        alice_workspace, alice,
        [{"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}},
         {"key": "after", "action": "KLAVIYO_GET_LIST", "connection": CONNECTION,
          "input": {"list_id": "{{ steps.lists.data.data[0].id }}"}}],
    )  # fmt: skip
    _slow_sandbox(connection, 3000)
    worker = start_worker()
    run = run_start(workflow=workflow, payload={})
    _in_flight(run, "lists")
    worker.kill()
    _slow_sandbox(connection, 0)
    start_worker()
    time.sleep(2.5)  # the heartbeat goes stale
    assert run.pk in runs_orphaned() or Run.objects.get(pk=run.pk).status == Run.Status.QUEUED
    runs_sweep()
    finished(run)
    assert run.status == Run.Status.SUCCEEDED, run.error
    assert step(run, "lists").attempts.count() >= 1
    assert step(run, "after").status == StepRun.Status.SUCCEEDED


def test_a_create_in_flight_when_the_worker_is_killed_needs_review_and_is_not_repeated(
    alice, alice_workspace, connection, fast_runs, start_worker
):
    workflow = published(
        alice_workspace, alice,
        [{"key": "vips", "action": "KLAVIYO_CREATE_LIST", "connection": CONNECTION,
          "input": {"name": "Sent at most once"}},
         {"key": "after", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )  # fmt: skip
    _slow_sandbox(connection, 2000)
    worker = start_worker()
    run = run_start(workflow=workflow, payload={})
    _in_flight(run, "vips")
    worker.kill()
    start_worker()
    time.sleep(2.5)
    runs_sweep()
    finished(run)

    assert run.status == Run.Status.NEEDS_REVIEW
    vips = step(run, "vips")
    assert vips.status == StepRun.Status.NEEDS_REVIEW
    assert "not known whether Klaviyo received it" in vips.error
    assert not StepRun.objects.filter(run=run, step_key="after").exists()
    time.sleep(2.5)  # let the sandbox finish the request the dead worker sent
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    made = SandboxResource.objects.filter(account=account, attributes__name="Sent at most once")
    assert made.count() <= 1


def test_import_and_run_from_the_command_line(
    alice, alice_workspace, connection, celery_worker_process, tmp_path
):
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import BASE_DIR, _database_url_for_tests

    document = {
        "name": "CLI workflow",
        "trigger": {"type": "manual", "input_schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}}}},
        "steps": [{"key": "profile", "action": "KLAVIYO_CREATE_OR_UPDATE_PROFILE",
                   "connection": CONNECTION, "input": {"email": "{{ trigger.email }}"}}],
    }  # fmt: skip
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(document))
    env = {**os.environ, "DATABASE_URL": _database_url_for_tests()}

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    imported = manage("workflow_import", str(path), "--workspace", alice_workspace.name)
    assert imported.returncode == 0, imported.stderr
    workflow_id = imported.stdout.strip().splitlines()[-1]
    assert Workflow.objects.get(pk=workflow_id).name == "CLI workflow"

    bad = manage("workflow_run", workflow_id, "--input", '{"email": "nope"}', "--wait")
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["problems"][0]["field"] == "/input/email"

    ran = manage("workflow_run", workflow_id, "--input", '{"email": "cli@example.com"}', "--wait")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run = json.loads(ran.stdout.strip().splitlines()[-1])
    assert run["status"] == "succeeded"
    assert run["steps"][0]["input"] == {"email": "cli@example.com"}
    assert run["steps"][0]["attempts"][0]["status"] == 201


def test_runs_wait_for_the_shared_rate_limit_and_all_succeed(
    alice, alice_workspace, connection, settings, start_worker
):
    """The sandbox enforces Klaviyo's limits 60 times faster; so does the workers' bucket."""
    SandboxAccount.objects.filter(pk=connection.sandbox_account_id).update(
        rate_limit_mode="scaled", time_scale=60
    )
    settings.KLAVIYO_RATELIMIT_TIME_SCALE = 60
    start_worker(concurrency=4, pool="threads")
    workflow = published(
        alice_workspace, alice,
        [{"key": "webhooks", "action": "KLAVIYO_GET_WEBHOOKS", "connection": CONNECTION,
          "input": {}}],  # 1/s burst, 15/min steady: 15 per second at this scale
    )  # fmt: skip
    runs = [run_start(workflow=workflow, payload={}) for _ in range(20)]
    for run in runs:
        finished(run, timeout=240)  # 15 requests a second at best; far slower on a busy machine

    assert {run.status for run in runs} == {Run.Status.SUCCEEDED}
    steps = StepRun.objects.filter(run__in=runs)
    waits = sum(step.state.get("rate_limit_waits", 0) for step in steps)
    assert waits > 0  # the bucket ran dry and runs waited instead of sending
    for one in steps:
        # A 429 (the sandbox also counted the connection check made here) was waited out.
        statuses = [a.http_status for a in one.attempts.all()]
        assert statuses[-1] == 200 and set(statuses) <= {200, 429}, statuses


def test_await_job_polls_a_bulk_import_until_it_completes(
    alice, alice_workspace, connection, settings, celery_worker_process
):
    workflow = published(
        alice_workspace, alice,
        [{"key": "import", "action": "KLAVIYO_SPAWN_BULK_PROFILE_IMPORT_JOB",
          "connection": CONNECTION, "await_job": True,
          "input": {"profiles": [{"email": "bulk1@example.com"}, {"email": "bulk2@example.com"}]}},
         {"key": "after", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )  # fmt: skip
    run = finished(run_start(workflow=workflow, payload={}), timeout=60)

    assert run.status == Run.Status.SUCCEEDED, run.error
    imported = step(run, "import")
    assert imported.output["data"]["job"]["attributes"]["status"] == "complete"
    methods = [a.method for a in imported.attempts.all()]
    assert methods[0] == "POST" and set(methods[1:]) == {"GET"} and len(methods) >= 2
    assert imported.state["polls"] == len(methods) - 1
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    emails = {"bulk1@example.com", "bulk2@example.com"}
    stored = SandboxResource.objects.filter(
        account=account, type="profile", attributes__email__in=emails
    )
    assert stored.count() == 2


def _faulty_sandbox(connection, every_n: int, latency_ms: int = 0) -> None:
    SandboxAccount.objects.filter(pk=connection.sandbox_account_id).update(
        fault_every_n=every_n, latency_ms=latency_ms
    )


def _waiting_for(run: Run, words: str) -> None:
    def waits():
        """the run to wait (for a retry, a limit, a job)"""
        run.refresh_from_db()
        return run.status == Run.Status.WAITING and words in run.waiting_for

    wait_for(waits, timeout=60, interval=0.05)


def _one_read(**settings) -> list[dict]:
    """One GET_LISTS step with the given step settings (on_error, timeout_seconds, ...)."""
    return [{"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION,
             "input": {}, **settings}]  # fmt: skip


def test_on_error_retry_waits_between_tries_and_succeeds_once_klaviyo_answers(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(alice_workspace, alice, _one_read(on_error={"retry": 3}))
    _faulty_sandbox(connection, every_n=1)  # every request answers 503
    run = run_start(workflow=workflow, payload={})
    _waiting_for(run, "retry 1 of 3")
    _faulty_sandbox(connection, every_n=0)  # Klaviyo is back
    finished(run)

    assert run.status == Run.Status.SUCCEEDED, run.error
    lists = step(run, "lists")
    statuses = [a.http_status for a in lists.attempts.order_by("number")]
    # The client's own four tries, then the step's first retry, which got through.
    assert statuses == [503, 503, 503, 503, 200]
    assert [a.number for a in lists.attempts.order_by("number")] == [1, 2, 3, 4, 5]
    assert lists.state["retries"] == 1


def test_on_error_retry_gives_up_after_its_retries_with_the_last_message(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(alice_workspace, alice, _one_read(on_error={"retry": 1}))
    _faulty_sandbox(connection, every_n=1)
    run = finished(run_start(workflow=workflow, payload={}))

    assert run.status == Run.Status.FAILED
    lists = step(run, "lists")
    assert lists.status == StepRun.Status.FAILED
    assert lists.attempts.count() == 8  # two executions of four tries each
    assert "503" in lists.error and run.error.startswith("Step “lists” failed:")


def test_a_step_past_its_timeout_fails_saying_so(
    alice, alice_workspace, connection, celery_worker_process
):
    workflow = published(
        alice_workspace, alice, _one_read(on_error={"retry": 5}, timeout_seconds=1)
    )
    _faulty_sandbox(connection, every_n=1)
    run = finished(run_start(workflow=workflow, payload={}))

    assert run.status == Run.Status.FAILED
    lists = step(run, "lists")
    assert "did not finish within its timeout of 1 s" in lists.error
    assert lists.state["retries"] == 1  # the first retry found the time up


def test_cancel_stops_a_step_between_its_tries(
    alice, alice_workspace, connection, fast_runs, celery_worker_process
):
    from builder.services.runs import run_cancel

    workflow = published(
        alice_workspace, alice,
        [{"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}},
         {"key": "after", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )  # fmt: skip
    _faulty_sandbox(connection, every_n=1, latency_ms=1500)
    run = run_start(workflow=workflow, payload={})
    _in_flight(run, "lists")
    run_cancel(run=Run.objects.get(pk=run.pk))
    finished(run)

    assert run.status == Run.Status.CANCELED
    lists = step(run, "lists")
    assert lists.status == StepRun.Status.CANCELED
    assert lists.attempts.count() < 4  # the client's later tries were not made
    assert not StepRun.objects.filter(run=run, step_key="after").exists()


def test_one_run_at_a_time_in_the_order_they_came(alice, alice_workspace, connection, start_worker):
    start_worker(concurrency=4, pool="threads")
    workflow = published(
        alice_workspace, alice,
        [{"key": "pause", "action": "builtin.delay", "input": {"seconds": 1}},
         {"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": CONNECTION, "input": {}}],
    )  # fmt: skip
    Workflow.objects.filter(pk=workflow.pk).update(max_concurrent_runs=1)
    runs = [run_start(workflow=workflow, payload={}) for _ in range(3)]
    for run in runs:
        finished(run, timeout=90)

    assert {run.status for run in runs} == {Run.Status.SUCCEEDED}
    # Each started only once the one before it had finished, although the worker had free
    # slots while the delays waited.
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.started_at >= before.finished_at
