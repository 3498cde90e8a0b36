"""Klaviyo triggers against the sandbox over HTTP: webhooks registered, deliveries verified,
polls that take only what is new, once each, through every page; and schedules' fires."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from builder.models import Run, TriggerEvent, TriggerState
from builder.services.workflows import workflow_create, workflow_publish, workflow_set_enabled
from builder.triggers import polling
from builder.triggers.klaviyo import NO_WEBHOOK_ACCESS
from builder.triggers.services import TriggerArmError, triggers_due
from integrations import services
from integrations.klaviyo.actions import ActionResult
from integrations.klaviyo.errors import KlaviyoError
from integrations.klaviyo_sandbox.models import SandboxResource
from tests.builder.test_webhooks import Api

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTION = "Klaviyo sandbox"
NOTE = [{"key": "note", "action": "builtin.set", "input": {"values": {"seen": True}}}]


@pytest.fixture
def connection(alice, alice_workspace, without_showcase, sandbox):
    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


def enabled(workspace, user, trigger: dict, name: str = "Listens") -> tuple:
    document = {"format": "stepbuilder.workflow/1", "name": name, "trigger": trigger, "steps": NOTE}
    workflow, problems = workflow_create(workspace=workspace, user=user, definition=document)
    assert not [p for p in problems if p.severity == "error"], problems
    workflow_publish(workflow=workflow, user=user)
    workflow.refresh_from_db()
    workflow_set_enabled(workflow=workflow, enabled=True)
    return workflow, TriggerState.objects.get(workflow=workflow)


def event(connection, email: str, metric: str = "Placed Order", **properties) -> None:
    result = services.connection_run_action(
        connection=connection,
        key="KLAVIYO_CREATE_EVENT",
        params={"email": email, "metric_name": metric, "properties": properties or {"n": 1}},
    )
    assert result.successful, result.error


def runs_of(workflow) -> list[Run]:
    return list(Run.objects.filter(workflow=workflow).order_by("pk"))


# --- Klaviyo webhooks ---------------------------------------------------------------------------

TOPIC = "event:klaviyo.placed_order"


@pytest.fixture
def hooked(alice, alice_workspace, connection):
    event(connection, "first@example.com")  # the metric (and so its topic) exists
    trigger = {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": [TOPIC]}
    return enabled(alice_workspace, alice, trigger)


def signed(state: TriggerState, items: list, *, at: datetime | None = None, **changes) -> dict:
    """A delivery as Klaviyo sends it, signed with the state's secret; `changes` spoil it."""
    document = {
        "data": items,
        "meta": {"klaviyo_account_id": "PUB", "klaviyo_webhook_id": state.external_id,
                 "timestamp": (at or datetime.now(UTC)).isoformat()},
    }  # fmt: skip
    document["meta"].update(changes.pop("meta", {}))
    body = json.dumps(document).encode()
    stamp = format_datetime(at or datetime.now(UTC), usegmt=True)
    secret = changes.pop("secret", state.secret["klaviyo"])
    headers = {
        "HTTP_KLAVIYO_WEBHOOK_ID": changes.pop("webhook_id", state.external_id),
        "HTTP_KLAVIYO_TIMESTAMP": stamp,
        "HTTP_KLAVIYO_SIGNATURE": hmac.new(
            secret.encode(), body + stamp.encode(), hashlib.sha256
        ).hexdigest(),
    }
    return {"data": body, "content_type": "application/json", **headers}


def item(event_id: str, email: str = "buyer@example.com") -> dict:
    payload = {
        "data": {
            "type": "event",
            "id": event_id,
            "attributes": {
                "datetime": "2026-12-02T10:00:00+00:00",
                "event_properties": {"email": email},
            },
        }
    }
    return {"topic": TOPIC, "external_id": event_id, "payload": payload}  # fmt: skip


def test_enabling_registers_the_webhook_in_klaviyo_and_disabling_removes_it(hooked):
    workflow, state = hooked
    assert state.armed and state.external_id and len(state.secret["klaviyo"]) >= 16
    webhook = SandboxResource.objects.get(type="webhook", resource_id=state.external_id)
    assert webhook.attributes["endpoint_url"].endswith(f"/hooks/klaviyo/{state.token}/")
    assert webhook.internal["secret_key"] == state.secret["klaviyo"]
    shown = Api(workflow.workspace).get(f"/workflows/{workflow.pk}").json()["trigger"]
    assert shown["armed"] and shown["klaviyo_webhook_id"] == state.external_id
    assert shown["url"] == webhook.attributes["endpoint_url"]
    assert state.secret["klaviyo"] not in json.dumps(shown)

    workflow_set_enabled(workflow=workflow, enabled=False)
    state.refresh_from_db()
    assert not state.armed and not state.external_id and "klaviyo" not in state.secret
    assert not SandboxResource.objects.filter(type="webhook", resource_id=webhook.resource_id)


