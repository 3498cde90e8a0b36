"""The editor: every action's form round-trips through HTML, each change saves into the draft
through the one validator, and bad posts answer with form errors, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import QueryDict
from django.urls import reverse

from builder.engine.builtins import BUILTINS
from builder.forms.reading import read_form
from builder.forms.schema import FormRenderer
from builder.models import Run, Workflow
from builder.services.editor import step_add
from builder.services.workflows import workflow_create
from integrations import services
from integrations.klaviyo.catalog import all_actions, example_input
from integrations.klaviyo.catalog.examples import TINY_PNG_BASE64, filled_value
from tests.formdata import duplicate_ids, form_data, unlabelled_controls

ACTIONS = sorted(all_actions())


@pytest.fixture
def workflow(alice, alice_workspace) -> Workflow:
    services.connection_create_sandbox(
        workspace=alice_workspace, user=alice, name="Klaviyo sandbox"
    )
    document = {
        "name": "VIP welcome",
        "trigger": {
            "type": "manual",
            "input_schema": {
                "type": "object",
                "required": ["email"],
                "properties": {"email": {"type": "string", "format": "email"}},
            },
        },
        "steps": [
            {
                "key": "find",
                "action": "KLAVIYO_GET_PROFILES",
                "connection": "Klaviyo sandbox",
                "input": {"filter": 'equals(email,"{{ trigger.email }}")'},
            },
            {
                "key": "add",
                "action": "KLAVIYO_ADD_PROFILE_TO_LIST",
                "connection": "Klaviyo sandbox",
                "input": {"profile_ids": ["{{ steps.find.data.data[0].id }}"]},
            },
        ],
    }
    return workflow_create(workspace=alice_workspace, user=alice, definition=document)[0]


def _post_pairs(pairs: list[tuple[str, str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for name, value in pairs:
        data.appendlist(name, value)
    return data


@pytest.mark.parametrize("key", ACTIONS)
def test_every_actions_form_stores_exactly_what_it_was_filled_with(key):
    action = all_actions()[key]
    for value in (example_input(action), filled_value(action.input_schema)):
        html = str(FormRenderer(id_prefix="f-x").form(action.input_schema, value))
        assert unlabelled_controls(html) == []
        assert duplicate_ids(html) == []
        got, errors = read_form(action.input_schema, _post_pairs(form_data(html)))
        assert errors == []
        assert got == value


@pytest.mark.parametrize("key", sorted(BUILTINS))
def test_every_built_in_steps_form_stores_what_it_was_filled_with(key):
    schema = BUILTINS[key].input_schema
    value = {
        name: prop["examples"][0]
        for name, prop in schema["properties"].items()
        if "examples" in prop
    }
    html = str(FormRenderer(id_prefix="f-x").form(schema, value))
    assert read_form(schema, _post_pairs(form_data(html))) == (value, [])


def test_the_step_form_posted_as_rendered_saves_the_example_input(client_for, alice, workflow):
    client = client_for(alice)
    for key in (
        "KLAVIYO_ADD_PROFILE_TO_LIST",
        "KLAVIYO_CREATE_EVENT",
        "KLAVIYO_UPLOAD_IMAGE_FROM_FILE",
    ):
        workflow.refresh_from_db()
        step = step_add(workflow=workflow, action=key)
        workflow.refresh_from_db()
        document = workflow.definition
        example = example_input(all_actions()[key])
        for s in document["steps"]:
            if s["key"] == step:
                s["input"] = example
        Workflow.objects.filter(pk=workflow.pk).update(definition=document)
        page = client.get(reverse("workflow_editor", args=[workflow.pk]), {"step": step})
        assert page.status_code == 200
        pairs = form_data(page.content.decode(), form_id=f"form-{step}")
        response = client.post(
            reverse("step_save", args=[workflow.pk, step]),
            _post_pairs(pairs).urlencode(),
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 302
        workflow.refresh_from_db()
        saved = next(s for s in workflow.definition["steps"] if s["key"] == step)
        assert saved["input"] == example
        assert saved["connection"] == "Klaviyo sandbox"


def test_the_editor_shows_the_steps_problems_and_mapping_chips(client_for, alice, workflow):
    editor = reverse("workflow_editor", args=[workflow.pk])
    body = client_for(alice).get(editor, {"step": "add"}).content.decode()
    assert "Get Profiles" in body and "Add Profile To List" in body
    assert 'data-pointer="/input/list_id"' in body
    assert "problem" in body  # the missing list id
    assert "Step find · data.data[0].id" in body  # the chip of the mapped profile id
    assert "Insert data" in body and "Test step" in body and "Publish" in body
    assert unlabelled_controls(body) == []
    assert duplicate_ids(body) == []
    assert '<fieldset class="field condition"' in body  # the run-if builder, as HTML
    # The closed card's form loads when it is opened.
    assert 'name="in/filter"' not in body
    card = client_for(alice).get(editor, {"card": "find"}, HTTP_HX_REQUEST="true")
    assert 'name="in/filter"' in card.content.decode()


def test_a_bad_number_is_a_form_error_and_nothing_is_saved(client_for, alice, workflow):
    step = step_add(workflow=workflow, action="KLAVIYO_GET_PROFILES")
    response = client_for(alice).post(
        reverse("step_save", args=[workflow.pk, step]),
        {"in/page_size": "many"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Enter a whole number" in response.content.decode()


def test_renaming_a_step_rewrites_references_to_it(client_for, alice, workflow):
    response = client_for(alice).post(
        reverse("step_rename", args=[workflow.pk, "find"]), {"new_key": "lookup"}
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.definition["steps"][0]["key"] == "lookup"
    assert workflow.definition["steps"][1]["input"]["profile_ids"] == [
        "{{ steps.lookup.data.data[0].id }}"
    ]


def test_publish_is_refused_while_problems_remain(client_for, alice, workflow):
    response = client_for(alice).post(reverse("workflow_publish", args=[workflow.pk]))
    assert response.status_code == 400
    assert "Not published" in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.published_version is None


def test_the_picker_finds_actions_and_built_in_steps(client_for, alice, workflow):
    client = client_for(alice)
    body = client.get(
        reverse("action_picker", args=[workflow.pk]), {"q": "add profile to list"}
    ).content.decode()
    assert "Add Profile To List" in body
    assert (
        "Delay"
        in client.get(reverse("action_picker", args=[workflow.pk]), {"q": "delay"}).content.decode()
    )
    response = client.post(
        reverse("step_add", args=[workflow.pk]), {"action": "builtin.delay", "position": "0"}
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.definition["steps"][0]["action"] == "builtin.delay"


def test_the_data_picker_offers_the_trigger_and_upstream_outputs(client_for, alice, workflow):
    body = client_for(alice).get(reverse("data_picker", args=[workflow.pk, "add"])).content.decode()
    assert 'data-ref="trigger.email"' in body
    assert 'data-ref="steps.find.data.data[0].id"' in body


def test_test_step_queues_a_test_run_with_samples(
    client_for, alice, workflow, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = client_for(alice).post(
            reverse("step_test", args=[workflow.pk, "find"]),
            {"sample/email": "alice@example.com"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    run = Run.objects.get(trigger_kind=Run.Trigger.TEST)
    assert run.test_step == "find" and run.version is None
    assert run.trigger_payload == {"email": "alice@example.com"}
    assert [s["key"] for s in run.test_definition["steps"]] == ["find"]


def test_bad_posts_never_answer_500(client_for, alice, workflow):
    client = client_for(alice)
    hostile: dict[str, Any] = {
        "in/~json": "{",
        "s/run_if/mode": "json",
        "s/run_if/~json": "[",
        "order": "x,y",
        "t/0/name": "a",
        "t/0/type": "advanced",
        "t/0/schema": "{",
        "new_key": "9 bad",
    }
    for name in ("step_save", "step_rename", "step_move", "step_duplicate", "step_test"):
        assert client.post(reverse(name, args=[workflow.pk, "find"]), hostile).status_code < 500
    for name in (
        "workflow_save",
        "trigger_save",
        "step_order",
        "step_add",
        "workflow_publish",
        "workflow_run",
    ):
        assert client.post(reverse(name, args=[workflow.pk]), hostile).status_code < 500
    assert client.post(reverse("step_save", args=[workflow.pk, "nope"]), hostile).status_code == 404


def test_the_for_each_picker_offers_only_lists(client_for, alice, workflow):
    url = reverse("data_picker", args=[workflow.pk, "add"])
    body = client_for(alice).get(url, {"want": "array"}).content.decode()
    assert 'data-ref="steps.find.data.data"' in body
    assert 'data-ref="trigger.email"' not in body
    assert 'data-ref="steps.find.data.data[0].id"' not in body


def test_an_uploaded_image_is_stored_base64(client_for, alice, workflow):
    step = step_add(workflow=workflow, action="KLAVIYO_UPLOAD_IMAGE_FROM_FILE")
    image = SimpleUploadedFile("dot.png", base64.b64decode(TINY_PNG_BASE64), "image/png")
    response = client_for(alice).post(
        reverse("step_save", args=[workflow.pk, step]),
        {"in/file/~file": image, "in/name": "Dot", "s/connection": "Klaviyo sandbox"},
    )
    assert response.status_code == 302
    workflow.refresh_from_db()
    saved = next(s for s in workflow.definition["steps"] if s["key"] == step)
    assert saved["input"]["file"] == TINY_PNG_BASE64


def test_text_the_database_cannot_store_is_refused_not_saved(client_for, alice, workflow):
    client = client_for(alice)
    save = reverse("workflow_save", args=[workflow.pk])
    response = client.post(save, {"name": "VIP\x00 welcome"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
    step = reverse("step_save", args=[workflow.pk, "find"])
    assert client.post(step, {"in/filter": "x\x00"}, HTTP_HX_REQUEST="true").status_code == 400
    workflow.refresh_from_db()
    assert workflow.name == "VIP welcome"
    assert "\x00" not in str(workflow.definition)


def test_a_steps_settings_survive_a_save_of_its_form_as_rendered(client_for, alice, workflow):
    document = workflow.definition
    step = document["steps"][1]
    step.update(
        name="Add to VIPs",
        input={"list_id": "Y6nRLr", "profile_ids": ["{{ item.id }}"]},
        run_if={"any": [
            {"left": "{{ steps.find.data.data | length }}", "op": "greater_than", "right": 0},
            {"left": "{{ trigger.email }}", "op": "contains", "right": "123"},
            {"left": "{{ trigger.email }}", "op": "exists"}]},
        for_each={"items": "{{ steps.find.data.data }}", "max_items": 50, "in_flight": 2},
        on_error={"retry": 4},
        timeout_seconds=90,
    )  # fmt: skip
    Workflow.objects.filter(pk=workflow.pk).update(definition=document)
    workflow.refresh_from_db()
    before = next(s for s in workflow.definition["steps"] if s["key"] == "add")
    client = client_for(alice)
    page = client.get(reverse("workflow_editor", args=[workflow.pk]), {"step": "add"})
    pairs = form_data(page.content.decode(), form_id="form-add")
    client.post(
        reverse("step_save", args=[workflow.pk, "add"]),
        _post_pairs(pairs).urlencode(),
        content_type="application/x-www-form-urlencoded",
    )
    workflow.refresh_from_db()
    assert next(s for s in workflow.definition["steps"] if s["key"] == "add") == before


@pytest.mark.parametrize(
    ("posted", "pointer"),
    [
        ({"s/on_error": "retry", "s/retries": "50"}, "/on_error"),
        ({"s/timeout_seconds": "0"}, "/timeout_seconds"),
        ({"s/for_each/items": "{{ steps.find.data.data }}", "s/for_each/in_flight": "500"},
         "/for_each/in_flight"),
        ({"s/run_if/mode": "json", "s/run_if/~json": "[1, 2]"}, "/run_if"),
    ],
)  # fmt: skip
def test_a_setting_out_of_range_is_refused_not_replaced(
    client_for, alice, workflow, posted, pointer
):
    before = workflow.definition
    data = {"in/filter": 'equals(email,"{{ trigger.email }}")', "s/connection": "Klaviyo sandbox"}
    response = client_for(alice).post(
        reverse("step_save", args=[workflow.pk, "find"]), {**data, **posted}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert f'data-pointer="{pointer}"' in response.content.decode()
    workflow.refresh_from_db()
    assert workflow.definition == before


def test_an_empty_name_or_a_limit_too_high_is_refused(client_for, alice, workflow):
    save = reverse("workflow_save", args=[workflow.pk])
    client = client_for(alice)
    for posted in ({"name": ""}, {"name": "VIP", "max_concurrent_runs": "500"}):
        assert client.post(save, posted, HTTP_HX_REQUEST="true").status_code == 400
    workflow.refresh_from_db()
    assert workflow.name == workflow.definition["name"] == "VIP welcome"


@pytest.mark.parametrize("key", ["add", "new", "order"])
def test_a_step_whose_key_is_a_route_word_saves(client_for, alice, workflow, key):
    client = client_for(alice)
    assert client.post(reverse("step_rename", args=[workflow.pk, "add"]), {"new_key": key})
    workflow.refresh_from_db()
    assert [s["key"] for s in workflow.definition["steps"]] == ["find", key]
    page = client.get(reverse("workflow_editor", args=[workflow.pk]), {"step": key})
    pairs = [(n, v) for n, v in form_data(page.content.decode(), form_id=f"form-{key}")]
    pairs = [(n, "XyZ123" if n == "in/list_id" else v) for n, v in pairs]
    answer = client.post(
        reverse("step_save", args=[workflow.pk, key]),
        _post_pairs(pairs).urlencode(),
        content_type="application/x-www-form-urlencoded",
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    workflow.refresh_from_db()
    assert workflow.definition["steps"][1]["input"]["list_id"] == "XyZ123"
