"""Triggers end to end: a real worker (its beat in a thread, as `make run` runs it), the app and
the sandbox over real HTTP. Schedules fire, inbound webhooks run or are refused, Klaviyo
webhooks from the sandbox run once per item, polls take what is new, bursts queue whole."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from builder.models import Run, TriggerState
from builder.services.workflows import workflow_create, workflow_publish, workflow_set_enabled
from integrations import services
from integrations.klaviyo_sandbox import webhooks
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from tests.builder.test_engine_worker import finished
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

CONNECTION = "Klaviyo sandbox"
NOTE = [{"key": "note", "action": "builtin.set", "input": {"values": {"seen": True}}}]


@pytest.fixture
def connection(alice, alice_workspace, without_showcase, sandbox):
    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


@pytest.fixture
def site(live_server, settings) -> str:
    """The app's address as senders outside reach it (the live server)."""
    settings.SITE_URL = live_server.url
    return live_server.url


def enabled(workspace, user, trigger: dict, *, limit: int | None = None, name: str = "Listens"):
    document = {"format": "stepbuilder.workflow/1", "name": name, "trigger": trigger, "steps": NOTE}
    if limit:
        document["max_concurrent_runs"] = limit
    workflow, problems = workflow_create(workspace=workspace, user=user, definition=document)
    assert not [p for p in problems if p.severity == "error"], problems
    workflow_publish(workflow=workflow, user=user)
    workflow.refresh_from_db()
    synced = workflow_set_enabled(workflow=workflow, enabled=True)
    return workflow, TriggerState.objects.get(workflow=workflow), synced.new_secret


def all_finished(workflow, count: int, timeout: float = 60) -> list[Run]:
    def done():
        """the workflow's runs to finish"""
        runs = list(Run.objects.filter(workflow=workflow).order_by("pk"))
        return runs if len(runs) >= count and all(r.is_finished for r in runs) else None

    return wait_for(done, timeout=timeout, interval=0.2)


def test_a_schedule_fires_through_the_workers_beat(alice, alice_workspace, start_worker):
    workflow, state, _ = enabled(alice_workspace, alice, {"type": "schedule", "every_minutes": 1})
    # Time moved on: the slot is due (and two before it were missed while nothing ran).
    TriggerState.objects.filter(pk=state.pk).update(due_at=timezone.now() - timedelta(minutes=2))
    start_worker(beat=True)
    (run,) = all_finished(workflow, 1)
    assert run.status == Run.Status.SUCCEEDED and run.trigger_kind == Run.Trigger.SCHEDULE
    state.refresh_from_db()
    assert state.due_at > timezone.now() and state.last_found == 1
    assert Run.objects.filter(workflow=workflow).count() == 1  # once, not once per missed slot


def test_an_inbound_webhook_runs_when_signed_and_is_refused_otherwise(
    alice, alice_workspace, site, celery_worker_process, settings
):
    trigger = {"type": "webhook", "signing": "hmac-sha256"}
    workflow, state, secret = enabled(alice_workspace, alice, trigger)
    url = f"{site}/hooks/{state.token}/"
    body = json.dumps({"email": "buyer@example.com"}).encode()
    good = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(url, data=body, headers={"X-Signature-SHA256": good}, timeout=10)
    assert answer.status_code == 202, answer.text
    run = finished(Run.objects.get(pk=answer.json()["id"]))
    assert run.status == Run.Status.SUCCEEDED
    assert run.trigger_payload["body"] == {"email": "buyer@example.com"}
    forged = requests.post(url, data=body, headers={"X-Signature-SHA256": "0" * 64}, timeout=10)
    assert forged.status_code == 401
    settings.WEBHOOK_MAX_BYTES = 64
    big = json.dumps({"note": "x" * 100}).encode()
    signed_big = hmac.new(secret.encode(), big, hashlib.sha256).hexdigest()
    too_large = requests.post(url, data=big, headers={"X-Signature-SHA256": signed_big}, timeout=10)
    assert too_large.status_code == 413
    assert Run.objects.filter(workflow=workflow).count() == 1