def test_a_delivery_runs_once_per_item_and_a_redelivery_starts_nothing(hooked):
    workflow, state = hooked
    url = f"/hooks/klaviyo/{state.token}/"
    delivery = signed(state, [item("EV1"), item("EV2", "two@example.com")])
    answer = Client().post(url, **delivery)
    assert answer.status_code == 202, answer.json()
    assert len(answer.json()["runs"]) == 2 and answer.json()["duplicates"] == 0
    runs = runs_of(workflow)
    assert [r.trigger_kind for r in runs] == [Run.Trigger.KLAVIYO_WEBHOOK] * 2
    assert runs[1].trigger_payload["data"]["attributes"]["event_properties"]["email"] == (
        "two@example.com"
    )
    again = Client().post(url, **signed(state, [item("EV1"), item("EV2")]))
    assert again.status_code == 202 and again.json() == {"runs": [], "duplicates": 2}
    assert len(runs_of(workflow)) == 2
    recent = TriggerEvent.objects.filter(workflow=workflow, kind="delivery").first()
    assert recent.accepted and "2 delivered before" in recent.detail


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        ({"at": datetime.now(UTC) - timedelta(minutes=6)}, "away from now"),
        ({"webhook_id": "01OTHERWEBHOOK"}, "not the webhook registered"),
        ({"meta": {"klaviyo_webhook_id": "01OTHERWEBHOOK"}}, "does not match the Klaviyo-Webhook"),
        ({"secret": "a-forged-secret-0123456789"}, "Klaviyo-Signature does not match"),
    ],
)
def test_forged_stale_or_misdirected_deliveries_are_refused(hooked, spoil, why):
    workflow, state = hooked
    answer = Client().post(f"/hooks/klaviyo/{state.token}/", **signed(state, [item("E")], **spoil))
    assert answer.status_code == 401 and why in answer.json()["detail"]
    assert not runs_of(workflow)
    refused = TriggerEvent.objects.get(workflow=workflow, kind="delivery")
    assert not refused.accepted and why in refused.detail


def test_bad_deliveries_get_clear_answers(hooked, settings):
    workflow, state = hooked
    url = f"/hooks/klaviyo/{state.token}/"
    assert Client().post(url, data=b"{}", content_type="application/json").status_code == 401
    not_json = signed(state, [])
    not_json["data"] = b"{not json"
    stamp = not_json["HTTP_KLAVIYO_TIMESTAMP"]
    not_json["HTTP_KLAVIYO_SIGNATURE"] = hmac.new(
        state.secret["klaviyo"].encode(), b"{not json" + stamp.encode(), hashlib.sha256
    ).hexdigest()
    answer = Client().post(url, **not_json)
    assert answer.status_code == 400 and "not JSON" in answer.json()["detail"]
    settings.WEBHOOK_MAX_BYTES = 100
    assert Client().post(url, **signed(state, [item("BIG" * 50)])).status_code == 413
    assert Client().post("/hooks/klaviyo/unknown/", **signed(state, [])).status_code == 404
    workflow_set_enabled(workflow=workflow, enabled=False)
    assert Client().post(url, **signed(state, [item("X")])).status_code == 404


