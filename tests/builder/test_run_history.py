"""Run history: the runs list (filters, search, keyset pages), replay plans and their
confirmation, cancel, delete, export, retention and pruning, and failure emails."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from builder.engine import executor
from builder.models import Run, RunSearchTerm, StepAttempt, StepRun, Workflow
from builder.runsearch import terms_of
from builder.selectors.runs import RunFilters, cursor_of, cursor_read, run_page
from builder.services.replays import ReplayRefused, replay_plan, run_replay
from builder.services.runs import run_start, runs_prune
from builder.services.workflows import workflow_create, workflow_publish
from integrations.models import Connection

pytestmark = pytest.mark.django_db

CONNECTION = "Klaviyo sandbox"


def published(workspace, user, steps, name="Welcome flow") -> Workflow:
    document = {
        "format": "stepbuilder.workflow/1",
        "name": name,
        "trigger": {
            "type": "manual",
            "input_schema": {"type": "object", "properties": {"email": {"type": "string"}}},
        },
        "steps": steps,
    }
    workflow, _ = workflow_create(workspace=workspace, user=user, definition=document)
    workflow_publish(workflow=workflow, user=user)
    workflow.refresh_from_db()
    return workflow


def builtin(key: str, **extra) -> dict:
    return {"key": key, "action": "builtin.set", "input": {"values": {"k": key}}, **extra}


def action(key: str, name: str, **input) -> dict:
    return {"key": key, "action": name, "connection": CONNECTION, "input": input}


def finished_run(workflow, records, *, status=Run.Status.FAILED, error="", payload=None, **fields):
    """A finished run with StepRun rows: records are (key, status) or (key, status, item)."""
    now = timezone.now()
    fields.setdefault("version", workflow.published_version)
    run = Run.objects.create(
        workspace=workflow.workspace,
        workflow=workflow,
        status=status,
        error=error,
        trigger_payload=payload or {"email": "ada@example.com"},
        started_at=now,
        finished_at=now,
        duration_ms=12.0,
        **fields,
    )
    positions = {s["key"]: n for n, s in enumerate(workflow.published_version.definition["steps"])}
    for record in records:
        key, state, item = (*record, None)[:3]
        StepRun.objects.create(
            run=run,
            step_key=key,
            position=positions[key],
            item_index=item,
            status=state,
            output={"successful": state == "succeeded", "data": {"from": key}, "error": None},
            started_at=now,
            finished_at=now,
        )
    return run


@pytest.fixture
def api_client(db):
    """api_client(workspace): a JSON client of /api/v1 with a token of that workspace."""
    from django.test import Client

    from builder.services.api_tokens import api_token_create

    class Api:
        def __init__(self, secret):
            self.client = Client()
            self.headers = {"Authorization": f"Bearer {secret}"}

        def get(self, path, params=None):
            return self.client.get(path, params or {}, headers=self.headers)

        def post(self, path, body):
            return self.client.post(
                path, json.dumps(body), content_type="application/json", headers=self.headers
            )

    def make(workspace):
        return Api(api_token_create(workspace=workspace, name="tests", user=None)[1])

    return make


@pytest.fixture
def notices(monkeypatch):
    """Send failure emails at once, where the worker would send them from its queue."""
    from builder.services.notices import failure_notice_send

    monkeypatch.setattr(
        executor, "failure_notice_soon", lambda run_id: failure_notice_send(run_id=run_id)
    )


@pytest.fixture
def flow(alice, alice_workspace):
    return published(alice_workspace, alice, [builtin("first"), builtin("second")])


# --- Search terms -------------------------------------------------------------------------------


def test_terms_keep_whole_values_and_words_and_skip_keys():
    terms = terms_of({"email": "Ada@Example.com", "note": "Gold tier VIP", "n": 42, "ok": True})

    assert "ada@example.com" in terms
    assert {"gold tier vip", "gold", "tier", "vip", "42"} <= set(terms)
    assert "email" not in terms and "true" not in terms


def test_terms_of_an_error_are_its_words():
    assert terms_of(error="Step “add” failed: List “XyZ” not found.") == [
        "step",
        "add",
        "failed",
        "list",
        "xyz",
        "not",
        "found",
    ]


# --- The list -----------------------------------------------------------------------------------


def _ids(page) -> list[int]:
    return [row.run.pk for row in page.rows]


def test_filters_by_status_workflow_trigger_and_dates(alice, alice_workspace, flow):
    other = published(alice_workspace, alice, [builtin("only")], name="Other")
    failed = finished_run(flow, [("first", "failed")])
    done = finished_run(flow, [("first", "succeeded"), ("second", "succeeded")], status="succeeded")
    api = finished_run(other, [("only", "succeeded")], status="succeeded", trigger_kind="api")
    old = finished_run(flow, [], status="succeeded")
    Run.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    test = finished_run(flow, [], status="succeeded", trigger_kind="test")

    def ids(**filters):
        return _ids(run_page(alice_workspace, RunFilters(**filters)))

    assert test.pk not in ids()
    assert ids(status="failed") == [failed.pk]
    assert set(ids(workflow_id=other.pk)) == {api.pk}
    assert ids(trigger="api") == [api.pk]
    today = timezone.localdate()
    assert old.pk not in ids(since=today - timedelta(days=2))
    assert ids(until=today - timedelta(days=5)) == [old.pk]
    assert set(ids(status="succeeded", workflow_id=flow.pk)) == {done.pk, old.pk}


def test_search_finds_a_payload_value_an_error_word_and_a_run_id(alice_workspace, flow):
    ada = run_start(workflow=flow, payload={"email": "ada.lovelace@example.com"})
    grace = run_start(workflow=flow, payload={"email": "grace@example.com"})
    Run.objects.filter(pk=grace.pk).update(status="running", claim=1, started_at=timezone.now())
    grace.refresh_from_db()
    executor._finish(grace, Run.Status.FAILED, "Step “add” failed: List “Ab12Cd” was not found.")

    def search(query):
        return _ids(run_page(alice_workspace, RunFilters(query=query)))

    assert search("ada.lovelace@example.com") == [ada.pk]
    assert search("ADA") == [ada.pk]  # a prefix, any case
    assert search("ab12cd") == [grace.pk]
    assert search("list not found") == [grace.pk]  # every word must match
    assert search("list ada") == []
    assert search(f"#{ada.pk}") == [ada.pk]
    assert search("nobody@example.com") == []


def test_keyset_pages_go_through_every_run_once(alice_workspace, flow):
    made = [finished_run(flow, [], status="succeeded") for _ in range(7)]
    same_moment = timezone.now()
    Run.objects.filter(pk__in=[run.pk for run in made[:4]]).update(created_at=same_moment)
    seen, cursor = [], None
    while True:
        page = run_page(alice_workspace, RunFilters(), cursor=cursor, size=3)
        seen += _ids(page)
        if not page.following:
            break
        cursor = cursor_read(page.following)
    assert sorted(seen) == sorted(run.pk for run in made)
    assert len(seen) == len(set(seen))


def test_a_cursor_not_given_out_is_refused():
    assert cursor_read("bm90IGEgY3Vyc29y") is None
    assert cursor_read("!!") is None
    run = Run(pk=5, created_at=timezone.now())
    assert cursor_read(cursor_of(run)) == (run.created_at, 5)


def test_the_page_keeps_filters_in_the_url_and_counts_steps(client_for, alice, flow):
    failed = finished_run(
        flow, [("first", "succeeded"), ("second", "failed")], error="Step “second” failed: nope"
    )
    client = client_for(alice)
    page = client.get(reverse("run_list"), {"status": "failed", "q": "", "workflow": flow.pk})

    assert page.status_code == 200
    html = page.content.decode()
    assert f'data-run="{failed.pk}"' in html
    assert "Step “second” failed: nope" in html
    assert 'value="failed" selected' in html
    assert "Runs are kept for 30 days" in html
    assert page.context["page"].rows[0].counts == {"succeeded": 1, "failed": 1}


def test_bad_filters_are_explained_not_guessed(client_for, alice):
    client = client_for(alice)
    page = client.get(
        reverse("run_list"),
        {"status": "exploded", "since": "2026-13-45", "workflow": "99999", "cursor": "zz"},
    )

    assert page.status_code == 200
    form = page.context["form"]
    assert set(form.errors) == {"status", "since", "workflow"}
    assert page.context["bad_cursor"]


def test_charlie_sees_none_of_alices_runs(client_for, charlie, flow):
    run = finished_run(flow, [("first", "failed")], payload={"email": "secret@alice.com"})
    client = client_for(charlie)

    for query in ({}, {"q": "secret@alice.com"}, {"q": str(run.pk)}):
        listing = client.get(reverse("run_list"), query)
        assert not listing.context["page"].rows
        assert "data-run=" not in listing.content.decode()
    assert client.get(reverse("run_list"), {"workflow": flow.pk}).context["form"].errors
    for name in ("run_detail", "run_export"):
        assert client.get(reverse(name, args=[run.pk])).status_code == 404
    for name in ("run_replay", "run_cancel", "run_delete"):
        assert client.post(reverse(name, args=[run.pk])).status_code == 404
    client.post(reverse("runs_replay"), {"run": [run.pk], "start": "start", "version": "original"})
    assert Run.objects.count() == 1


# --- Replay -------------------------------------------------------------------------------------


@pytest.fixture
def sender(alice, alice_workspace):
    """find (read) → send (send) → forget (destructive)."""
    Connection.objects.create(
        workspace=alice_workspace, name=CONNECTION, kind=Connection.Kind.API_KEY,
        secret={"api_key": "pk_test_0123456789abcdef"}, key_hint="pk_…cdef",
    )  # fmt: skip
    return published(
        alice_workspace,
        alice,
        [
            action("find", "KLAVIYO_GET_PROFILES"),
            {**action("send", "KLAVIYO_CREATE_CAMPAIGN_SEND_JOB", campaign_id="01CAMPAIGN"),
             "name": "Send campaign 'Black Friday'"},
            action("forget", "KLAVIYO_DELETE_CAMPAIGN", campaign_id="01CAMPAIGN"),
        ],
    )  # fmt: skip


def test_a_replay_from_the_start_names_the_sends_it_would_repeat(sender):
    run = finished_run(sender, [("find", "succeeded"), ("send", "succeeded"), ("forget", "failed")])
    plan = replay_plan(run=run, start="start")

    assert [repeat.words for repeat in plan.repeats] == ["Send campaign 'Black Friday' again"]
    assert plan.needs_confirmation


def test_reads_and_failed_sends_need_no_confirmation(sender):
    run = finished_run(sender, [("find", "succeeded"), ("send", "failed")])

    assert not replay_plan(run=run, start="start").repeats
    plan = replay_plan(run=run, start="failed_step")
    assert plan.start_from == "send"
    assert [record.step_key for record in plan.reused] == ["find"]
    assert not plan.needs_confirmation


def test_a_step_in_doubt_counts_as_done(sender):
    run = finished_run(
        sender, [("find", "succeeded"), ("send", "needs_review")], status="needs_review"
    )
    plan = replay_plan(run=run, start="failed_step")
    assert [repeat.key for repeat in plan.repeats] == ["send"]


def test_the_confirmation_page_names_the_steps_before_anything_starts(client_for, alice, sender):
    run = finished_run(sender, [("find", "succeeded"), ("send", "succeeded"), ("forget", "failed")])
    client = client_for(alice)
    url = reverse("run_replay", args=[run.pk])

    page = client.post(url, {"start": "start", "version": "original"})
    assert page.status_code == 200
    assert "Send campaign &#x27;Black Friday&#x27; again" in page.content.decode()
    assert Run.objects.count() == 1

    started = client.post(url, {"start": "start", "version": "original", "confirm": "on"})
    replay = Run.objects.get(replay_of=run)
    assert started.url == reverse("run_detail", args=[replay.pk])
    assert replay.trigger_kind == "replay" and replay.trigger_payload == run.trigger_payload


def test_a_replay_from_the_failed_step_starts_with_the_steps_before_it(alice_workspace, flow):
    run = finished_run(flow, [("first", "succeeded"), ("second", "failed")])
    replay = run_replay(plan=replay_plan(run=run, start="failed_step"))

    copied = StepRun.objects.get(run=replay)
    assert (copied.step_key, copied.status, copied.state["reused_from"]) == (
        "first",
        "succeeded",
        run.pk,
    )
    executor.run_execute(replay.pk)
    replay.refresh_from_db()
    assert replay.status == "succeeded", replay.error
    first = StepRun.objects.get(run=replay, step_key="first")
    assert first.pk == copied.pk and first.attempts.count() == 0


def test_replays_are_refused_with_a_reason(alice, flow):
    running = finished_run(flow, [], status="running")
    done = finished_run(flow, [("first", "succeeded")], status="succeeded")
    test = finished_run(flow, [], status="failed", trigger_kind="test", version=None)

    with pytest.raises(ReplayRefused, match="in progress"):
        replay_plan(run=running)
    with pytest.raises(ReplayRefused, match="No step of this run failed"):
        replay_plan(run=done, start="failed_step")
    with pytest.raises(ReplayRefused, match="test"):
        replay_plan(run=test)


def test_the_current_version_must_still_have_the_failed_step(alice, flow):
    run = finished_run(flow, [("first", "succeeded"), ("second", "failed")])
    document = {**flow.definition, "steps": [builtin("first")]}
    workflow_publish_document(flow, alice, document)

    with pytest.raises(ReplayRefused, match="not in version 2"):
        replay_plan(run=run, start="failed_step", version="current")
    assert replay_plan(run=run, start="start", version="current").version.number == 2


def workflow_publish_document(workflow, user, document):
    from builder.services.workflows import workflow_update

    workflow_update(workflow=workflow, definition=document)
    workflow_publish(workflow=workflow, user=user)
    workflow.refresh_from_db()


def test_several_selected_runs_are_replayed_at_once(client_for, alice, flow):
    runs = [finished_run(flow, [("first", "succeeded"), ("second", "failed")]) for _ in range(3)]
    done = finished_run(flow, [("first", "succeeded")], status="succeeded")
    client = client_for(alice)
    data = {"run": [r.pk for r in runs] + [done.pk], "start": "failed_step", "version": "original"}

    page = client.post(reverse("runs_replay"), data)
    assert page.status_code == 200  # one could not be replayed from a failed step: say so first
    assert "No step of this run failed" in page.content.decode()

    client.post(reverse("runs_replay"), {**data, "confirm": "on"})
    assert set(Run.objects.filter(trigger_kind="replay").values_list("replay_of", flat=True)) == {
        r.pk for r in runs
    }


def test_the_api_replays_and_says_what_it_repeats(api_client, alice_workspace, sender):
    run = finished_run(sender, [("find", "succeeded"), ("send", "succeeded"), ("forget", "failed")])
    client = api_client(alice_workspace)

    answer = client.post(f"/api/v1/runs/{run.pk}/replay", {"from": "failed_step"})
    assert answer.status_code == 202, answer.content
    body = answer.json()
    assert body["replay_of"] == run.pk and body["from"] == "forget"
    assert body["reused_steps"] == ["find", "send"] and body["repeats"] == []
    assert client.get(f"/api/v1/runs/{body['id']}").json()["replay_of"] == run.pk

    assert client.post(f"/api/v1/runs/{run.pk}/replay", {"from": "middle"}).status_code == 400
    assert client.post(f"/api/v1/runs/{run.pk}/replay", ["start"]).status_code == 400
    assert client.post("/api/v1/runs/999999/replay", {}).status_code == 404
    running = finished_run(sender, [], status="running")
    assert client.post(f"/api/v1/runs/{running.pk}/replay", {}).status_code == 409


def test_the_api_lists_with_the_pages_filters_and_search(api_client, alice_workspace, flow):
    ada = run_start(workflow=flow, payload={"email": "ada@example.com"})
    run_start(workflow=flow, payload={"email": "bob@example.com"})
    client = api_client(alice_workspace)

    found = client.get("/api/v1/runs", {"q": "ada@example.com"}).json()["results"]
    assert [run["id"] for run in found] == [ada.pk]
    assert found[0]["steps"] == {"succeeded": 0, "failed": 0, "skipped": 0}
    assert client.get("/api/v1/runs", {"trigger": "test"}).status_code == 400
    assert client.get("/api/v1/runs", {"trigger": "manual", "limit": 1}).json()["next"]


# --- Cancel, delete, export ---------------------------------------------------------------------


def test_cancel_delete_and_export(client_for, alice, flow):
    client = client_for(alice)
    queued = run_start(workflow=flow, payload={"email": "ada@example.com"})
    assert client.post(reverse("run_delete", args=[queued.pk])).status_code == 302
    assert Run.objects.filter(pk=queued.pk).exists()  # still in progress: not deleted

    client.post(reverse("run_cancel", args=[queued.pk]))
    queued.refresh_from_db()
    assert queued.status == "canceled"

    done = finished_run(flow, [("first", "succeeded")], status="succeeded")
    StepAttempt.objects.create(
        step_run=done.steps.get(), number=1, method="GET", path="/api/profiles"
    )
    exported = client.get(reverse("run_export", args=[done.pk]))
    document = json.loads(exported.content)
    assert exported["Content-Disposition"] == f'attachment; filename="run-{done.pk}.json"'
    assert document["format"] == "stepbuilder.run/1" and document["steps"][0]["key"] == "first"

    client.post(reverse("run_delete", args=[done.pk]))
    assert not Run.objects.filter(pk=done.pk).exists()
    assert not StepRun.objects.filter(run_id=done.pk).exists()
    assert not StepAttempt.objects.exists()


# --- Retention ----------------------------------------------------------------------------------


def test_prune_keeps_what_is_inside_the_window(alice_workspace, flow, capsys):
    now = timezone.now()
    alice_workspace.run_retention_days = 7
    alice_workspace.save()
    keep = finished_run(flow, [("first", "succeeded")], status="succeeded")
    Run.objects.filter(pk=keep.pk).update(created_at=now - timedelta(days=6, hours=23))
    gone = [finished_run(flow, [("first", "succeeded")], status="succeeded") for _ in range(5)]
    Run.objects.filter(pk__in=[r.pk for r in gone]).update(created_at=now - timedelta(days=8))
    waiting = finished_run(flow, [], status="waiting")
    Run.objects.filter(pk=waiting.pk).update(created_at=now - timedelta(days=90))
    replay = run_replay(plan=replay_plan(run=Run.objects.get(pk=gone[0].pk)))
    Run.objects.filter(pk=replay.pk).update(status="succeeded")

    call_command("prune_runs", "--batch-size", "2")

    assert capsys.readouterr().out.strip().splitlines()[-1] == "Pruned 5 runs (5 steps)."
    assert set(Run.objects.values_list("pk", flat=True)) == {keep.pk, waiting.pk, replay.pk}
    assert Run.objects.get(pk=replay.pk).replay_of is None
    assert not RunSearchTerm.objects.filter(run_id__in=[r.pk for r in gone]).exists()
    assert runs_prune().runs == 0


def test_owners_set_the_retention(client_for, alice, bob, alice_workspace):
    assert client_for(alice).post(reverse("workspace_retention"), {"run_retention_days": "90"})
    alice_workspace.refresh_from_db()
    assert alice_workspace.run_retention_days == 90
    refused = client_for(alice).post(reverse("workspace_retention"), {"run_retention_days": "0"})
    assert refused.status_code == 200 and refused.context["retention_form"].errors
    assert client_for(bob).post(reverse("workspace_retention"), {"run_retention_days": "1"})
    alice_workspace.refresh_from_db()
    assert alice_workspace.run_retention_days == 90


# --- Failure emails -----------------------------------------------------------------------------


def _fail(run: Run) -> None:
    Run.objects.filter(pk=run.pk).update(status="running", claim=1, started_at=timezone.now())
    run.refresh_from_db()
    executor._finish(run, Run.Status.FAILED, "Step “add” failed: List not found.")


def test_one_failure_email_per_workflow_per_quarter_hour(alice, flow, notices):
    for _ in range(3):
        _fail(run_start(workflow=flow, payload={"email": "ada@example.com"}))

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [alice.email]
    assert "Welcome flow" in message.subject and "List not found." in message.body
    assert f"/runs/?workflow={flow.pk}&status=failed" in message.body

    Workflow.objects.filter(pk=flow.pk).update(
        failure_notified_at=timezone.now() - timedelta(minutes=16)
    )
    _fail(run_start(workflow=flow, payload={"email": "ada@example.com"}))
    assert len(mail.outbox) == 2


def test_failure_emails_switch_off_per_workflow(client_for, alice, flow, notices):
    client_for(alice).post(
        reverse("workflow_save", args=[flow.pk]),
        {"name": flow.name, "max_concurrent_runs": "0", "notify_failures_shown": "1"},
    )
    flow.refresh_from_db()
    assert not flow.notify_failures
    _fail(run_start(workflow=flow, payload={"email": "ada@example.com"}))
    assert mail.outbox == []
