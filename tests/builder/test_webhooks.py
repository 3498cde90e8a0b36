"""Inbound webhooks and arming: enable/disable through the API, the URL's checks and answers."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client

from builder.models import Run, TriggerEvent, TriggerState
from builder.services.api_tokens import api_token_create
from builder.services.workflows import workflow_create, workflow_publish

pytestmark = pytest.mark.django_db

HOOK = {
    "format": "stepbuilder.workflow/1",
    "name": "Order hook",
    "trigger": {"type": "webhook", "signing": "hmac-sha256", "headers": ["X-Shop"],
                "input_schema": {"type": "object", "required": ["email"],
                                 "properties": {"email": {"type": "string", "format": "email"}}}},
    "steps": [{"key": "note", "action": "builtin.set",
               "input": {"values": {"who": "{{ trigger.body.email }}"}}}],
}  # fmt: skip


class Api:
    def __init__(self, workspace):
        self.client = Client()
        secret = api_token_create(workspace=workspace, name="tests", user=None)[1]
        self.headers = {"Authorization": f"Bearer {secret}"}

    def post(self, path, body=None):
        return self.client.post(
            f"/api/v1{path}", json.dumps(body or {}), content_type="application/json",
            headers=self.headers,
        )  # fmt: skip

    def get(self, path):
        return self.client.get(f"/api/v1{path}", headers=self.headers)


@pytest.fixture
def api(alice_workspace):
    return Api(alice_workspace)


@pytest.fixture
def hook(alice, alice_workspace, api):
    """A published webhook workflow, enabled through the API: (workflow, url path, secret)."""
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=HOOK)
    workflow_publish(workflow=workflow, user=alice)
    answer = api.post(f"/workflows/{workflow.pk}/enable").json()
    trigger = answer["trigger"]
    assert trigger["armed"] and trigger["type"] == "webhook"
    path = trigger["url"].split("://", 1)[1].split("/", 1)[1]
    return workflow, "/" + path, trigger["secret"]


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver(path, body: bytes, signature: str | None = None, **headers):
    if signature is not None:
        headers["X-Signature-SHA256"] = signature
    return Client().post(
        path + "?source=shopify", body, content_type="application/json", headers=headers
    )


def test_a_signed_delivery_starts_a_run_with_body_query_and_chosen_headers(hook):
    workflow, path, secret = hook
    body = b'{"email": "ada@example.com"}'
    answer = deliver(path, body, sign(secret, body), X_Shop="eu-1", Cookie="session=1")

    assert answer.status_code == 202, answer.content
    run = Run.objects.get(pk=answer.json()["id"])
    assert answer.json()["url"] == f"/runs/{run.pk}/"
    assert run.trigger_kind == "webhook"
    assert run.trigger_payload == {
        "body": {"email": "ada@example.com"},
        "query": {"source": "shopify"},
        "headers": {"x-shop": "eu-1"},
    }


@pytest.mark.parametrize(
    ("signature", "status"), [(None, 401), ("0" * 64, 401), ("not hex at all", 401)]
)
def test_a_missing_or_wrong_signature_is_refused(hook, signature, status):
    _, path, _ = hook
    assert deliver(path, b'{"email": "ada@example.com"}', signature).status_code == status
    assert not Run.objects.exists()
    assert TriggerEvent.objects.filter(accepted=False, detail__startswith="401").exists()


def test_bad_json_or_a_body_off_schema_is_400_too_large_413_unknown_404(hook, settings):
    workflow, path, secret = hook
    for body in (b"{not json", b'{"email": "not an email"}', b"[1, 2]"):
        answer = deliver(path, body, sign(secret, body))
        assert answer.status_code == 400, body
        assert answer.json()["detail"]
    settings.WEBHOOK_MAX_BYTES = 100
    big = json.dumps({"email": "ada@example.com", "pad": "x" * 200}).encode()
    assert deliver(path, big, sign(secret, big)).status_code == 413
    assert deliver("/hooks/nope/", b"{}", "00").status_code == 404
    assert Client().get(path).status_code == 405


def test_a_flood_is_429_and_a_disabled_workflow_404(hook, api, settings):
    workflow, path, secret = hook
    settings.WEBHOOK_MAX_PER_MINUTE = 2
    body = b'{"email": "ada@example.com"}'
    codes = [deliver(path, body, sign(secret, body)).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    answer = api.post(f"/workflows/{workflow.pk}/disable").json()
    assert answer["trigger"]["armed"] is False and "secret" not in answer["trigger"]
    assert deliver(path, body, sign(secret, body)).status_code == 404


def test_the_secret_is_shown_once_and_regenerating_changes_url_and_secret(hook, api):
    workflow, path, secret = hook
    again = api.post(f"/workflows/{workflow.pk}/enable").json()
    assert "secret" not in again["trigger"]
    assert "secret" not in json.dumps(api.get(f"/workflows/{workflow.pk}").json()["trigger"])
    fresh = api.post(f"/workflows/{workflow.pk}/webhook/regenerate").json()
    assert fresh["secret"] != secret and not fresh["url"].endswith(path)
    body = b'{"email": "ada@example.com"}'
    assert deliver(path, body, sign(secret, body)).status_code == 404
    new_path = "/" + fresh["url"].split("://", 1)[1].split("/", 1)[1]
    assert deliver(new_path, body, sign(fresh["secret"], body)).status_code == 202
    export = api.get(f"/workflows/{workflow.pk}/export").json()
    assert fresh["secret"] not in json.dumps(export) and secret not in json.dumps(export)


def test_a_schedule_arms_with_its_next_fire_and_has_no_webhook(alice, alice_workspace, api):
    document = {
        **HOOK, "name": "Weekly", "trigger": {"type": "schedule", "every_minutes": 60},
        "steps": [{"key": "note", "action": "builtin.set",
                   "input": {"values": {"at": "{{ trigger.scheduled_at }}"}}}],
    }  # fmt: skip
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    workflow_publish(workflow=workflow, user=alice)
    answer = api.post(f"/workflows/{workflow.pk}/enable")
    assert answer.status_code == 200, answer.json()
    state = TriggerState.objects.get(workflow=workflow)
    assert state.armed and state.due_at is not None
    minutes = (state.due_at - state.armed_at).total_seconds() / 60
    assert 59.9 < minutes < 60.1
    shown = api.get(f"/workflows/{workflow.pk}").json()["trigger"]
    assert shown["armed"] is True and shown["next_at"] == state.due_at.isoformat()
    assert api.post(f"/workflows/{workflow.pk}/webhook/regenerate").status_code == 409
    api.post(f"/workflows/{workflow.pk}/disable")
    state.refresh_from_db()
    assert not state.armed and state.due_at is None


def test_charlies_token_reaches_none_of_alices_workflows(hook, charlie_workspace):
    workflow, _, _ = hook
    charlie = Api(charlie_workspace)
    for action in ("enable", "disable", "webhook/regenerate"):
        assert charlie.post(f"/workflows/{workflow.pk}/{action}").status_code == 404


def test_accepted_deliveries_are_listed_with_their_runs_and_clear_the_last_error(hook):
    workflow, path, secret = hook
    assert deliver(path, b"{}", "0" * 64).status_code == 401
    assert "does not match" in TriggerState.objects.get(workflow=workflow).last_error
    body = b'{"email": "ada@example.com"}'
    run_id = deliver(path, body, sign(secret, body)).json()["id"]
    accepted, refused = TriggerEvent.objects.filter(workflow=workflow)[:2]
    assert accepted.accepted and accepted.run_id == run_id and accepted.kind == "delivery"
    assert not refused.accepted
    assert TriggerState.objects.get(workflow=workflow).last_error == ""


def test_a_draft_webhook_can_get_a_new_url_before_it_is_published(alice, alice_workspace, api):
    note = [{"key": "note", "action": "builtin.set", "input": {"values": {"n": 1}}}]
    manual = {**HOOK, "trigger": {"type": "manual"}, "steps": note}
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=manual)
    workflow_publish(workflow=workflow, user=alice)
    workflow.definition = HOOK
    workflow.save()
    answer = api.post(f"/workflows/{workflow.pk}/webhook/regenerate")
    assert answer.status_code == 200 and answer.json()["secret"]


def test_a_trigger_naming_a_missing_connection_cannot_be_published(alice, alice_workspace):
    from builder.services.workflows import WorkflowInvalid

    document = {**HOOK, "trigger": {"type": "klaviyo_webhook", "connection": "Nowhere",
                                    "topics": ["event:klaviyo.placed_order"]}}  # fmt: skip
    workflow, problems = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    assert "/trigger/connection" in [p.field for p in problems if p.severity == "error"]
    with pytest.raises(WorkflowInvalid):
        workflow_publish(workflow=workflow, user=alice)
