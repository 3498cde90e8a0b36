"""The JSON API: workflows and runs, authenticated by workspace tokens, never a 500."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

from builder.models import ApiToken, Run, Workflow
from builder.services.api_tokens import api_token_create, api_token_revoke
from builder.services.runs import run_start
from builder.services.workflows import workflow_create, workflow_publish
from integrations.models import Connection
from tests.conftest import BASE_DIR, _database_url_for_tests

pytestmark = pytest.mark.django_db

DOCUMENT = {
    "format": "stepbuilder.workflow/1",
    "name": "Welcome VIPs",
    "trigger": {
        "type": "manual",
        "input_schema": {
            "type": "object",
            "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}},
        },
    },
    "steps": [
        {"key": "find", "action": "KLAVIYO_GET_PROFILES", "connection": "Klaviyo sandbox",
         "input": {"filter": 'equals(email,"{{ trigger.email }}")'}},
        {"key": "add", "action": "KLAVIYO_ADD_PROFILE_TO_LIST", "connection": "Klaviyo sandbox",
         "run_if": {"all": [{"left": "{{ steps.find.data.data | length }}", "op": "greater_than",
                             "right": 0}]},
         "input": {"list_id": "Y6nRLr", "profile_ids": ["{{ steps.find.data.data[0].id }}"]},
         "on_error": "stop"},
    ],
}  # fmt: skip


def connection_in(workspace, name="Klaviyo sandbox") -> Connection:
    return Connection.objects.create(
        workspace=workspace, name=name, kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_test_0123456789abcdef"}, key_hint="pk_…cdef",
    )  # fmt: skip


class Api:
    """A client that speaks JSON to /api/v1 with a bearer token."""

    def __init__(self, token: str | None) -> None:
        self.client = Client(raise_request_exception=False)
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(self, method: str, path: str, body=None, raw: str | None = None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        if method == "get":
            return self.client.get(f"/api/v1{path}", headers=self.headers)
        return getattr(self.client, method)(
            f"/api/v1{path}", data=data, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api(alice_workspace) -> Api:
    connection_in(alice_workspace)
    _, secret = api_token_create(workspace=alice_workspace, name="CI", user=None)
    return Api(secret)


@pytest.fixture
def charlies_api(charlie_workspace) -> Api:
    _, secret = api_token_create(workspace=charlie_workspace, name="theirs", user=None)
    return Api(secret)


def test_create_read_replace_publish_export(api):
    created = api.call("post", "/workflows", DOCUMENT)
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["problems"] == []
    workflow_id = body["id"]

    read = api.call("get", f"/workflows/{workflow_id}").json()
    assert read["name"] == "Welcome VIPs"
    assert read["enabled"] is True
    assert read["published_version"] is None
    assert read["definition"]["steps"][1]["key"] == "add"

    changed = {**DOCUMENT, "name": "Welcome VIPs (EU)"}
    replaced = api.call("put", f"/workflows/{workflow_id}", changed)
    assert replaced.status_code == 200
    assert replaced.json()["name"] == "Welcome VIPs (EU)"

    published = api.call("post", f"/workflows/{workflow_id}/publish")
    assert published.status_code == 200
    assert published.json() == {"version": 1}
    assert api.call("post", f"/workflows/{workflow_id}/publish").json() == {"version": 2}

    exported = api.call("get", f"/workflows/{workflow_id}/export").json()
    assert exported["format"] == "stepbuilder.workflow/1"
    assert exported["steps"][0]["connection"] == "Klaviyo sandbox"
    assert "pk_test" not in json.dumps(exported)


def test_a_workflow_with_problems_is_a_draft_that_cannot_be_published(api):
    broken = json.loads(json.dumps(DOCUMENT))
    broken["steps"][1]["input"]["profile_ids"] = ["{{ steps.find.data.data[0].idd }}"]
    broken["steps"][1]["connection"] = "Nope"
    created = api.call("post", "/workflows", broken).json()
    fields = {(p["step"], p["field"]) for p in created["problems"]}
    assert ("add", "/connection") in fields
    assert any(
        p["step"] == "add" and p["field"].startswith("/input/profile_ids")
        for p in created["problems"]
    )
    refused = api.call("post", f"/workflows/{created['id']}/publish")
    assert refused.status_code == 409
    assert refused.json()["problems"]


def test_runs_start_with_valid_input_only_and_after_publishing(api, alice_workspace):
    workflow_id = api.call("post", "/workflows", DOCUMENT).json()["id"]
    assert api.call("post", f"/workflows/{workflow_id}/runs", {"input": {}}).status_code == 409
    api.call("post", f"/workflows/{workflow_id}/publish")
    bad = api.call("post", f"/workflows/{workflow_id}/runs", {"input": {"email": "bob@"}})
    assert bad.status_code == 400
    assert bad.json()["problems"][0]["field"] == "/input/email"
    started = api.call("post", f"/workflows/{workflow_id}/runs", {"input": {"email": "a@b.co"}})
    assert started.status_code == 202
    body = started.json()
    assert body["status"] == "queued"
    assert body["url"] == f"/runs/{body['id']}/"
    run = api.call("get", f"/runs/{body['id']}").json()
    assert run["status"] == "queued" and run["steps"] == []
    canceled = api.call("post", f"/runs/{body['id']}/cancel").json()
    assert canceled["status"] == "canceled"


def test_the_runs_list_is_newest_first_filtered_and_paged(api, alice_workspace):
    workflow, _ = workflow_create(workspace=alice_workspace, user=None, definition=DOCUMENT)
    workflow_publish(workflow=workflow, user=None)
    ids = [run_start(workflow=workflow, payload={"email": "a@b.co"}).pk for _ in range(5)]
    Run.objects.filter(pk=ids[0]).update(status=Run.Status.FAILED)

    first = api.call("get", f"/runs?workflow={workflow.pk}&limit=2").json()
    assert [r["id"] for r in first["results"]] == ids[::-1][:2]
    second = Api(None)
    second.headers = api.headers
    page2 = second.client.get(first["next"], headers=api.headers).json()
    assert [r["id"] for r in page2["results"]] == ids[::-1][2:4]
    failed = api.call("get", "/runs?status=failed").json()
    assert [r["id"] for r in failed["results"]] == [ids[0]]
    assert api.call("get", "/runs?status=lost").status_code == 400
    assert api.call("get", "/runs?cursor=%%%").status_code == 400


@pytest.mark.parametrize("token", [None, "sb_wrong", "not-even-a-token", "sb_🙂"])
def test_no_token_or_a_bad_one_is_401(token, alice_workspace):
    response = Api(token).call("get", "/runs")
    assert response.status_code == 401


def test_a_revoked_token_stops_working(alice_workspace):
    token, secret = api_token_create(workspace=alice_workspace, name="old", user=None)
    assert Api(secret).call("get", "/runs").status_code == 200
    api_token_revoke(token=token)
    assert Api(secret).call("get", "/runs").status_code == 401


def test_tokens_are_stored_hashed(alice_workspace):
    token, secret = api_token_create(workspace=alice_workspace, name="CI", user=None)
    row = ApiToken.objects.values().get(pk=token.pk)
    assert secret not in json.dumps(row, default=str)
    assert token.hint == secret[-4:]


def test_another_workspaces_ids_are_404(api, charlies_api, alice_workspace):
    workflow_id = api.call("post", "/workflows", DOCUMENT).json()["id"]
    api.call("post", f"/workflows/{workflow_id}/publish")
    run_id = api.call(
        "post", f"/workflows/{workflow_id}/runs", {"input": {"email": "a@b.co"}}
    ).json()["id"]
    for method, path in [
        ("get", f"/workflows/{workflow_id}"), ("put", f"/workflows/{workflow_id}"),
        ("post", f"/workflows/{workflow_id}/publish"), ("get", f"/workflows/{workflow_id}/export"),
        ("post", f"/workflows/{workflow_id}/runs"), ("get", f"/runs/{run_id}"),
        ("post", f"/runs/{run_id}/cancel"),
    ]:  # fmt: skip
        response = charlies_api.call(method, path, {"input": {}})
        assert response.status_code == 404, (method, path)
    assert charlies_api.call("get", "/runs").json()["results"] == []
    assert Workflow.objects.get(pk=workflow_id).name == "Welcome VIPs"


@pytest.mark.parametrize(
    "raw", ["{", "[1, 2", "\x00", "not json", "{" * 5000 + "}" * 5000, '"\\ud800"', ""]
)
def test_malformed_bodies_are_400_never_500(api, raw):
    response = api.call("post", "/workflows", raw=raw)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["detail"]


@pytest.mark.parametrize("document", [[], "x", 3, None, {"steps": [None, 1, {"key": 5}]}])
def test_odd_documents_are_drafts_with_problems(api, document):
    response = api.call("post", "/workflows", document if document is not None else "null")
    assert response.status_code in (201, 400)


def test_import_maps_connections_by_name_in_another_workspace(api, charlies_api, charlie_workspace):
    workflow_id = api.call("post", "/workflows", DOCUMENT).json()["id"]
    exported = api.call("get", f"/workflows/{workflow_id}/export").json()
    imported = charlies_api.call("post", "/workflows", exported).json()
    assert any(
        p["field"] == "/connection" and "no connection named 'Klaviyo sandbox'" in p["message"]
        for p in imported["problems"]
    )
    connection_in(charlie_workspace)
    again = charlies_api.call("post", "/workflows", exported).json()
    assert again["problems"] == []


def test_the_openapi_document_is_served(api):
    document = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/workflows" in document["paths"]
    assert "/api/v1/runs/{run_id}" in document["paths"]


def test_owners_create_and_revoke_tokens_on_the_settings_page(
    client_for, alice, alice_workspace, bob
):
    client = client_for(alice)
    response = client.post("/workspace/api-tokens/", {"name": "Zapier"}, follow=True)
    secret = response.context["new_token"]["secret"]
    assert secret.startswith("sb_")
    assert secret in response.content.decode()
    assert secret not in client.get("/workspace/").content.decode()  # shown once
    assert Api(secret).call("get", "/runs").status_code == 200
    token = ApiToken.objects.get(name="Zapier")
    as_bob = client_for(bob, workspace=alice_workspace)
    assert as_bob.post(f"/workspace/api-tokens/{token.pk}/revoke/").status_code == 403
    client.post(f"/workspace/api-tokens/{token.pk}/revoke/")
    assert Api(secret).call("get", "/runs").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_the_token_command_prints_the_token_alone_on_its_last_line(alice_workspace):
    done = subprocess.run(
        [sys.executable, "manage.py", "api_token_create", "--workspace", alice_workspace.name,
         "--name", "CI"],
        cwd=BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DATABASE_URL": _database_url_for_tests()},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith("sb_") and " " not in secret
