"""The workflow pages: list, new, duplicate, delete, enable, import, export, versions, restore."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from builder.models import Run, StepRun, Workflow, WorkflowVersion
from builder.services.workflows import (
    MAX_FILE_BYTES,
    version_changes,
    workflow_create,
    workflow_publish,
    workflow_update,
)
from integrations.models import Connection

API_KEY = "pk_live_do_not_leak_0123456789"
ZEBRA_KEY = "pk_live_zebra_secret_9876543210"


def document(name="Welcome VIPs", connection="Main store", **extra):
    """Return a small valid workflow: a delay and a Klaviyo read through `connection`."""
    return {
        "format": "stepbuilder.workflow/1",
        "name": name,
        "trigger": {"type": "manual"},
        "steps": [
            {"key": "pause", "action": "builtin.delay", "input": {"seconds": 5}},
            {"key": "lists", "action": "KLAVIYO_GET_LISTS", "connection": connection, "input": {}},
        ],
        **extra,
    }


@pytest.fixture
def main_store(alice, alice_workspace) -> Connection:
    return Connection.objects.create(
        workspace=alice_workspace,
        name="Main store",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": API_KEY},
        key_hint="pk_…6789",
        created_by=alice,
    )


@pytest.fixture
def make_workflow(alice, alice_workspace, main_store):
    def make(name="Welcome VIPs", **extra) -> Workflow:
        workflow, problems = workflow_create(
            workspace=alice_workspace, user=alice, definition=document(name, **extra)
        )
        assert [p for p in problems if p.severity == "error"] == []
        return workflow

    return make


@pytest.fixture
def alice_client(client_for, alice, alice_workspace):
    return client_for(alice, alice_workspace)


def run_of(workflow, version, *, status=Run.Status.SUCCEEDED, ago=timedelta(hours=1), **extra):
    return Run.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        version=version,
        status=status,
        created_at=timezone.now() - ago,
        **extra,
    )


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def upload(content: bytes | str, name="workflow.json") -> SimpleUploadedFile:
    raw = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, raw, content_type="application/json")


# --- The list ------------------------------------------------------------------------------------


def test_the_list_shows_each_workflow_with_its_status_and_runs(alice, alice_client, make_workflow):
    draft = make_workflow("Draft only")
    live = make_workflow("Live one")
    version = workflow_publish(workflow=live, user=alice)
    changed = make_workflow("Changed since")
    workflow_publish(workflow=changed, user=alice)
    workflow_update(workflow=changed, definition=document("Changed since", description="New"))
    run_of(live, version, ago=timedelta(days=8))  # too old for the week
    run_of(live, version, ago=timedelta(days=3))
    run_of(live, version, ago=timedelta(days=2), status=Run.Status.SUCCEEDED)
    last = run_of(live, version, ago=timedelta(hours=2), status=Run.Status.NEEDS_REVIEW)
    run_of(live, version, ago=timedelta(minutes=1), trigger_kind=Run.Trigger.TEST)  # a step test

    response = alice_client.get(reverse("workflow_list"))

    assert response.status_code == 200
    rows = {row.workflow.name: row for row in response.context["rows"]}
    assert list(rows) == ["Changed since", "Draft only", "Live one"]
    assert rows["Live one"].runs_last_week == 3
    assert rows["Live one"].last_run_id == last.pk
    assert rows["Live one"].last_run_label == "Needs review"
    assert not rows["Live one"].draft_changed
    assert rows["Changed since"].draft_changed
    assert rows["Draft only"].runs_last_week == 0
    assert rows["Draft only"].last_run_id is None
    page = response.content.decode()
    assert reverse("workflow_editor", args=[draft.pk]) in page
    assert "Published · version 1" in page
    assert page.count("draft has changes") == 1
    assert "badge-run-needs_review" in page
    assert "2\xa0hours ago" in page  # timesince joins with a no-break space
    assert "Never run" in page
    for name in ("New workflow", "Import", "Duplicate", "Export", "Delete", "Disable"):
        assert f">{name}<" in page


def test_the_list_takes_as_many_queries_for_many_workflows_as_for_one(
    alice, alice_client, make_workflow
):
    def queries() -> int:
        with CaptureQueriesContext(db_connection) as captured:
            assert alice_client.get(reverse("workflow_list")).status_code == 200
        return len(captured)

    first = make_workflow("First")
    run_of(first, workflow_publish(workflow=first, user=alice))
    one = queries()
    for number in range(4):
        workflow = make_workflow(f"More {number}")
        run_of(workflow, workflow_publish(workflow=workflow, user=alice))
    assert queries() == one


def test_the_list_invites_a_new_workflow_when_there_is_none(alice_client):
    page = alice_client.get(reverse("workflow_list")).content.decode()
    assert "No workflows yet" in page
    assert f'action="{reverse("workflow_new")}"' in page
    assert ">New workflow<" in page


# --- New, duplicate ------------------------------------------------------------------------------


def test_new_workflow_creates_an_untitled_draft_and_opens_the_editor(alice_client, alice_workspace):
    response = alice_client.post(reverse("workflow_new"))
    workflow = Workflow.objects.for_workspace(alice_workspace).get()
    assert response.status_code == 302
    assert response.url == reverse("workflow_editor", args=[workflow.pk])
    assert workflow.name == "Untitled workflow"
    assert workflow.definition["trigger"]["type"] == "manual"
    assert workflow.definition["steps"] == []
    assert workflow.published_version is None


def test_new_workflows_get_names_no_other_workflow_has(alice_client, alice_workspace):
    for _ in range(3):
        alice_client.post(reverse("workflow_new"))
    names = Workflow.objects.for_workspace(alice_workspace).values_list("name", flat=True)
    assert sorted(names) == ["Untitled workflow", "Untitled workflow 2", "Untitled workflow 3"]


def test_new_workflow_is_a_post(alice_client):
    assert alice_client.get(reverse("workflow_new")).status_code == 405


def test_duplicate_copies_the_draft_under_a_new_name(alice_client, alice_workspace, make_workflow):
    original = make_workflow("Welcome VIPs", description="Say hello")
    response = alice_client.post(reverse("workflow_duplicate", args=[original.pk]))
    copy = Workflow.objects.for_workspace(alice_workspace).get(name="Welcome VIPs (copy)")
    assert response.url == reverse("workflow_editor", args=[copy.pk])
    assert copy.definition["steps"] == original.definition["steps"]
    assert copy.description == "Say hello"
    assert copy.published_version is None

    alice_client.post(reverse("workflow_duplicate", args=[original.pk]))
    assert Workflow.objects.for_workspace(alice_workspace).filter(name="Welcome VIPs (copy 2)")


def test_a_copy_of_a_long_name_still_fits(alice_client, alice_workspace, make_workflow):
    original = make_workflow("x" * 200)
    alice_client.post(reverse("workflow_duplicate", args=[original.pk]))
    copy = Workflow.objects.for_workspace(alice_workspace).exclude(pk=original.pk).get()
    assert copy.name == "x" * 193 + " (copy)"


# --- Delete --------------------------------------------------------------------------------------


def test_delete_asks_first_saying_how_many_runs_go_too(alice, alice_client, make_workflow):
    workflow = make_workflow()
    version = workflow_publish(workflow=workflow, user=alice)
    for _ in range(2):
        run_of(workflow, version)
    page = alice_client.get(reverse("workflow_delete", args=[workflow.pk]))
    assert page.status_code == 200
    assert "2 runs" in page.content.decode()
    assert "1 published version" in page.content.decode()
    assert ">Delete workflow<" in page.content.decode()
    assert Workflow.objects.filter(pk=workflow.pk).exists()


def test_delete_removes_the_workflow_its_versions_and_runs(alice, alice_client, make_workflow):
    workflow = make_workflow()
    first = workflow_publish(workflow=workflow, user=alice)
    second = workflow_publish(workflow=workflow, user=alice)
    run = run_of(workflow, first, status=Run.Status.FAILED)
    StepRun.objects.create(run=run, step_key="pause", position=0)
    run_of(workflow, second, status=Run.Status.WAITING)
    other = make_workflow("Kept")

    response = alice_client.post(reverse("workflow_delete", args=[workflow.pk]))

    assert response.status_code == 302
    assert response.url == reverse("workflow_list")
    assert messages_of(response) == ["Deleted “Welcome VIPs”."]
    assert not Workflow.objects.filter(pk=workflow.pk).exists()
    assert not WorkflowVersion.objects.filter(workflow_id=workflow.pk).exists()
    assert not Run.objects.filter(workflow_id=workflow.pk).exists()
    assert not StepRun.objects.filter(run_id=run.pk).exists()
    assert Workflow.objects.filter(pk=other.pk).exists()


def test_delete_waits_for_a_running_run(alice, alice_client, make_workflow):
    workflow = make_workflow()
    run_of(workflow, workflow_publish(workflow=workflow, user=alice), status=Run.Status.RUNNING)
    page = alice_client.get(reverse("workflow_delete", args=[workflow.pk])).content.decode()
    assert "1 run is running right now" in page
    response = alice_client.post(reverse("workflow_delete", args=[workflow.pk]))
    assert response.url == reverse("workflow_delete", args=[workflow.pk])
    assert Workflow.objects.filter(pk=workflow.pk).exists()


# --- Export --------------------------------------------------------------------------------------


def test_export_downloads_the_draft_in_the_workflow_format(alice_client, make_workflow):
    workflow = make_workflow("Welcome VIPs!")
    response = alice_client.get(reverse("workflow_export", args=[workflow.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="welcome-vips.json"'
    body = response.content.decode()
    assert body.startswith('{\n  "format": "stepbuilder.workflow/1"')  # pretty-printed
    exported = json.loads(body)
    assert exported == workflow.definition
    assert exported["steps"][1]["connection"] == "Main store"


def test_an_export_carries_no_secret(alice_client, make_workflow, main_store):
    workflow = make_workflow()
    body = alice_client.get(reverse("workflow_export", args=[workflow.pk])).content.decode()
    assert API_KEY not in body
    assert "secret" not in body
    assert "api_key" not in body


def test_export_of_a_version(alice, alice_client, make_workflow):
    workflow = make_workflow()
    version = workflow_publish(workflow=workflow, user=alice)
    workflow_update(workflow=workflow, definition=document("Renamed"))
    url = reverse("workflow_export", args=[workflow.pk])
    response = alice_client.get(url, {"version": "1"})
    assert json.loads(response.content) == version.definition
    assert response["Content-Disposition"] == 'attachment; filename="renamed-v1.json"'
    for bad in ("2", "x", "-1", "9" * 30, "١"):
        assert alice_client.get(url, {"version": bad}).status_code == 404


# --- Import --------------------------------------------------------------------------------------


def preview(client, content, name="workflow.json"):
    return client.post(reverse("workflow_import"), {"file": upload(content, name)})


def test_the_import_page_asks_for_a_file(alice_client):
    page = alice_client.get(reverse("workflow_import"))
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in page.content.decode()
    assert 'type="file"' in page.content.decode()


def test_import_previews_then_creates_a_draft(alice_client, alice_workspace, main_store):
    shown = preview(alice_client, json.dumps(document("Imported")))
    assert shown.status_code == 200
    page = shown.content.decode()
    assert "Import “Imported”" in page
    assert "No problems" in page
    assert shown.context["mappings"] == []
    assert not Workflow.objects.for_workspace(alice_workspace).exists()

    response = alice_client.post(
        reverse("workflow_import"), {"document": shown.context["document"]}
    )

    workflow = Workflow.objects.for_workspace(alice_workspace).get()
    assert response.status_code == 302
    assert response.url == reverse("workflow_editor", args=[workflow.pk])
    assert workflow.name == "Imported"
    assert workflow.definition["steps"][1]["connection"] == "Main store"
    assert workflow.published_version is None
    assert messages_of(response) == ["Imported “Imported” as a draft, ready to publish."]


def test_import_maps_a_connection_the_workspace_lacks(alice_client, alice_workspace, main_store):
    shown = preview(alice_client, json.dumps(document(connection="Zebra Outlet")))
    page = shown.content.decode()
    assert "no connection named &#x27;Zebra Outlet&#x27;" in page  # the problem, listed
    assert 'name="connection__Zebra Outlet"' in page
    assert f'<option value="{main_store.pk}"' in page

    response = alice_client.post(
        reverse("workflow_import"),
        {"document": shown.context["document"], "connection__Zebra Outlet": str(main_store.pk)},
    )

    workflow = Workflow.objects.for_workspace(alice_workspace).get()
    assert response.status_code == 302
    assert workflow.definition["steps"][1]["connection"] == "Main store"
    assert messages_of(response) == ["Imported “Welcome VIPs” as a draft, ready to publish."]


def test_an_unmapped_missing_connection_is_imported_with_a_warning(
    alice_client, alice_workspace, main_store
):
    shown = preview(alice_client, json.dumps(document(connection="Zebra Outlet")))
    response = alice_client.post(
        reverse("workflow_import"),
        {"document": shown.context["document"], "connection__Zebra Outlet": ""},
    )
    workflow = Workflow.objects.for_workspace(alice_workspace).get()
    assert workflow.definition["steps"][1]["connection"] == "Zebra Outlet"
    [warning] = messages_of(response)
    assert warning.startswith("Imported “Welcome VIPs” as a draft with 1 problem to fix")
    assert "lists/connection: There is no connection named 'Zebra Outlet'" in warning


def test_import_refuses_another_workspaces_connection(
    client_for, alice_client, alice_workspace, charlie_workspace, charlie, main_store
):
    zebra = Connection.objects.create(
        workspace=charlie_workspace,
        name="Zebra Outlet",
        kind=Connection.Kind.API_KEY,
        secret={"api_key": ZEBRA_KEY},
        created_by=charlie,
    )
    shown = preview(alice_client, json.dumps(document(connection="Zebra Outlet")))
    response = alice_client.post(
        reverse("workflow_import"),
        {"document": shown.context["document"], "connection__Zebra Outlet": str(zebra.pk)},
    )
    assert response.status_code == 400
    assert "Choose one of this workspace&#x27;s connections" in response.content.decode()
    assert not Workflow.objects.for_workspace(alice_workspace).exists()


def test_the_preview_lists_the_problems_by_step_and_field(alice_client, main_store):
    broken = document()
    broken["steps"].append({"key": "Bad Key", "action": "builtin.delay", "input": {}})
    broken["steps"].append({"key": "mystery", "action": "KLAVIYO_NO_SUCH_THING", "input": {}})
    shown = preview(alice_client, json.dumps(broken))
    assert shown.status_code == 200
    problems = shown.context["problems"]
    assert ("step 3", "/key") in {(p.step, p.field) for p in problems}
    assert "mystery" in {p.step for p in problems}
    page = shown.content.decode()
    assert "<code>step 3</code>" in page
    assert "<code>/key</code>" in page


BAD_FILES = {
    "not JSON": (b"name: Welcome", "not accepted: not valid JSON"),
    "an array": (b'[{"name": "x"}]', "holds a JSON object"),
    "a NUL": (b'{"name": "a\\u0000b"}', "contains a NUL character"),
    "Infinity": (b'{"name": "x", "max_concurrent_runs": Infinity}', "Infinity is not a JSON"),
    "a lone surrogate": (b'{"name": "\\ud800"}', "lone surrogate"),
    "nested too deep": (b'{"a":' * 70 + b"1" + b"}" * 70, "nested more than 64"),
    "another format": (b'{"format": "n8n/1", "name": "x"}', "in the format “n8n/1”"),
    "empty": (b"  ", "is empty"),
    "not UTF-8": (b'{"name": "\xff"}', "not valid JSON"),
    "too large": (b'{"name": "' + b"x" * MAX_FILE_BYTES + b'"}', "larger than 2 MB"),
}


@pytest.mark.parametrize("case", BAD_FILES, ids=str)
def test_a_bad_file_is_refused_with_a_reason(alice_client, alice_workspace, case):
    content, reason = BAD_FILES[case]
    response = preview(alice_client, content)
    assert response.status_code == 400
    assert reason in response.content.decode().replace("&#x27;", "'")
    assert response.templates[0].name == "workflows/import.html"
    assert not Workflow.objects.for_workspace(alice_workspace).exists()


def test_import_without_a_file_asks_for_one(alice_client):
    response = alice_client.post(reverse("workflow_import"), {"file": "not a file"})
    assert response.status_code == 400
    assert "Choose a workflow file (.json) to import." in response.content.decode()


@pytest.mark.parametrize(
    "tampered", ['{"name": "a\\u0000b"}', "[1]", "{", "x" * 100, '{"format": "other"}']
)
def test_the_posted_document_is_read_again(alice_client, alice_workspace, tampered):
    response = alice_client.post(reverse("workflow_import"), {"document": tampered})
    assert response.status_code == 400
    assert "Choose the file again." in response.content.decode()
    assert not Workflow.objects.for_workspace(alice_workspace).exists()


# --- Versions and restore ------------------------------------------------------------------------


def test_the_versions_page_says_what_changed_in_each_version(alice, alice_client, make_workflow):
    workflow = make_workflow()
    workflow_publish(workflow=workflow, user=alice)
    second = document("Welcome VIPs again")
    second["steps"].append({"key": "wait_more", "action": "builtin.delay", "input": {"seconds": 9}})
    workflow_update(workflow=workflow, definition=second)
    workflow_publish(workflow=workflow, user=None)

    response = alice_client.get(reverse("workflow_versions", args=[workflow.pk]))

    assert response.status_code == 200
    entries = response.context["entries"]
    assert [entry["version"].number for entry in entries] == [2, 1]
    assert entries[0]["changes"] == [
        "Renamed from “Welcome VIPs” to “Welcome VIPs again”.",
        "Added step “wait_more”.",
    ]
    assert entries[1]["changes"] == ["First version, with 2 steps."]
    page = response.content.decode()
    assert "The draft is the same as version 2." in page
    assert "alice@example.com" in page
    assert "the API or a script" in page
    assert 'data-confirm="Replace the draft with version 1?"' in page
    assert f"{reverse('workflow_export', args=[workflow.pk])}?version=1" in page


def test_the_versions_page_shows_a_changed_draft(alice, alice_client, make_workflow):
    workflow = make_workflow()
    workflow_publish(workflow=workflow, user=alice)
    changed = document()
    changed["steps"][0]["input"] = {"seconds": 60}
    workflow_update(workflow=workflow, definition=changed)
    response = alice_client.get(reverse("workflow_versions", args=[workflow.pk]))
    assert response.context["draft_changed"]
    assert response.context["draft_changes"] == ["Changed step “pause”."]
    assert "The draft has changes since version 1" in response.content.decode()


def test_the_versions_page_of_an_unpublished_workflow(alice_client, make_workflow):
    workflow = make_workflow()
    page = alice_client.get(reverse("workflow_versions", args=[workflow.pk])).content.decode()
    assert "Not published yet" in page


def test_restore_puts_a_version_back_as_the_draft(alice, alice_client, make_workflow):
    workflow = make_workflow()
    first = workflow_publish(workflow=workflow, user=alice)
    workflow_update(workflow=workflow, definition=document("Something else"))
    workflow_publish(workflow=workflow, user=alice)

    response = alice_client.post(reverse("workflow_restore", args=[workflow.pk, 1]))

    workflow.refresh_from_db()
    assert response.status_code == 302
    assert response.url == reverse("workflow_editor", args=[workflow.pk])
    assert messages_of(response) == ["Version 1 restored as the draft."]
    assert workflow.definition == first.definition
    assert workflow.name == "Welcome VIPs"
    assert workflow.published_version.number == 2  # restoring is not publishing


def test_restore_of_an_unknown_version_is_404(alice, alice_client, make_workflow):
    workflow = make_workflow()
    workflow_publish(workflow=workflow, user=alice)
    assert alice_client.post(reverse("workflow_restore", args=[workflow.pk, 2])).status_code == 404
    assert alice_client.get(reverse("workflow_restore", args=[workflow.pk, 1])).status_code == 405


def test_version_changes_of_the_first_version():
    assert version_changes(None, document()) == ["First version, with 2 steps."]
    assert version_changes(None, {"steps": [{"key": "a"}]}) == ["First version, with 1 step."]


def test_version_changes_of_an_unchanged_definition():
    assert version_changes(document(), document()) == ["No changes."]


def test_version_changes_name_steps_added_removed_changed_and_reordered():
    old = {"name": "A", "steps": [{"key": "a"}, {"key": "b"}, {"key": "c", "input": {"x": 1}}]}
    new = {"name": "A", "steps": [{"key": "c", "input": {"x": 2}}, {"key": "a"}, {"key": "d"},
                                  {"key": "e"}]}  # fmt: skip
    assert version_changes(old, new) == [
        "Added steps “d”, “e”.",
        "Removed step “b”.",
        "Changed step “c”.",
        "Steps reordered.",
    ]


def test_version_changes_of_the_workflow_itself():
    old = document()
    new = {
        **document("Other"),
        "description": "Now described",
        "max_concurrent_runs": 1,
        "trigger": {"type": "manual", "input_schema": {"type": "object", "required": ["email"]}},
    }
    assert version_changes(old, new) == [
        "Renamed from “Welcome VIPs” to “Other”.",
        "Description changed.",
        "Trigger inputs changed.",
        "Runs at once: no limit → 1.",
    ]
    assert version_changes({"trigger": {"type": "manual"}}, {"trigger": {"type": "schedule"}}) == [
        "Trigger changed from manual to schedule."
    ]


def test_version_changes_take_any_document():
    assert version_changes("junk", {"steps": "junk"}) == ["No changes."]
    assert version_changes({"steps": [1, {"key": 2}]}, None) == ["No changes."]


# --- Enabled -------------------------------------------------------------------------------------


def test_the_toggle_disables_and_enables(alice_client, make_workflow):
    workflow = make_workflow()
    url = reverse("workflow_enabled", args=[workflow.pk])
    response = alice_client.post(url)
    workflow.refresh_from_db()
    assert not workflow.enabled
    assert response.url == reverse("workflow_list")
    assert "Enable" in alice_client.get(reverse("workflow_list")).content.decode()

    response = alice_client.post(url, {"enabled": "on", "next": "/workflows/?page=2"})
    workflow.refresh_from_db()
    assert workflow.enabled
    assert response.url == "/workflows/?page=2"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", ""])
def test_the_toggle_goes_back_only_to_this_site(alice_client, make_workflow, target):
    workflow = make_workflow()
    response = alice_client.post(reverse("workflow_enabled", args=[workflow.pk]), {"next": target})
    assert response.url == reverse("workflow_list")


def test_the_toggle_refuses_an_odd_value(alice_client, make_workflow):
    workflow = make_workflow()
    response = alice_client.post(reverse("workflow_enabled", args=[workflow.pk]), {"enabled": "x"})
    workflow.refresh_from_db()
    assert workflow.enabled
    assert response.status_code == 302
    assert messages_of(response)[0].startswith("Nothing changed")


# --- Isolation -----------------------------------------------------------------------------------

ROUTES = [
    ("get", "workflow_delete"),
    ("post", "workflow_delete"),
    ("post", "workflow_duplicate"),
    ("post", "workflow_enabled"),
    ("get", "workflow_export"),
    ("get", "workflow_versions"),
    ("post", "workflow_restore"),
]


@pytest.mark.parametrize(("method", "name"), ROUTES)
def test_charlie_gets_404_for_alices_workflows(
    client_for, charlie, alice, make_workflow, method, name
):
    workflow = make_workflow()
    workflow_publish(workflow=workflow, user=alice)
    args = [workflow.pk, 1] if name == "workflow_restore" else [workflow.pk]
    response = getattr(client_for(charlie), method)(reverse(name, args=args))
    assert response.status_code == 404
    workflow.refresh_from_db()
    assert workflow.enabled
    assert Workflow.objects.count() == 1


def test_charlies_list_and_import_show_nothing_of_alices(client_for, charlie, make_workflow):
    make_workflow("Zebra secret plan")
    client = client_for(charlie)
    assert "Zebra" not in client.get(reverse("workflow_list")).content.decode()
    shown = preview(client, json.dumps(document(connection="Main store")))
    assert "Main store" in shown.content.decode()  # the name in the file, as missing
    assert shown.context["connections"] == []