def test_an_account_without_webhook_access_is_told_to_poll(
    alice, alice_workspace, connection, monkeypatch
):
    def refused(**kwargs):
        return ActionResult.failed(KlaviyoError("Forbidden", status=403, code="permission_denied"))

    monkeypatch.setattr("builder.triggers.klaviyo._create_webhook", lambda *a: refused())
    trigger = {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": [TOPIC]}
    with pytest.raises(TriggerArmError) as error:
        enabled(alice_workspace, alice, trigger)
    assert NO_WEBHOOK_ACCESS in str(error.value)
    state = TriggerState.objects.get(workflow__name="Listens")
    assert not state.armed and "polling" in state.last_error


def test_a_connection_gone_since_publishing_refuses_arming_with_a_reason(
    alice, alice_workspace, connection
):
    trigger = {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": [TOPIC]}
    document = {"format": "stepbuilder.workflow/1", "name": "Gone", "trigger": trigger,
                "steps": NOTE}  # fmt: skip
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    workflow.enabled = False
    workflow.save()
    workflow_publish(workflow=workflow, user=alice)
    connection.name = "Renamed"
    connection.save()
    with pytest.raises(TriggerArmError, match=f"no connection named “{CONNECTION}”"):
        workflow_set_enabled(workflow=workflow, enabled=True)


# --- polling ------------------------------------------------------------------------------------


def poll_now(state: TriggerState, **kwargs) -> polling.Polled:
    state = TriggerState.objects.select_related("workflow").get(pk=state.pk)
    return polling.poll(state, **kwargs)


def test_polling_takes_only_events_after_enable_each_once_through_every_page(
    alice, alice_workspace, connection, settings
):
    event(connection, "before@example.com")  # before the enable: never a run
    time.sleep(1.05)  # Klaviyo's times are whole seconds: the cursor's second is taken whole
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
               "metric": "placed order", "every_minutes": 1}  # fmt: skip
    workflow, state = enabled(alice_workspace, alice, trigger)
    assert state.armed and state.cursor["target"] and state.due_at > state.armed_at
    event(connection, "other@example.com", metric="Viewed Product")  # another metric
    settings.TRIGGER_POLL_PAGE_SIZE = 2
    for n in range(5):
        event(connection, f"buyer{n}@example.com", order=n)
    polled = poll_now(state)
    assert (polled.found, polled.started, polled.more) == (5, 5, False)
    assert polled.requests == 3  # pages of 2, 2 and 1
    emails = [
        r.trigger_payload["data"]["attributes"]["event_properties"]["order"]
        for r in runs_of(workflow)
    ]
    assert emails == [0, 1, 2, 3, 4]  # oldest first
    assert poll_now(state).started == 0  # nothing twice
    event(connection, "late@example.com")
    assert poll_now(state).started == 1
    assert len(runs_of(workflow)) == 6
    note = TriggerEvent.objects.filter(workflow=workflow, kind="poll").first()
    assert note.accepted and note.detail.startswith("1 new")
    shown = Api(workflow.workspace).get(f"/workflows/{workflow.pk}").json()["trigger"]
    assert shown["last_found"] == 1 and shown["next_at"]


def test_the_cap_leaves_the_rest_for_the_next_poll_at_once(
    alice, alice_workspace, connection, settings
):
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
               "metric": "Placed Order"}  # fmt: skip
    event(connection, "metric@example.com")
    time.sleep(1.05)
    workflow, state = enabled(alice_workspace, alice, trigger)
    for n in range(5):
        event(connection, f"b{n}@example.com")
    settings.TRIGGER_POLL_MAX_ITEMS = 3
    first = poll_now(state)
    state.refresh_from_db()
    assert (first.started, first.more) == (3, True)
    assert state.due_at <= datetime.now(UTC)  # the rest is taken at the next tick
    assert poll_now(state).started == 2
    assert len(runs_of(workflow)) == 5


def test_a_poll_skips_its_round_when_the_rate_limit_is_spent(
    alice, alice_workspace, connection, monkeypatch
):
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "new_profile"}
    workflow, state = enabled(alice_workspace, alice, trigger)
    cursor = dict(state.cursor)

    def limited(**kwargs):
        assert kwargs["block_on_rate_limit"] is False
        return ActionResult.failed(KlaviyoError("busy", code="rate_limited_locally"))

    monkeypatch.setattr(polling, "connection_run_action", limited)
    polled = poll_now(state)
    state.refresh_from_db()
    assert polled.skipped and state.cursor == cursor and state.due_at > datetime.now(UTC)
    assert "Skipped" in TriggerEvent.objects.filter(workflow=workflow).first().detail


def test_new_profiles_and_list_members_are_polled(alice, alice_workspace, connection):
    made = services.connection_run_action(
        connection=connection, key="KLAVIYO_CREATE_LIST", params={"name": "Polled VIPs"}
    )
    list_id = made.data["data"]["id"]
    members, _ = enabled(
        alice_workspace, alice,
        {"type": "klaviyo_poll", "connection": CONNECTION, "source": "list_member",
         "list": "Polled VIPs"}, name="Members",
    )  # fmt: skip
    profiles, _ = enabled(
        alice_workspace, alice,
        {"type": "klaviyo_poll", "connection": CONNECTION, "source": "new_profile"}, name="New",
    )  # fmt: skip
    created = services.connection_run_action(
        connection=connection, key="KLAVIYO_CREATE_PROFILE", params={"email": "fresh@example.com"}
    )
    profile_id = created.data["data"]["id"]
    added = services.connection_run_action(
        connection=connection,
        key="KLAVIYO_ADD_PROFILE_TO_LIST",
        params={"list_id": list_id, "profile_ids": [profile_id]},
    )
    assert added.successful, added.error
    for workflow in (members, profiles):
        assert poll_now(TriggerState.objects.get(workflow=workflow)).started == 1
        (run,) = runs_of(workflow)
        assert run.trigger_payload["data"]["id"] == profile_id


