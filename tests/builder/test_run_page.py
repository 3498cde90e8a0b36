"""The page of one run: its steps on a timeline in the version's order, each step's records,
for-each items and HTTP attempts, the live fragment that polls while it runs, and its actions."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from builder.engine.definition import parse_definition
from builder.engine.executor import run_execute
from builder.models import Run, StepAttempt, StepRun, Workflow, WorkflowVersion
from builder.selectors.run_detail import duration_words, run_timeline
from builder.services.workflows import workflow_create, workflow_publish

SECRET = "pk_live_abcdef123456"
T0 = timezone.now().replace(microsecond=0) - timedelta(hours=1)

DOCUMENT = {
    "format": "stepbuilder.workflow/1",
    "name": "Welcome VIPs",
    "trigger": {"type": "manual"},
    "steps": [
        {"key": "find", "name": "Find the VIP", "action": "KLAVIYO_GET_PROFILES", "input": {}},
        {
            "key": "gate",
            "action": "builtin.set",
            "input": {"values": {"ok": True}},
            "run_if": {"all": [{"left": "{{ trigger.plan }}", "op": "equals", "right": "gold"}]},
        },
        {
            "key": "tag",
            "name": "Tag each profile",
            "action": "builtin.set",
            "input": {"values": {"email": "{{ item }}"}},
            "for_each": {"items": "{{ trigger.emails }}"},
        },
        {"key": "pause", "action": "builtin.delay", "input": {"seconds": 60}},
        {"key": "wrap_up", "action": "builtin.set", "input": {"values": {}}},
    ],
}
ORDER = ["find", "gate", "tag", "pause", "wrap_up"]


# --- Reading the page -------------------------------------------------------------------------


class _Elements(HTMLParser):
    """Record where each element with a data-testid starts and ends in the page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}  # fmt: skip

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lines = [0]
        for line in text.splitlines(keepends=True):
            self.lines.append(self.lines[-1] + len(line))
        self.stack: list[tuple[str, str | None, int]] = []
        self.found: list[tuple[str, int, int]] = []
        self.feed(text)

    def _offset(self) -> int:
        line, column = self.getpos()
        return self.lines[line - 1] + column

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        self.stack.append((tag, dict(attrs).get("data-testid"), self._offset()))

    def handle_endtag(self, tag):
        while self.stack:
            name, testid, start = self.stack.pop()
            if testid:
                self.found.append((testid, start, self._offset() + len(tag) + 3))
            if name == tag:
                return


def ids_in(page: str) -> list[str]:
    """Return the page's data-testid values in the order they open."""
    return [name for name, _, _ in sorted(_Elements(page).found, key=lambda found: found[1])]


def part(page: str, testid: str) -> str:
    """Return the outer HTML of the first element with this data-testid; fail without one."""
    for name, start, end in sorted(_Elements(page).found, key=lambda found: found[1]):
        if name == testid:
            return page[start:end]
    raise AssertionError(f"no data-testid={testid!r} on the page")