def test_a_sandbox_delivery_runs_once_per_item_and_its_replay_starts_nothing(
    alice, alice_workspace, connection, site, celery_worker_process, sandbox
):
    def bulk(emails: list[str]) -> None:
        result = services.connection_run_action(
            connection=connection, key="KLAVIYO_BULK_CREATE_EVENTS",
            params={"events_bulk_create": [
                {"email": email, "events": [{"metric_name": "Placed Order",
                                             "properties": {"who": email}}]}
                for email in emails]},
        )  # fmt: skip
        assert result.successful, result.error

    bulk(["first@example.com"])  # the metric, and so its topic, exists before the enable
    trigger = {"type": "klaviyo_webhook", "connection": CONNECTION,
               "topics": ["event:klaviyo.placed_order"]}  # fmt: skip
    workflow, state, _ = enabled(alice_workspace, alice, trigger)
    assert state.armed and state.external_id
    emails = ["a@example.com", "b@example.com", "c@example.com"]
    bulk(emails)
    assert webhooks.wait_for_deliveries(10)
    runs = all_finished(workflow, 3)
    assert len(runs) == 3 and all(r.status == Run.Status.SUCCEEDED for r in runs)
    who = [r.trigger_payload["data"]["attributes"]["event_properties"]["who"] for r in runs]
    assert sorted(who) == emails
    assert {r.trigger_kind for r in runs} == {Run.Trigger.KLAVIYO_WEBHOOK}

    # Klaviyo redelivers (a timeout on its side): the same items, freshly signed, start nothing.
    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    events = [
        SandboxResource.objects.get(account=account, type="event", resource_id=r.trigger_payload[
            "data"]["id"]) for r in runs
    ]  # fmt: skip
    (again,) = webhooks.deliveries_build(account=account, events=events, base_url=sandbox)
    answer = requests.post(again.url, data=again.body, headers=again.headers, timeout=10)
    assert answer.status_code == 202 and answer.json() == {"runs": [], "duplicates": 3}
    assert Run.objects.filter(workflow=workflow).count() == 3


def test_a_poll_in_the_worker_takes_only_what_came_after_the_enable(
    alice, alice_workspace, connection, start_worker
):
    def placed(email: str) -> None:
        result = services.connection_run_action(
            connection=connection, key="KLAVIYO_CREATE_EVENT",
            params={"email": email, "metric_name": "Placed Order", "properties": {"who": email}},
        )  # fmt: skip
        assert result.successful, result.error

    placed("before@example.com")
    time.sleep(1.05)  # Klaviyo's times are whole seconds
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
               "metric": "Placed Order", "every_minutes": 1}  # fmt: skip
    workflow, state, _ = enabled(alice_workspace, alice, trigger)
    for n in range(3):
        placed(f"after{n}@example.com")
    TriggerState.objects.filter(pk=state.pk).update(due_at=timezone.now())  # the minute is up
    start_worker(beat=True)
    runs = all_finished(workflow, 3)
    emails = sorted(
        r.trigger_payload["data"]["attributes"]["event_properties"]["who"] for r in runs
    )
    assert emails == ["after0@example.com", "after1@example.com", "after2@example.com"]
    assert all(r.status == Run.Status.SUCCEEDED for r in runs)
    state.refresh_from_db()
    assert state.due_at > timezone.now() + timedelta(seconds=30)


def test_a_burst_of_1000_items_queues_1000_runs_within_the_concurrency_limit(
    alice, alice_workspace, connection, start_worker
):
    from tests.builder.test_klaviyo_triggers import item, signed

    trigger = {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": ["event:x"]}
    document = {"format": "stepbuilder.workflow/1", "name": "Burst", "trigger": trigger,
                "steps": NOTE, "max_concurrent_runs": 5}  # fmt: skip
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    workflow_publish(workflow=workflow, user=alice)
    workflow.refresh_from_db()
    workflow.enabled = True
    workflow.save()
    # Armed as Klaviyo would have it registered (no account needed for the intake).
    state, _ = TriggerState.objects.update_or_create(workflow=workflow, defaults={
        "type": "klaviyo_webhook", "armed": True, "armed_at": timezone.now(),
        "external_id": "01BURSTWEBHOOK", "secret": {"klaviyo": "burst-secret-0123456789"},
    })  # fmt: skip
    client = Client()
    for batch in range(10):  # ten deliveries of 100 items, as Klaviyo batches them
        items = [item(f"EV{batch}-{n}") for n in range(100)]
        answer = client.post(f"/hooks/klaviyo/{state.token}/", **signed(state, items))
        assert answer.status_code == 202 and len(answer.json()["runs"]) == 100
    assert Run.objects.filter(workflow=workflow, status=Run.Status.QUEUED).count() == 1000
    start_worker(concurrency=8, pool="threads")
    most = 0

    def drained():
        """150 runs to finish (benchmarks/bench_triggers.py drains all 1,000), never more than 5
        running at once"""
        nonlocal most
        running = Run.objects.filter(workflow=workflow, status=Run.Status.RUNNING).count()
        most = max(most, running)
        return Run.objects.filter(workflow=workflow, status=Run.Status.SUCCEEDED).count() >= 150

    wait_for(drained, timeout=120, interval=0.05)
    assert 1 <= most <= 5
    assert not Run.objects.filter(workflow=workflow, status=Run.Status.FAILED).exists()
    # Oldest first: the runs finished are the earliest items.
    done = Run.objects.filter(workflow=workflow, status=Run.Status.SUCCEEDED).order_by("pk")
    first = [r.trigger_payload["data"]["id"] for r in done[:10]]
    assert first[:3] == ["EV0-0", "EV0-1", "EV0-2"]
