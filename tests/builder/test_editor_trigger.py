"""The editor's trigger card: pick any of the five trigger types, configure it, see whether it is
armed and what came in. Every change saves into the draft through the one reader, bad input is
a problem beside its field (never a 500), and the Klaviyo pickers read the sandbox over HTTP."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone

from builder.models import Membership, Run, TriggerEvent, TriggerState, Workflow
from builder.services.workflows import (
    workflow_create,
    workflow_publish,
    workflow_set_enabled,
    workflow_update,
)
from builder.triggers.klaviyo import NO_WEBHOOK_ACCESS
from builder.triggers.services import state_of
from integrations import services
from integrations.klaviyo_sandbox.models import SandboxAccount
from integrations.models import Connection
from tests.formdata import duplicate_ids, form_data, unlabelled_controls

CONNECTION = "Klaviyo sandbox"
FIELDS = {
    "type": "object",
    "required": ["email"],
    "properties": {"email": {"type": "string", "format": "email"}},
}
SCHEDULE = {"type": "schedule", "cron": "0 9 * * 1", "timezone": "Europe/Berlin"}
WEBHOOK = {"type": "webhook", "signing": "hmac-sha256", "input_schema": FIELDS,
           "headers": ["x-request-id", "x-shop"]}  # fmt: skip
KLAVIYO_WEBHOOK = {"type": "klaviyo_webhook", "connection": CONNECTION,
                   "topics": ["event:klaviyo.opened_email"]}  # fmt: skip
KLAVIYO_POLL = {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
                "metric": "Placed Order", "every_minutes": 10}  # fmt: skip
EVERY_TYPE = [SCHEDULE, WEBHOOK, KLAVIYO_WEBHOOK, KLAVIYO_POLL]


@pytest.fixture
def connection(alice, alice_workspace, without_showcase) -> Connection:
    return services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name=CONNECTION
    )


@pytest.fixture
def workflow(alice, alice_workspace, connection) -> Workflow:
    document = {
        "name": "VIP welcome",
        "trigger": {"type": "manual", "input_schema": FIELDS},
        "steps": [{"key": "pause", "action": "builtin.delay", "input": {"seconds": 5}}],
    }
    return workflow_create(workspace=alice_workspace, user=alice, definition=document)[0]


@pytest.fixture
def client(client_for, alice):
    return client_for(alice)


def with_trigger(workflow: Workflow, trigger: dict[str, Any]) -> Workflow:
    workflow_update(workflow=workflow, definition={**workflow.definition, "trigger": trigger})
    workflow.refresh_from_db()
    return workflow


def trigger_of(workflow: Workflow) -> dict[str, Any]:
    workflow.refresh_from_db()
    return workflow.definition["trigger"]


def editor_page(client, workflow: Workflow) -> str:
    response = client.get(reverse("workflow_editor", args=[workflow.pk]))
    assert response.status_code == 200
    return response.content.decode()


def post_pairs(client, url: str, pairs: list[tuple[str, str]], **headers: str):
    data = QueryDict(mutable=True)
    for name, value in pairs:
        data.appendlist(name, value)
    return client.post(
        url, data.urlencode(), content_type="application/x-www-form-urlencoded", **headers
    )


def save_settings(client, workflow: Workflow, **fields: Any):
    return client.post(
        reverse("trigger_settings", args=[workflow.pk]), fields, HTTP_HX_REQUEST="true"
    )


# --- choosing the type ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("schedule", {"type": "schedule", "every_minutes": 60, "timezone": "UTC"}),
        ("webhook", {"type": "webhook", "signing": "hmac-sha256", "input_schema": FIELDS}),
        ("klaviyo_webhook", {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": []}),
        ("klaviyo_poll", {"type": "klaviyo_poll", "connection": CONNECTION,
                          "source": "metric_event", "every_minutes": 5}),
        ("manual", {"type": "manual", "input_schema": FIELDS}),
    ],
)  # fmt: skip
def test_choosing_a_type_saves_that_trigger_with_its_defaults(client, workflow, kind, expected):
    response = client.post(
        reverse("trigger_type", args=[workflow.pk]), {"type": kind}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert trigger_of(workflow) == expected
    body = response.content.decode()
    assert 'id="trigger"' in body and "Trigger type" in body  # the card, re-rendered
    assert 'id="problems"' in body and 'hx-swap-oob="true"' in body


def test_the_input_fields_survive_switching_between_manual_and_webhook(client, workflow):
    url = reverse("trigger_type", args=[workflow.pk])
    client.post(url, {"type": "webhook"})
    assert trigger_of(workflow)["input_schema"] == FIELDS
    client.post(url, {"type": "schedule"})
    client.post(url, {"type": "manual"})
    assert trigger_of(workflow) == {
        "type": "manual",
        "input_schema": {"type": "object", "properties": {}},
    }


def test_the_type_select_lists_the_five_types_with_their_titles(client, workflow):
    body = editor_page(client, workflow)
    select = re.search(r'<select id="trigger-type" name="type".*?</select>', body, re.S).group(0)
    assert re.findall(r'value="(\w+)"', select) == [
        "manual", "schedule", "webhook", "klaviyo_webhook", "klaviyo_poll"]  # fmt: skip
    assert "Inbound webhook" in select and "Klaviyo polling" in select
    assert '<label for="trigger-type">Trigger type</label>' in body


def test_without_connections_a_klaviyo_trigger_asks_for_one(client_for, charlie, charlie_workspace):
    workflow = workflow_create(
        workspace=charlie_workspace, user=charlie, definition={"name": "Lonely"}
    )[0]
    client = client_for(charlie)
    client.post(reverse("trigger_type", args=[workflow.pk]), {"type": "klaviyo_webhook"})
    assert trigger_of(workflow) == {"type": "klaviyo_webhook", "topics": []}
    body = editor_page(client, workflow)
    assert "Choose a connection…" in body and "no Klaviyo connection yet" in body
    assert "hx-get" not in re.search(r'id="trigger-topics-box".*?>', body, re.S).group(0)


def test_a_connection_the_workspace_lacks_is_a_problem_and_is_kept(client, workflow):
    with_trigger(workflow, {**KLAVIYO_WEBHOOK, "connection": "Gone"})
    body = editor_page(client, workflow)
    assert "This workspace has no connection called “Gone”" in body
    assert '<option value="Gone" selected>Gone (not in this workspace)</option>' in body
    pairs = form_data(body, form_id="trigger-settings")
    post_pairs(client, reverse("trigger_settings", args=[workflow.pk]), pairs)
    assert trigger_of(workflow)["connection"] == "Gone"  # kept until another is chosen
    save_settings(client, workflow, type="klaviyo_webhook", connection=CONNECTION)
    assert trigger_of(workflow)["connection"] == CONNECTION


def test_an_unknown_type_is_a_problem_not_a_500(client, workflow):
    response = client.post(
        reverse("trigger_type", args=[workflow.pk]), {"type": "carrier_pigeon"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 400
    assert 'data-pointer="/trigger/type"' in response.content.decode()
    assert trigger_of(workflow)["type"] == "manual"


# --- each type's settings ----------------------------------------------------------------------


@pytest.mark.parametrize("trigger", EVERY_TYPE, ids=lambda t: t["type"])
def test_the_settings_form_as_rendered_saves_the_trigger_unchanged(client, workflow, trigger):
    with_trigger(workflow, trigger)
    before = trigger_of(workflow)
    body = editor_page(client, workflow)
    assert unlabelled_controls(body) == []
    assert duplicate_ids(body) == []
    pairs = form_data(body, form_id="trigger-settings")
    response = post_pairs(client, reverse("trigger_settings", args=[workflow.pk]), pairs)
    assert response.status_code == 302
    assert trigger_of(workflow) == before == trigger


def test_a_schedule_saves_every_n_minutes_or_a_cron_expression(client, workflow):
    with_trigger(workflow, {"type": "schedule", "every_minutes": 60, "timezone": "UTC"})
    response = save_settings(
        client, workflow, type="schedule", repeat="cron", cron=" 0  9 * * 1 ",
        timezone="Europe/Berlin",
    )  # fmt: skip
    assert response.status_code == 200
    assert trigger_of(workflow) == SCHEDULE
    save_settings(client, workflow, type="schedule", repeat="every", every_minutes="15",
                  timezone="UTC")  # fmt: skip
    assert trigger_of(workflow) == {"type": "schedule", "every_minutes": 15, "timezone": "UTC"}


def test_a_bad_cron_is_refused_beside_its_field_with_no_next_runs(client, workflow):
    with_trigger(workflow, SCHEDULE)
    response = save_settings(
        client, workflow, type="schedule", repeat="cron", cron="61 * * * *",
        timezone="Europe/Berlin",
    )  # fmt: skip
    assert response.status_code == 400
    assert response["HX-Reswap"] == "none"  # what was typed stays on screen
    body = response.content.decode()
    assert 'data-pointer="/trigger/cron"' in body  # placed beside the field by editor.js
    assert "No next runs" in body and "<time" not in body
    assert trigger_of(workflow) == SCHEDULE


def test_the_next_five_runs_of_a_schedule_are_shown_in_its_zone(client, workflow):
    with_trigger(workflow, SCHEDULE)
    body = editor_page(client, workflow)
    times = re.findall(r'<time datetime="([^"]+)" data-local title="([^"]+)">', body)
    assert len(times) == 5
    for iso, words in times:
        moment = datetime.fromisoformat(iso)
        assert moment > timezone.now()
        assert (moment.weekday(), moment.hour, moment.minute) == (0, 9, 0)
        assert re.fullmatch(r"Mon \d{1,2} \w{3} \d{4}, 09:00 Europe/Berlin", words)
    gaps = {datetime.fromisoformat(b) - datetime.fromisoformat(a)
            for (a, _), (b, _) in zip(times, times[1:], strict=False)}  # fmt: skip
    assert gaps == {timedelta(days=7)}


def test_a_saved_change_answers_with_the_new_next_runs(client, workflow):
    with_trigger(workflow, SCHEDULE)
    response = save_settings(client, workflow, type="schedule", repeat="every",
                             every_minutes="30", timezone="UTC")  # fmt: skip
    body = response.content.decode()
    assert 'id="trigger-next-runs" data-testid="next-runs" hx-swap-oob="true"' in body
    times = [datetime.fromisoformat(t) for t in re.findall(r'<time datetime="([^"]+)"', body)]
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == [timedelta(minutes=30)] * 4


def test_a_webhook_saves_its_signing_and_the_headers_to_keep(client, workflow):
    with_trigger(workflow, WEBHOOK)
    response = save_settings(client, workflow, type="webhook", signing="none",
                             headers="X-Shop, x-request-id,,  x-shop")  # fmt: skip
    assert response.status_code == 200
    assert trigger_of(workflow) == {**WEBHOOK, "signing": "none"}
    save_settings(client, workflow, type="webhook", signing="hmac-sha256", headers="")
    assert trigger_of(workflow) == {"type": "webhook", "signing": "hmac-sha256",
                                    "input_schema": FIELDS}  # fmt: skip


def test_a_klaviyo_webhook_saves_its_connection_and_topics(client, workflow):
    with_trigger(workflow, {"type": "klaviyo_webhook", "connection": CONNECTION, "topics": []})
    pairs = [
        ("type", "klaviyo_webhook"),
        ("connection", CONNECTION),
        ("topics", "event:klaviyo.opened_email"),
        ("topics", "event:klaviyo.clicked_email"),
    ]
    response = post_pairs(client, reverse("trigger_settings", args=[workflow.pk]), pairs,
                          HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert trigger_of(workflow)["topics"] == [
        "event:klaviyo.opened_email", "event:klaviyo.clicked_email"]  # fmt: skip


def test_a_poll_saves_its_source_and_what_it_watches(client, workflow):
    with_trigger(workflow, KLAVIYO_POLL)
    response = save_settings(client, workflow, type="klaviyo_poll", connection=CONNECTION,
                             source="list_member", metric="Placed Order", list="Y6nRLr",
                             every_minutes="1", _render="1")  # fmt: skip
    assert response.status_code == 200
    assert trigger_of(workflow) == {"type": "klaviyo_poll", "connection": CONNECTION,
                                    "source": "list_member", "list": "Y6nRLr",
                                    "every_minutes": 1}  # fmt: skip
    assert '<label for="trigger-list">List</label>' in response.content.decode()


def test_a_poll_whose_source_changed_asks_for_what_to_watch(client, workflow):
    with_trigger(workflow, KLAVIYO_POLL)
    response = save_settings(client, workflow, type="klaviyo_poll", connection=CONNECTION,
                             source="segment_member", metric="Placed Order",
                             every_minutes="5", _render="1")  # fmt: skip
    assert response.status_code == 200  # saved, with the problem to fix
    assert trigger_of(workflow)["source"] == "segment_member"
    assert 'data-pointer="/trigger/segment"' in response.content.decode()


@pytest.mark.parametrize(
    ("trigger", "posted", "pointer"),
    [
        (SCHEDULE, {"repeat": "every", "every_minutes": "0"}, "/trigger/every_minutes"),
        (SCHEDULE, {"repeat": "every", "every_minutes": "ten"}, "/trigger/every_minutes"),
        (SCHEDULE, {"repeat": "every", "every_minutes": "9" * 40}, "/trigger/every_minutes"),
        (SCHEDULE, {"repeat": "cron", "cron": ""}, "/trigger/cron"),
        (SCHEDULE, {"repeat": "cron", "cron": "* " * 5000}, "/trigger/cron"),
        (SCHEDULE, {"repeat": "cron", "cron": "0 9 * * 1", "timezone": "Mars/Olympus"},
         "/trigger/timezone"),
        (SCHEDULE, {"repeat": "cron", "cron": "0 9 * * 1\x00"}, "/trigger/cron"),
        (WEBHOOK, {"signing": "rot13"}, "/trigger/signing"),
        (WEBHOOK, {"headers": ", ".join(f"x-{n}" for n in range(30))}, "/trigger/headers"),
        (KLAVIYO_WEBHOOK, {"connection": "Someone else's"}, "/trigger/connection"),
        (KLAVIYO_WEBHOOK, {"connection": CONNECTION, "topics": " ".join(
            f"event:{n}" for n in range(60))}, "/trigger/topics"),
        (KLAVIYO_POLL, {"connection": CONNECTION, "source": "gossip", "every_minutes": "5"},
         "/trigger/source"),
        (KLAVIYO_POLL, {"connection": CONNECTION, "source": "metric_event", "metric": "x" * 500,
                        "every_minutes": "5"}, "/trigger/metric"),
        (KLAVIYO_POLL, {"connection": CONNECTION, "source": "new_profile",
                        "every_minutes": "100000"}, "/trigger/every_minutes"),
        (KLAVIYO_POLL, {"type": "schedule"}, "/trigger/type"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_as_problems_never_500(client, workflow, trigger, posted, pointer):
    with_trigger(workflow, trigger)
    before = trigger_of(workflow)
    response = save_settings(client, workflow, **{"type": trigger["type"], **posted})
    assert response.status_code == 400
    assert f'data-pointer="{pointer}"' in response.content.decode()
    assert trigger_of(workflow) == before
    # Without htmx, the page again with the problem.
    page = client.post(reverse("trigger_settings", args=[workflow.pk]),
                       {"type": trigger["type"], **posted})  # fmt: skip
    assert page.status_code == 400 and 'data-testid="trigger-card"' in page.content.decode()


def test_hostile_posts_to_every_trigger_view_never_answer_500(client, workflow):
    hostile = {"type": ["schedule", "webhook"], "repeat": "cron", "cron": "\x00",
               "connection": "x" * 10_000, "topics": ["\x00"] * 3, "_render": "1"}  # fmt: skip
    for kind in ("manual", *(t["type"] for t in EVERY_TYPE)):
        client.post(reverse("trigger_type", args=[workflow.pk]), {"type": kind})
        for name in ("trigger_type", "trigger_settings", "trigger_regenerate", "trigger_save"):
            url = reverse(name, args=[workflow.pk])
            assert client.post(url, hostile).status_code < 500, name
            assert client.post(url, hostile, HTTP_HX_REQUEST="true").status_code < 500, name
        choices = reverse("trigger_choices", args=[workflow.pk])
        assert client.get(choices, {"of": "../../etc"}).status_code == 404


# --- the inbound webhook's URL -----------------------------------------------------------------


def test_the_webhook_url_shows_and_regenerate_shows_the_new_secret_once(client, workflow):
    with_trigger(workflow, WEBHOOK)
    body = editor_page(client, workflow)
    token = state_of(workflow).token
    assert f"/hooks/{token}/" in re.search(r'id="trigger-url"[^>]*value="([^"]+)"', body).group(1)
    assert "Regenerate URL" in body and "The old URL and secret stop working" in body
    assert "Shown once" not in body

    response = client.post(reverse("trigger_regenerate", args=[workflow.pk]),
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    state = TriggerState.objects.get(workflow=workflow)
    assert state.token != token
    secret = state.secret["signing"]
    answer = response.content.decode()
    assert "Shown once: copy it now" in answer and secret in answer
    assert f"/hooks/{state.token}/" in answer

    again = editor_page(client, workflow)
    assert secret not in again and "Shown once" not in again
    assert "Signing secret: set" in again


def test_regenerate_without_javascript_shows_the_secret_on_the_page(client, workflow):
    with_trigger(workflow, WEBHOOK)
    response = client.post(reverse("trigger_regenerate", args=[workflow.pk]))
    assert response.status_code == 200
    assert (
        TriggerState.objects.get(workflow=workflow).secret["signing"] in response.content.decode()
    )


def test_regenerate_of_a_trigger_that_is_no_webhook_says_so(client, workflow):
    response = client.post(reverse("trigger_regenerate", args=[workflow.pk]),
                           HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 400
    assert "not an inbound webhook" in response.content.decode()


# --- Klaviyo's choices, from the sandbox over HTTP ------------------------------------------------


def requests_seen(connection: Connection) -> int:
    return SandboxAccount.objects.get(pk=connection.sandbox_account_id).request_count


def test_the_topics_load_from_the_connections_account_and_are_cached(
    sandbox, client, workflow, connection
):
    with_trigger(workflow, KLAVIYO_WEBHOOK)
    body = editor_page(client, workflow)
    choices = reverse("trigger_choices", args=[workflow.pk])
    assert f'hx-get="{choices}?of=topics"' in body  # loaded when shown, not with the page
    response = client.get(choices, {"of": "topics"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    fragment = response.content.decode()
    boxes = dict(re.findall(r'<input type="checkbox" name="topics" value="([^"]+)"( checked)?',
                            fragment))  # fmt: skip
    assert len(boxes) >= 12
    assert boxes["event:klaviyo.opened_email"] == " checked"
    assert boxes["event:klaviyo.clicked_email"] == ""
    assert unlabelled_controls(fragment) == []
    seen = requests_seen(connection)
    client.get(choices, {"of": "topics"})
    assert requests_seen(connection) == seen  # from the cache


@pytest.mark.parametrize(
    ("source", "kind", "label"),
    [("metric_event", "metric", "Placed Order"), ("list_member", "list", "VIP"),
     ("segment_member", "segment", None)],
)  # fmt: skip
def test_metrics_lists_and_segments_load_from_the_sandbox(
    sandbox, client, workflow, source, kind, label
):
    trigger = {"type": "klaviyo_poll", "connection": CONNECTION, "source": source,
               "every_minutes": 5}  # fmt: skip
    with_trigger(workflow, trigger)
    response = client.get(reverse("trigger_choices", args=[workflow.pk]), {"of": kind})
    fragment = response.content.decode()
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', fragment)
    assert len(options) > 2 and options[0][0] == ""  # "Choose a …" first
    if label:
        assert label in [text.split(" (")[0] for _, text in options]
    if kind == "metric":
        assert ("Placed Order", "Placed Order") in options  # a metric is named by its name
    assert f'<select id="trigger-{kind}" name="{kind}">' in fragment


def test_a_failed_lookup_shows_its_message_and_lets_the_value_be_typed(
    sandbox, client, workflow, alice_workspace, alice
):
    Connection.objects.create(
        workspace=alice_workspace, name="Revoked key", kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_not_a_real_key_0123456789"}, created_by=alice,
    )  # fmt: skip
    with_trigger(workflow, {**KLAVIYO_WEBHOOK, "connection": "Revoked key"})
    response = client.get(reverse("trigger_choices", args=[workflow.pk]), {"of": "topics"})
    fragment = response.content.decode()
    assert "Could not load the account's webhook topics" in fragment
    assert "Klaviyo refused the API key (401)" in fragment
    assert re.search(r'<input type="text" id="trigger-topics" name="topics" '
                     r'value="event:klaviyo.opened_email"', fragment)  # fmt: skip


def test_without_a_connection_the_lookup_asks_for_one(client, workflow):
    with_trigger(workflow, {"type": "klaviyo_poll", "source": "metric_event"})
    response = client.get(reverse("trigger_choices", args=[workflow.pk]), {"of": "metric"})
    assert "Choose a connection first" in response.content.decode()


def test_an_account_without_webhooks_is_offered_polling(client, workflow):
    with_trigger(workflow, KLAVIYO_WEBHOOK)
    TriggerState.objects.create(workflow=workflow, type="klaviyo_webhook",
                                last_error=NO_WEBHOOK_ACCESS + " (Klaviyo said: no)")  # fmt: skip
    body = editor_page(client, workflow)
    assert 'data-testid="no-webhook-access"' in body and "Switch to polling" in body
    response = client.post(reverse("trigger_type", args=[workflow.pk]),
                           {"type": "klaviyo_poll"}, HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200
    assert trigger_of(workflow) == {"type": "klaviyo_poll", "connection": CONNECTION,
                                    "source": "metric_event", "every_minutes": 5}  # fmt: skip


# --- armed or not, and what came in ------------------------------------------------------------


def test_the_status_strip_says_the_trigger_is_not_armed_until_enabled(client, workflow):
    with_trigger(workflow, SCHEDULE)
    body = editor_page(client, workflow)
    assert "Publish the workflow, then enable it, to arm this trigger." in body
    assert body.count("to arm this trigger") == 1  # said once, in the status line
    assert "Nothing has come in yet." in body


def test_a_published_but_disabled_workflow_is_told_to_enable(client, workflow):
    with_trigger(workflow, SCHEDULE)
    workflow_publish(workflow=workflow, user=None)
    workflow_set_enabled(workflow=workflow, enabled=False)
    body = editor_page(client, workflow)
    assert "Not armed" in body and "Enable the workflow to arm this trigger." in body
    assert "Publish the workflow" not in body


def test_recent_activity_lists_deliveries_and_links_accepted_ones_to_their_runs(client, workflow):
    with_trigger(workflow, WEBHOOK)
    version = workflow_publish(workflow=workflow, user=None)
    run = Run.objects.create(workspace=workflow.workspace, workflow=workflow, version=version)
    state = state_of(workflow)
    state.armed, state.armed_at, state.type = True, timezone.now(), "webhook"
    state.save()
    TriggerEvent.objects.create(workflow=workflow, kind="delivery", run=run, detail="Run queued")
    refusal = "401: The X-Signature-SHA256 signature does not match."
    TriggerEvent.objects.create(workflow=workflow, kind="delivery", accepted=False, detail=refusal)
    body = editor_page(client, workflow)
    assert "Armed since" in body and "Recent activity" in body
    assert f'href="{reverse("run_detail", args=[run.pk])}"' in body
    assert "signature does not match" in body and "Refused" in body and "Accepted" in body


def test_a_poll_says_when_it_last_looked_and_what_it_found(client, workflow):
    with_trigger(workflow, KLAVIYO_POLL)
    TriggerState.objects.create(workflow=workflow, type="klaviyo_poll", armed=True,
                                armed_at=timezone.now(), last_found=3,
                                last_event_at=timezone.now() - timedelta(minutes=2))  # fmt: skip
    body = editor_page(client, workflow)
    assert re.search(r"Last poll <time[^>]*>2\xa0minutes ago</time>: 3 new events", body)


# --- who may --------------------------------------------------------------------------------------

TRIGGER_POSTS = ["trigger_type", "trigger_settings", "trigger_regenerate", "trigger_save"]


@pytest.mark.parametrize("name", TRIGGER_POSTS)
def test_viewers_may_not_change_the_trigger(client_for, bob, alice_workspace, workflow, name):
    Membership.objects.filter(user=bob, workspace=alice_workspace).update(role="viewer")
    with_trigger(workflow, WEBHOOK)
    token = state_of(workflow).token
    client = client_for(bob, workspace=alice_workspace)
    response = client.post(reverse(name, args=[workflow.pk]),
                           {"type": "schedule", "signing": "none", "t/0/name": "x"})  # fmt: skip
    assert response.status_code == 403
    assert trigger_of(workflow) == WEBHOOK
    assert TriggerState.objects.get(workflow=workflow).token == token
    assert "You can look at this trigger but not change it." in editor_page(client, workflow)


@pytest.mark.parametrize("name", [*TRIGGER_POSTS, "trigger_choices"])
def test_another_workspaces_workflow_is_not_found(client_for, charlie, workflow, name):
    url = reverse(name, args=[workflow.pk])
    client = client_for(charlie)
    response = client.get(url, {"of": "topics"}) if name == "trigger_choices" else client.post(url)
    assert response.status_code == 404
    assert trigger_of(workflow)["type"] == "manual"


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"repeat": "cron", "cron": "0 0 30 2 *"}, "/trigger/cron"),  # valid, never comes round
        ({"repeat": "every", "every_minutes": "²"}, "/trigger/every_minutes"),  # a digit, not 0-9
    ],
)
def test_a_schedule_that_can_never_run_is_refused_not_a_500(client, workflow, fields, pointer):
    with_trigger(workflow, SCHEDULE)
    response = save_settings(client, workflow, type="schedule", timezone="UTC", **fields)
    assert response.status_code == 400
    assert f'data-pointer="{pointer}"' in response.content.decode()
    assert trigger_of(workflow) == SCHEDULE