def text_of(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


# --- Building runs ----------------------------------------------------------------------------


@pytest.fixture
def alice_client(client_for, alice, alice_workspace):
    return client_for(alice, alice_workspace)


@pytest.fixture
def workflow(alice, alice_workspace) -> Workflow:
    workflow, _ = workflow_create(workspace=alice_workspace, user=alice, definition=DOCUMENT)
    return workflow


def version_of(workflow: Workflow, document=DOCUMENT, number: int = 1) -> WorkflowVersion:
    """Store a version straight from `document` (the page reads it; it need not validate)."""
    version = WorkflowVersion.objects.create(
        workflow=workflow, number=number, definition=parse_definition(document)[0].to_document()
    )
    Workflow.objects.filter(pk=workflow.pk).update(published_version=version)
    workflow.refresh_from_db()
    return version


@pytest.fixture
def version(workflow) -> WorkflowVersion:
    return version_of(workflow)


def run_of(version, *, status=Run.Status.SUCCEEDED, seconds=10.0, **extra) -> Run:
    finished = status in Run.FINISHED
    return Run.objects.create(
        workspace=version.workflow.workspace,
        workflow=version.workflow,
        version=version,
        status=status,
        created_at=T0 - timedelta(seconds=1),
        started_at=T0,
        finished_at=T0 + timedelta(seconds=seconds) if finished else None,
        duration_ms=seconds * 1000 if finished else None,
        **extra,
    )


def record(
    run, key, *, status=StepRun.Status.SUCCEEDED, at=0.0, took=1.0, item=None, position=None,
    **extra,
):  # fmt: skip
    if position is None:
        position = ORDER.index(key)
    return StepRun.objects.create(
        run=run,
        step_key=key,
        position=position,
        item_index=item,
        status=status,
        started_at=T0 + timedelta(seconds=at),
        finished_at=T0 + timedelta(seconds=at + took) if took is not None else None,
        **extra,
    )


def attempt(step_run, number=1, **extra) -> StepAttempt:
    fields = {"method": "GET", "path": "/api/profiles", "http_status": 200, "duration_ms": 120.0}
    return StepAttempt.objects.create(step_run=step_run, number=number, **{**fields, **extra})


def page_of(client, run, **query) -> str:
    response = client.get(reverse("run_detail", args=[run.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


# --- The timeline -----------------------------------------------------------------------------


def test_the_timeline_lists_the_steps_in_the_versions_order(alice_client, version):
    run = run_of(version)
    # Written out of order, as parallel items and replays can.
    record(run, "pause", at=5, took=4)
    record(run, "find", at=0, took=1)
    record(run, "gate", status=StepRun.Status.SKIPPED, at=1, took=0)
    page = page_of(alice_client, run)
    steps = [name.removeprefix("step-") for name in ids_in(page) if name.startswith("step-")]
    steps = [name for name in steps if name in ORDER]
    assert steps == ORDER
    find = part(page, "step-find")
    assert "Find the VIP" in find and "Succeeded" in find
    assert "Get Profiles" in find  # the action's title beside the step's own name
    assert "Set values" in part(page, "step-wrap_up")  # no name: the action's title


def test_steps_the_run_did_not_reach_say_so(alice_client, version):
    run = run_of(version, status=Run.Status.FAILED, error="Step “Find the VIP” failed: 500")
    record(run, "find", status=StepRun.Status.FAILED, error="Klaviyo answered 500")
    page = page_of(alice_client, run)
    assert "Not reached" in part(page, "step-pause")
    assert 'data-status="not_reached"' in part(page, "step-wrap_up")


def test_steps_not_started_yet_are_pending_while_the_run_goes_on(alice_client, version):
    run = run_of(version, status=Run.Status.RUNNING)
    record(run, "find", status=StepRun.Status.RUNNING, took=None)
    page = page_of(alice_client, run)
    assert "Running" in part(page, "step-find")
    assert "Pending" in part(page, "step-pause")
    assert "Not reached" not in page


def test_a_skipped_step_shows_the_condition_that_skipped_it(alice_client, version):
    run = run_of(version)
    reason = 'skipped because trigger.plan ("silver") does not equal "gold"'
    record(run, "gate", status=StepRun.Status.SKIPPED, state={"skipped_because": reason})
    gate = part(page_of(alice_client, run), "step-gate")
    assert "Skipped" in gate
    assert text_of(part(gate, "step-skipped-because")) == html.unescape(reason).capitalize()


def test_for_each_items_are_grouped_under_their_step(alice_client, version):
    run = run_of(version, status=Run.Status.FAILED)
    for index in range(11):
        record(run, "tag", item=index, at=2 + index * 0.1, took=0.1, output={"data": index})
    record(run, "tag", item=11, status=StepRun.Status.FAILED, at=3.2, error="Item 11 is bad")
    page = page_of(alice_client, run)
    tag = part(page, "step-tag")
    assert text_of(part(tag, "step-items-summary")) == "12 items: 11 succeeded, 1 failed"
    items = [name for name in ids_in(tag) if name.startswith("item-tag-")]
    assert items == [f"item-tag-{index}" for index in range(12)]
    assert "Failed" in part(tag, "step-status")  # the step fails when one of its items does
    failed_item = part(tag, "item-tag-11")
    assert "Item 11 is bad" in part(failed_item, "step-error")
    assert re.search(r"<details[^>]*data-remember=\"item-tag-11\"[^>]* open", failed_item)
    assert not re.search(r"<details[^>]* open", part(tag, "item-tag-0"))


def test_a_long_list_of_items_shows_the_first_and_every_one_that_failed(alice_client, version):
    run = run_of(version, status=Run.Status.FAILED)
    StepRun.objects.bulk_create(
        StepRun(run=run, step_key="tag", position=2, item_index=index,
                status=StepRun.Status.FAILED if index == 140 else StepRun.Status.SUCCEEDED)
        for index in range(150)
    )  # fmt: skip
    tag = part(page_of(alice_client, run), "step-tag")
    items = [name for name in ids_in(tag) if name.startswith("item-tag-")]
    assert items == [f"item-tag-{index}" for index in range(100)] + ["item-tag-140"]
    assert text_of(part(tag, "step-items-summary")) == "150 items: 149 succeeded, 1 failed"
    assert text_of(part(tag, "step-items-hidden")).startswith("49 more items not shown here")


def test_each_http_attempt_is_shown_with_its_request_id(alice_client, version):
    run = run_of(version)
    find = record(run, "find")
    attempt(find, 1, http_status=429, rate_limit_wait_ms=1500, request_id="req-first",
            error="Too many requests")  # fmt: skip
    attempt(find, 2, http_status=200, duration_ms=87.4, request_id="req-second")
    table = part(part(page_of(alice_client, run), "step-find"), "step-attempts")
    rows = [text_of(row) for row in re.findall(r"<tr>.*?</tr>", table, re.S)][1:]
    assert rows == [
        "1 GET /api/profiles 429 120 ms 1500 ms req-first Too many requests",
        "2 GET /api/profiles 200 87 ms — req-second —",
    ]


def test_each_step_is_drawn_to_scale_on_the_timeline(alice_client, version):
    run = run_of(version, seconds=10)
    record(run, "find", at=0, took=2.5)
    record(run, "pause", at=5, took=5)
    page = page_of(alice_client, run)
    assert '<rect x="0.00%" y="0" width="25.00%"' in part(page, "step-find")
    assert '<rect x="50.00%" y="0" width="50.00%"' in part(page, "step-pause")
    assert "2.5 s" in part(page, "step-find")
    assert "<rect" not in part(page, "step-wrap_up")  # not reached: nothing to draw


def test_the_page_has_no_inline_style_for_the_csp(alice_client, version):
    run = run_of(version)
    record(run, "find", took=3)
    page = page_of(alice_client, run)
    assert " style=" not in page
    assert "<script>" not in page
    assert re.search(r'<script src="/static/js/runs\.js[^"]*" defer>', page)
    assert re.search(r'<link rel="stylesheet" href="/static/css/runs\.css', page)


# --- A step in full ---------------------------------------------------------------------------


def test_a_failed_run_shows_its_error_and_the_error_at_its_step(alice_client, version):
    message = "Klaviyo answered 400: list_id is not a list.\nSee https://developers.klaviyo.com"
    run = run_of(version, status=Run.Status.FAILED, error=f"Step “Find the VIP” failed: {message}")
    record(run, "find", status=StepRun.Status.FAILED, error=message, input={"list_id": "X"})
    page = page_of(alice_client, run)
    banner = part(page, "run-error")
    assert 'role="alert"' in banner and "Step “Find the VIP” failed" in text_of(banner)
    find = part(page, "step-find")
    assert html.unescape(part(find, "step-error")).count(message) == 1  # in full, line break too
    assert re.search(r'<details data-remember="step-find" open>', find)  # opened for you
    assert not re.search(r'<details data-remember="step-pause" open>', page)


def test_inputs_and_outputs_are_json_the_viewer_can_read(alice_client, version):
    run = run_of(version)
    data = {"data": [{"id": "01H", "attributes": {"email": "vip@example.com", "tags": [1, 2]}}]}
    record(run, "find", input={"page_size": 10}, output=data)
    find = part(page_of(alice_client, run), "step-find")
    boxes = re.findall(
        r'<pre class="json" data-json data-json-id="([^"]+)"[^>]*>(.*?)</pre>', find, re.S
    )
    assert [(name, json.loads(html.unescape(text))) for name, text in boxes] == [
        ("find-step-input", {"page_size": 10}),
        ("find-step-output", data),
    ]


def test_huge_outputs_are_cut_on_the_page(alice_client, version):
    run = run_of(version)
    record(run, "find", output={"data": ["x" * 1000] * 200})
    find = part(page_of(alice_client, run), "step-find")
    assert "Export JSON has all of it" in find
    assert len(find) < 120_000


@pytest.mark.parametrize(
    "where",
    [
        {"input": {"api_key": SECRET}},
        {"input": {"note": f"the key is {SECRET}"}},
        {"output": {"data": {"headers": {"Authorization": f"Klaviyo-API-Key {SECRET}"}}}},
        {"output": {"api_key": "plain-secret-value"}},
        {"error": f"Klaviyo refused {SECRET}"},
    ],
    ids=["input field", "input text", "output", "output field", "error"],
)
def test_a_secret_in_step_data_never_shows(alice_client, version, where):
    run = run_of(version, status=Run.Status.FAILED, error=f"Failed with {SECRET}")
    step = record(run, "find", status=StepRun.Status.FAILED, **where)
    attempt(step, error=f"401 for {SECRET}", path=f"/api/profiles?key={SECRET}")
    for page in (page_of(alice_client, run), page_of(alice_client, run, live="1")):
        assert SECRET not in page
        assert "abcdef123456" not in page
        assert "plain-secret-value" not in page


# --- Live updates -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING])
def test_the_live_part_polls_while_the_run_goes_on(alice_client, version, status):
    run = run_of(version, status=status)
    response = alice_client.get(reverse("run_detail", args=[run.pk]), {"live": "1"})
    fragment = response.content.decode()
    assert fragment.lstrip().startswith('<div id="run-live"')
    assert "<html" not in fragment and "<body" not in fragment
    assert f'hx-get="{reverse("run_detail", args=[run.pk])}?live=1"' in fragment
    assert 'hx-trigger="every 2s"' in fragment and 'hx-swap="outerHTML"' in fragment
    assert "no-cache" in response["Cache-Control"]
    assert 'hx-trigger="every 2s"' in page_of(alice_client, run)  # the first page polls too


@pytest.mark.parametrize("status", Run.FINISHED)
def test_polling_stops_once_the_run_has_ended(alice_client, version, status):
    run = run_of(version, status=status)
    fragment = page_of(alice_client, run, live="1")
    assert 'id="run-live"' in fragment
    assert "hx-trigger" not in fragment and "hx-get" not in fragment


def test_the_live_part_has_the_status_the_steps_and_their_records(alice_client, version):
    run = run_of(version, status=Run.Status.RUNNING)
    attempt(record(run, "find", output={"data": []}), request_id="req-live")
    fragment = page_of(alice_client, run, live="1")
    assert text_of(part(fragment, "run-status")) == "Running"
    assert "req-live" in part(fragment, "step-find")
    assert "Cancel run" in fragment


@pytest.mark.parametrize("live", ["0", "yes", "1' OR 1=1", "<script>", "9" * 500])
def test_other_live_values_get_the_whole_page(alice_client, version, live):
    page = page_of(alice_client, run_of(version), live=live)
    assert "<html" in page


def test_a_waiting_run_says_what_it_waits_for_and_until_when(alice_client, version):
    wake = timezone.now() + timedelta(seconds=40)
    run = run_of(version, status=Run.Status.WAITING, waiting_for="Klaviyo's rate limit",
                 wake_at=wake)  # fmt: skip
    record(run, "find")
    record(run, "pause", status=StepRun.Status.WAITING, took=None,
           state={"waiting_for": "Klaviyo's rate limit"})  # fmt: skip
    banner = text_of(part(page_of(alice_client, run), "run-waiting"))
    local = timezone.localtime(wake)
    assert banner.startswith(f"Waiting for Klaviyo's rate limit until {local:%H:%M:%S} (in ")
    assert re.search(r"\(in (39|40) s\)\.$", banner)
    assert "waiting for Klaviyo's rate limit" in text_of(
        part(page_of(alice_client, run), "step-pause")
    )


def test_a_delay_that_names_its_end_is_not_said_twice():
    from builder.selectors.run_detail import waiting_words

    now = timezone.now()
    run = Run(status=Run.Status.WAITING, waiting_for="a delay until 2030-01-01 09:00:00 UTC",
              wake_at=now + timedelta(hours=3))  # fmt: skip
    assert waiting_words(run, now) == ("Waiting for a delay until 2030-01-01 09:00:00 UTC (in 3 h)")


@pytest.mark.parametrize(
    ("ms", "words"),
    [(None, ""), (0.4, "0 ms"), (340, "340 ms"), (2400, "2.4 s"), (59_900, "59.9 s"),
     (60_000, "1 min"), (192_000, "3 min 12 s"), (7_500_000, "2 h 5 min")],
)  # fmt: skip
def test_durations_read_as_words(ms, words):
    assert duration_words(ms) == words


# --- Header, replays and actions ----------------------------------------------------------------


def test_the_header_names_the_workflow_version_trigger_and_times(alice_client, version):
    run = run_of(version, seconds=12.5)
    page = page_of(alice_client, run)
    link = part(page, "run-workflow")
    assert reverse("workflow_editor", args=[version.workflow_id]) in link
    assert "Welcome VIPs" in link
    assert "version 1" in page
    assert text_of(part(page, "run-trigger")) == "Manual"
    assert text_of(part(page, "run-duration")) == "12.5 s"
    assert text_of(part(page, "run-status")) == "Succeeded"
    assert 'class="badge badge-run-succeeded"' in part(page, "run-status")
    assert f'href="{reverse("run_list")}"' in page
    assert f'href="{reverse("run_list")}?workflow={version.workflow_id}"' in page
    assert f'href="{reverse("run_export", args=[run.pk])}"' in page


def test_a_test_of_a_draft_step_reads_its_one_step_draft(alice_client, workflow):
    one_step = {**DOCUMENT, "steps": [DOCUMENT["steps"][0]]}
    run = Run.objects.create(
        workspace=workflow.workspace, workflow=workflow, status=Run.Status.SUCCEEDED,
        trigger_kind=Run.Trigger.TEST, test_step="find", test_definition=one_step,
    )  # fmt: skip
    record(run, "find", output={"data": []})
    page = page_of(alice_client, run)
    assert "a test of the draft's step <code>find</code>" in page
    assert [name for name in ids_in(page) if name.startswith("step-") and name[5:] in ORDER] == [
        "step-find"
    ]
    assert "replay-form" not in ids_in(page)  # a draft's test is tested again, not replayed


def test_a_replay_links_to_its_original_and_the_original_to_its_replays(alice_client, version):
    original = run_of(version, status=Run.Status.FAILED)
    record(original, "find")
    record(original, "gate", status=StepRun.Status.FAILED, error="boom")
    replay = run_of(version, trigger_kind=Run.Trigger.REPLAY, replay_of=original,
                    replay_from="gate")  # fmt: skip
    record(replay, "find", at=-3600, state={"reused_from": original.pk})
    record(replay, "gate", at=1)
    page = page_of(alice_client, replay)
    replay_of = part(page, "run-replay-of")
    assert text_of(replay_of) == f"Replay of run {original.pk} (from step “gate”)"
    assert reverse("run_detail", args=[original.pk]) in replay_of
    find = part(page, "step-find")
    assert f"reused from run {original.pk}" in text_of(part(find, "step-reused"))
    assert "<rect" not in find  # its times are the original's: no bar on this run's timeline
    assert text_of(part(page, "run-trigger")) == "Replay"
    back = part(page_of(alice_client, original), "run-replays")
    assert text_of(back) == f"Replayed as run {replay.pk}"
    assert reverse("run_detail", args=[replay.pk]) in back


def test_a_replay_from_the_start_says_so(alice_client, version):
    original = run_of(version)
    replay = run_of(version, trigger_kind=Run.Trigger.REPLAY, replay_of=original)
    assert "(from the start)" in text_of(part(page_of(alice_client, replay), "run-replay-of"))


def test_a_finished_run_offers_replay_export_and_delete(alice_client, version):
    run = run_of(version, status=Run.Status.FAILED)
    record(run, "find", status=StepRun.Status.FAILED, error="boom")
    page = page_of(alice_client, run)
    form = part(page, "replay-form")
    assert f'action="{reverse("run_replay", args=[run.pk])}"' in form
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    assert '<option value="failed_step" selected>' in form  # a step failed: start there
    assert '<option value="start">From the start</option>' in form
    assert '<input type="hidden" name="version" value="original">' in form  # only v1 exists
    assert re.search(r'<button type="submit" class="btn btn-primary">Replay</button>', form)
    delete = part(page, "delete-run")
    assert delete.startswith("<details") and "Delete run…" in delete
    assert f'action="{reverse("run_delete", args=[run.pk])}"' in delete
    assert "csrfmiddlewaretoken" in delete and ">Delete run</button>" in delete
    assert "cancel-form" not in ids_in(page)
    assert "confirm(" not in page


def test_a_run_without_a_failed_step_replays_from_the_start(alice_client, version):
    run = run_of(version)
    record(run, "find")
    form = part(page_of(alice_client, run), "replay-form")
    assert '<option value="start" selected>' in form
    assert re.search(r'<option value="failed_step" disabled>', form)


def test_the_replay_form_offers_the_current_version_when_it_is_another(
    alice_client, workflow, version
):
    run = run_of(version)
    version_of(workflow, number=2)
    form = part(page_of(alice_client, run), "replay-form")
    assert '<select id="replay-version" name="version">' in form
    assert '<option value="original" selected>The version it ran (v1)</option>' in form
    assert '<option value="current">The current published version (v2)</option>' in form


@pytest.mark.parametrize("status", [Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING])
def test_a_run_in_progress_offers_cancel_only(alice_client, version, status):
    run = run_of(version, status=status)
    page = page_of(alice_client, run)
    cancel = part(page, "cancel-form")
    assert f'action="{reverse("run_cancel", args=[run.pk])}"' in cancel
    assert "csrfmiddlewaretoken" in cancel and ">Cancel run</button>" in cancel
    assert "replay-form" not in ids_in(page)
    assert "delete-run" not in ids_in(page)


def test_a_cancel_already_asked_for_says_so(alice_client, version):
    run = run_of(version, status=Run.Status.RUNNING, cancel_requested=True)
    page = page_of(alice_client, run)
    assert "run-cancel-requested" in ids_in(page)
    assert "disabled>Cancel requested</button>" in part(page, "cancel-form")


def test_the_replay_form_posts_what_the_replay_view_reads(alice_client, version):
    from builder.forms.runs import ReplayForm

    run = run_of(version)
    form = part(page_of(alice_client, run), "replay-form")
    starts = set(
        re.findall(r'<option value="([^"]+)"', form.split('name="start"')[1].split("</select>")[0])
    )
    assert starts == {value for value, _ in ReplayForm.base_fields["start"].choices}


# --- Isolation and cost -------------------------------------------------------------------------


def test_someone_from_another_workspace_gets_404(client_for, charlie, charlie_workspace, version):
    run = run_of(version, status=Run.Status.RUNNING)
    client = client_for(charlie, charlie_workspace)
    assert client.get(reverse("run_detail", args=[run.pk])).status_code == 404
    assert client.get(reverse("run_detail", args=[run.pk]), {"live": "1"}).status_code == 404


def fifty_steps(workflow) -> Run:
    document = {
        **DOCUMENT,
        "steps": [
            {"key": f"step_{n}", "action": "KLAVIYO_GET_PROFILES", "input": {}} for n in range(50)
        ],
    }
    version = version_of(workflow, document)
    run = run_of(version, seconds=60)
    payload = {"data": [{"id": f"01H{n}", "attributes": {"email": f"p{n}@example.com",
               "properties": {"note": "x" * 40}}} for n in range(12)]}  # fmt: skip
    for n in range(50):
        query = {"filter": f"equals(email,'p{n}@example.com')", "page_size": 20, "pad": "y" * 900}
        step = record(run, f"step_{n}", position=n, at=n, took=1, input=query, output=payload)
        attempt(step, request_id=f"req-{n}")
    return run


def test_fifty_steps_take_a_fixed_number_of_queries(
    alice_client, workflow, django_assert_max_num_queries
):
    run = fifty_steps(workflow)
    page_of(alice_client, run)  # warm: sessions, templates
    with django_assert_max_num_queries(12):
        page = page_of(alice_client, run)
    assert page.count('data-testid="step-attempts"') == 50
    with django_assert_max_num_queries(12):
        page_of(alice_client, run, live="1")


def test_the_timeline_reads_in_three_queries(workflow, django_assert_num_queries):
    run = fifty_steps(workflow)
    run = Run.objects.select_related("workflow__published_version", "version").get(pk=run.pk)
    with django_assert_num_queries(3):  # steps, attempts, replays
        timeline = run_timeline(run)
    assert len(timeline.steps) == 50
    assert all(len(step.record.attempts) == 1 for step in timeline.steps)


# --- A run the engine made ----------------------------------------------------------------------


def test_the_page_of_a_run_the_engine_executed(alice, alice_client, alice_workspace):
    document = {
        "format": "stepbuilder.workflow/1",
        "name": "Built-ins only",
        "trigger": {"type": "manual"},
        "steps": [
            {"key": "prep", "action": "builtin.set",
             "input": {"values": {"emails": ["a@example.com", "b@example.com"],
                                  "api_key": SECRET}}},
            {"key": "each", "action": "builtin.set", "input": {"values": {"email": "{{ item }}"}},
             "for_each": {"items": "{{ steps.prep.data.emails }}"}},
            {"key": "never", "action": "builtin.set", "input": {"values": {}},
             "run_if": {"all": [{"left": "{{ steps.prep.data.emails | length }}", "op": "equals",
                                 "right": 0}]}},
        ],
    }  # fmt: skip
    workflow, problems = workflow_create(workspace=alice_workspace, user=alice, definition=document)
    assert [p for p in problems if p.severity == "error"] == []
    version = workflow_publish(workflow=workflow, user=alice)
    run = Run.objects.create(workspace=alice_workspace, workflow=workflow, version=version)
    run_execute(run.pk)
    run.refresh_from_db()
    assert run.status == Run.Status.SUCCEEDED, run.error
    page = page_of(alice_client, run)
    assert text_of(part(part(page, "step-each"), "step-items-summary")) == ("2 items: 2 succeeded")
    assert "Skipped" in part(page, "step-never")
    assert "skipped because" in text_of(part(page, "step-never")).lower()
    assert SECRET not in page
    assert "hx-trigger" not in page