def test_an_unknown_metric_refuses_arming(alice, alice_workspace, connection):
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
               "metric": "Never Happened"}  # fmt: skip
    with pytest.raises(TriggerArmError, match="no metric “Never Happened”"):
        enabled(alice_workspace, alice, trigger)


# --- schedules ----------------------------------------------------------------------------------


def test_a_schedule_fires_once_on_return_however_many_slots_it_missed(alice, alice_workspace):
    trigger = {"type": "schedule", "every_minutes": 15, "timezone": "Europe/Berlin"}
    workflow, state = enabled(alice_workspace, alice, trigger)
    now = datetime.now(UTC)
    TriggerState.objects.filter(pk=state.pk).update(due_at=now - timedelta(minutes=47))
    assert triggers_due(now) == 1
    (run,) = runs_of(workflow)
    assert run.trigger_kind == Run.Trigger.SCHEDULE
    fired = datetime.fromisoformat(run.trigger_payload["scheduled_at"])
    assert fired.utcoffset() == ZoneInfo("Europe/Berlin").utcoffset(now.replace(tzinfo=None))
    assert timedelta(0) <= now - fired < timedelta(minutes=15)  # the latest missed slot
    state.refresh_from_db()
    assert now < state.due_at <= now + timedelta(minutes=15)
    assert triggers_due(now) == 0  # claimed: nothing twice
    note = TriggerEvent.objects.get(workflow=workflow, kind="fire")
    assert "3 earlier slot(s) missed" in note.detail and note.run_id == run.pk


def test_a_cron_schedule_is_due_at_its_next_slot_in_its_zone(alice, alice_workspace):
    trigger = {"type": "schedule", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"}
    _, state = enabled(alice_workspace, alice, trigger)
    local = state.due_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (0, 9, 0)
    assert timedelta(0) < state.due_at - datetime.now(UTC) <= timedelta(days=7)


# --- the web server's batched intake ------------------------------------------------------------


@pytest.fixture
def batched(monkeypatch):
    """Runs written by the run writer, as under gunicorn (builder/wsgi.py)."""
    from builder.services.runs import writer

    monkeypatch.setattr(writer, "on", True)
    yield writer
    writer.release()  # its connection would keep the test database from being dropped


def test_deliveries_from_many_threads_are_stored_in_batches_each_with_its_run(
    alice, alice_workspace, batched
):
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    trigger = {"type": "webhook", "signing": "none"}
    workflow, state = enabled(alice_workspace, alice, trigger)

    def deliver(n: int) -> int:
        try:
            answer = Client().post(
                f"/hooks/{state.token}/", data={"n": n}, content_type="application/json"
            )
            assert answer.status_code == 202, answer.content
            return answer.json()["id"]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(deliver, range(80)))
    runs = {run.pk: run for run in runs_of(workflow)}
    assert sorted(ids) == sorted(runs) and len(runs) == 80
    assert sorted(run.trigger_payload["body"]["n"] for run in runs.values()) == list(range(80))
    assert all(run.status == Run.Status.QUEUED for run in runs.values())


def test_a_delivery_the_database_cannot_take_gets_503_and_leaves_nothing(
    alice, alice_workspace, batched, monkeypatch
):
    from django.db import OperationalError

    trigger = {"type": "webhook", "signing": "none"}
    workflow, state = enabled(alice_workspace, alice, trigger)

    def locked(runs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(batched, "_store", locked)
    answer = Client().post(f"/hooks/{state.token}/", data={}, content_type="application/json")
    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert "send it again" in answer.json()["detail"]
    assert not runs_of(workflow)


def test_one_broken_trigger_does_not_stop_the_others_due(alice, alice_workspace, monkeypatch):
    from builder.triggers import services as trigger_services

    first, broken_state = enabled(alice_workspace, alice, {"type": "schedule", "every_minutes": 5},
                                  name="Broken")  # fmt: skip
    second, state = enabled(alice_workspace, alice, {"type": "schedule", "every_minutes": 5},
                            name="Fine")  # fmt: skip
    now = datetime.now(UTC)
    TriggerState.objects.filter(pk__in=[broken_state.pk, state.pk]).update(due_at=now)
    real = trigger_services.due_fire

    def fire(due, at):
        if due.pk == broken_state.pk:
            raise RuntimeError("boom")
        return real(due, at)

    monkeypatch.setattr(trigger_services, "due_fire", fire)
    assert triggers_due(now + timedelta(seconds=1)) == 1
    assert len(runs_of(second)) == 1 and not runs_of(first)
    broken_state.refresh_from_db()
    assert broken_state.due_at > now and "could not run: boom" in broken_state.last_error
