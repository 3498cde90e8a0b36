"""Benchmark Klaviyo polling: 10,000 new events turned into queued runs, time and requests used.

Run with `.venv/bin/python benchmarks/bench_polling.py` (`make bench` runs it; `--quick` uses
2,000 events). It sets up a fresh install in a throwaway DATA_DIR on the embedded default
(SQLite, the file-system broker) and starts one web process as `make run` does (gunicorn, one
worker, eight threads), so the sandbox, the app's Klaviyo stand-in, answers over real HTTP. A
sandbox connection (the demo store) gets one "Placed Order" event through the API, then a
workflow polling that metric is published and enabled; its cursor starts at the enable.

The new events are set-up, not measured: they are written straight into the sandbox's store in
bulk, as its demo seed writes (`seed/builder.py`), shaped as `api/handlers/events.py` `record`
stores them (the create-event API takes one request per event, the bulk-create job at most
1,000, each upserting its profile: minutes, not seconds). Their `created` times are distinct,
spread evenly over the SPREAD whole seconds after the enable's second, all in the past when the
polls begin. Klaviyo serves `datetime` in whole seconds, so 2,000 events share each second
(400 with `--quick`): the burst the page cursor exists for, and a newest second that the polls
after the last run read again (duplicates that start nothing), more than one poll's cap of it.

Measured: `poll()` called in-process on the TriggerState, as the worker's task does, until a
poll says `more=False` and finds nothing new; each poll goes over HTTP to the sandbox. No
worker runs, so every run stays queued and is counted, with its task message. Printed per
poll: found, started, duplicates, requests and seconds (all, the fetch over HTTP, writing the
runs); then the time to turn every event into a queued run, polls, HTTP requests (the sum of
`Polled.requests`, cross-checked with the sandbox account's `request_count`), events per
second and runs per request.

Targets, each with ratio = actual / target (<= 1 is ok): the time until every event has its
queued run <= 60 s for 10,000 (scaled for `--quick`); HTTP requests <= ceil(events / page
size) + polls, i.e. each page fetched once, plus one request a poll for what a poll may fetch
again (the page the cap cut when pages are smaller than the cap, the newest second once the
cursor has moved to it). Exits non-zero when an event was lost or taken twice, a run from before
the enable started, a run has no task message, or a target is missed.
"""

from __future__ import annotations

import base64
import json
import math
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from webserver import free_port, serve, site_setup  # noqa: E402 - benchmarks/ is on the path

EVENTS = 10_000
QUICK_EVENTS = 2_000
TARGET_SECONDS = 60.0  # for EVENTS; scaled by the count
SPREAD = 5  # seconds after the enable's second that the new events fill
CONNECTION = "Klaviyo sandbox"
METRIC = "Placed Order"


def polling_workflow() -> tuple[Any, Any, Any]:
    """Make a sandbox connection, one event, then an enabled polling workflow.

    Return (workflow, its TriggerState, the connection).
    """
    from builder.models import TriggerState, Workspace
    from builder.services.accounts import user_signup
    from builder.services.workflows import workflow_create, workflow_publish, workflow_set_enabled
    from integrations.services import connection_create_sandbox, connection_run_action

    user = user_signup(email="bench@example.com", password="bench-password-1", name="Bench")
    workspace = Workspace.objects.get(memberships__user=user)
    connection = connection_create_sandbox(workspace=workspace, user=user, name=CONNECTION)
    made = connection_run_action(
        connection=connection, key="KLAVIYO_CREATE_EVENT",
        params={"email": "before@example.com", "metric_name": METRIC, "properties": {"n": -1}},
    )  # fmt: skip
    assert made.successful, made.error
    time.sleep(1.05)  # Klaviyo's times are whole seconds: the cursor's second is taken whole
    document = {
        "format": "stepbuilder.workflow/1",
        "name": "New orders",
        "trigger": {"type": "klaviyo_poll", "connection": CONNECTION, "source": "metric_event",
                    "metric": METRIC, "every_minutes": 1},
        "steps": [{"key": "note", "action": "builtin.set", "input": {"values": {"seen": True}}}],
    }  # fmt: skip
    workflow, problems = workflow_create(workspace=workspace, user=user, definition=document)
    assert not [p for p in problems if p.severity == "error"], problems
    workflow_publish(workflow=workflow, user=user)
    workflow.refresh_from_db()
    workflow_set_enabled(workflow=workflow, enabled=True)
    state = TriggerState.objects.get(workflow=workflow)
    assert state.armed and state.cursor.get("target"), (state.last_error, state.cursor)
    return workflow, state, connection


def events_write(connection: Any, after: str, count: int) -> tuple[set[str], float]:
    """Write `count` new events of the metric into the sandbox's store.

    Return their ids and the seconds the write took. Their `created` times are distinct and
    spread evenly over the SPREAD seconds after the cursor's second (it waits until those are
    past); the `datetime` they are served with is that time in whole seconds, as `record`
    stores it. The profiles are the demo store's, taken in turn (their `last_event_date` is left
    as it was: polling does not read it).
    """
    from django.db import transaction
    from django.utils import timezone

    from integrations.klaviyo_sandbox import ids
    from integrations.klaviyo_sandbox.api import store
    from integrations.klaviyo_sandbox.api.context import iso
    from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource

    account = SandboxAccount.objects.get(pk=connection.sandbox_account_id)
    metric = store.of_type(account, "metric").get(attributes__name=METRIC)
    profiles = list(store.of_type(account, "profile").values_list("resource_id", flat=True))
    start = datetime.fromisoformat(after) + timedelta(seconds=1)
    span = timedelta(seconds=SPREAD)
    time.sleep(max(0.0, (start + span - timezone.now()).total_seconds()) + 0.1)
    rng = random.Random(7)
    rows = []
    for n in range(count):
        moment = start + span * (n + 0.5) / count
        rows.append(SandboxResource(
            account=account, type="event", resource_id=ids.new_id("event"),
            attributes={"timestamp": int(moment.timestamp()), "datetime": iso(moment),
                        "uuid": str(uuid.UUID(int=rng.getrandbits(128))),
                        "event_properties": {"$value": 10 + n % 90, "OrderId": f"BENCH{n:05d}",
                                             "n": n}},
            relationships={"metric": metric.resource_id, "profile": profiles[n % len(profiles)]},
            created=moment, updated=moment,
        ))  # fmt: skip
    began = time.perf_counter()
    with transaction.atomic():
        SandboxResource.objects.bulk_create(rows, batch_size=500)
    return {row.resource_id for row in rows}, time.perf_counter() - began


def messaged_runs(folder: Path) -> list[int]:
    """Return the run ids the queued task messages carry (one a message, or a batch)."""
    ids: list[int] = []
    for path in folder.glob("*.msg"):
        message = json.loads(path.read_text())
        args = json.loads(base64.b64decode(message["body"]))[0]
        task = message["headers"]["task"]
        if task == "builder.tasks.run_execute":
            ids.append(args[0])
        elif task == "builder.tasks.runs_execute":
            ids.extend(args[0])
    return ids


class Split:
    """Time the poll's two halves: the fetch over HTTP, and the runs written from its items.

    It wraps the two names `polling` calls; the wrappers add a clock read each, nothing else.
    """

    def __init__(self, polling: Any) -> None:
        self.fetch = self.runs = 0.0
        fetch, runs = polling.connection_run_action, polling.runs_from_items

        def timed_fetch(**kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fetch(**kwargs)
            finally:
                self.fetch += time.perf_counter() - began

        def timed_runs(**kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return runs(**kwargs)
            finally:
                self.runs += time.perf_counter() - began

        polling.connection_run_action, polling.runs_from_items = timed_fetch, timed_runs

    def take(self) -> tuple[float, float]:
        """Return (fetch, runs) seconds since the last take."""
        taken, self.fetch, self.runs = (self.fetch, self.runs), 0.0, 0.0
        return taken


def request_count(connection: Any) -> int:
    from integrations.klaviyo_sandbox.models import SandboxAccount

    return SandboxAccount.objects.get(pk=connection.sandbox_account_id).request_count


def line(name: str, value: float, target: float | None, unit: str, fmt: str = ".1f") -> bool:
    """Print a value against its target, ratio = value / target (<= 1 is ok)."""
    if target is None:
        print(f"   {name:<40} {value:10{fmt}} {unit}   (for information)")
        return True
    ratio = value / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    print(f"   {name:<40} {value:10{fmt}} {unit}   target <= {target:{fmt}} {unit}   "
          f"ratio {ratio:5.2f}  {verdict}")  # fmt: skip
    return ratio <= 1


@dataclass
class Poll:
    polled: Any
    seconds: float
    fetch: float
    runs: float


def poll_until_done(state_id: int, count: int, cap: int) -> tuple[list[Poll], float | None]:
    """Poll as the worker's task does until a poll has no more and finds nothing new.

    Return the polls and the seconds until every event had started its run (None: never).
    """
    from builder.models import TriggerState
    from builder.triggers import polling

    split = Split(polling)
    polls: list[Poll] = []
    all_in_s, started = None, 0
    print(f"   {'poll':>4} {'found':>6} {'started':>7} {'dupl.':>6} {'req.':>4} {'more':>5} "
          f"{'seconds':>8} {'fetch':>6} {'runs':>6}")  # fmt: skip
    began = time.perf_counter()
    limit = math.ceil(count / cap) * 2 + 5  # a runaway loop stops here (and fails the checks)
    while len(polls) < limit:
        one = time.perf_counter()
        state = TriggerState.objects.select_related("workflow").get(pk=state_id)
        polled = polling.poll(state)
        poll = Poll(polled, time.perf_counter() - one, *split.take())
        polls.append(poll)
        started += polled.started
        print(f"   {len(polls):>4} {polled.found:>6} {polled.started:>7} {polled.duplicates:>6} "
              f"{polled.requests:>4} {polled.more!s:>5} {poll.seconds:8.2f} {poll.fetch:6.2f} "
              f"{poll.runs:6.2f}", flush=True)  # fmt: skip
        if polled.error or polled.skipped:
            print(f"   poll {len(polls)}: {polled.error or polled.skipped}")
            break
        if all_in_s is None and started >= count:
            all_in_s = time.perf_counter() - began
        if not polled.more and polled.found == 0:
            break
    return polls, all_in_s


def problems_of(workflow: Any, new_ids: set[str], data: Path) -> list[str]:
    """Check that every new event started exactly one queued run, with its task message."""
    from builder.models import Run, TriggerEvent

    count = len(new_ids)
    runs = Run.objects.filter(workflow=workflow)
    queued = runs.filter(status=Run.Status.QUEUED, trigger_kind=Run.Trigger.KLAVIYO_POLL).count()
    items = list(
        TriggerEvent.objects.filter(workflow=workflow, kind=TriggerEvent.Kind.ITEM).values_list(
            "external_id", "run_id"
        )
    )
    taken = [external_id for external_id, _ in items]
    wanted = {f"event:{resource_id}" for resource_id in new_ids}
    run_ids = set(runs.values_list("pk", flat=True))
    deadline = time.monotonic() + 5  # batched task messages go out a moment later
    while True:
        messaged = set(messaged_runs(data / "broker" / "queue"))
        if run_ids <= messaged or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print(f"   {queued:,} queued runs ({len(run_ids):,} in all), {len(set(taken)):,} distinct "
          f"events taken, {len(run_ids & messaged):,} runs with a task message")  # fmt: skip
    problems = []
    if queued != count or len(run_ids) != count:
        problems.append(f"{queued} queued runs ({len(run_ids)} in all), not {count}")
    if wanted - set(taken):
        problems.append(f"LOST: {len(wanted - set(taken))} events never started a run")
    if len(taken) != len(set(taken)):
        problems.append(f"DOUBLED: {len(taken) - len(set(taken))} events were taken twice")
    if set(taken) - wanted:
        problems.append(f"{len(set(taken) - wanted)} runs of events from before the enable")
    if any(run_id is None for _, run_id in items):
        problems.append("some taken events have no run")
    if run_ids - messaged:
        problems.append(f"{len(run_ids - messaged)} queued runs have no task message")
    return problems


def measure(count: int, target_seconds: float, data: Path) -> int:
    from django.conf import settings

    from builder.triggers import polling
    from integrations.klaviyo_sandbox.models import SandboxResource

    began = time.perf_counter()
    workflow, state, connection = polling_workflow()
    after = state.cursor["after"]
    setup_s = time.perf_counter() - began
    new_ids, write_s = events_write(connection, after, count)
    cap = max(1, settings.TRIGGER_POLL_MAX_ITEMS)
    page = min(
        cap, settings.TRIGGER_POLL_PAGE_SIZE or 10**6, polling._page_size("KLAVIYO_GET_EVENTS")
    )
    stored = SandboxResource.objects.filter(
        account_id=connection.sandbox_account_id, type="event"
    ).count()
    print(f"== Klaviyo polling of {count:,} new events, embedded default (SQLite, file broker), "
          f"the sandbox over HTTP")  # fmt: skip
    print(
        f"   set-up {setup_s:.1f} s (a sandbox with the demo store; enabled at {after}), "
        f"{count:,} events written in {write_s:.1f} s: {stored:,} events in the account"
    )
    print(f"   at most {cap} items a poll (TRIGGER_POLL_MAX_ITEMS), pages of {page}; "
          f"seconds of each poll: all, fetching over HTTP, writing runs")  # fmt: skip

    requests_before = request_count(connection)
    polls, all_in_s = poll_until_done(state.pk, count, cap)
    counted = request_count(connection) - requests_before
    requests = sum(p.polled.requests for p in polls)
    started = sum(p.polled.started for p in polls)
    total_s = sum(p.seconds for p in polls)
    print(f"   {'all':>4} {sum(p.polled.found for p in polls):>6} {started:>7} "
          f"{sum(p.polled.duplicates for p in polls):>6} {requests:>4} {'':>5} {total_s:8.2f} "
          f"{sum(p.fetch for p in polls):6.2f} {sum(p.runs for p in polls):6.2f}")  # fmt: skip

    elapsed = all_in_s if all_in_s is not None else total_s
    bound = math.ceil(count / page) + len(polls)
    ok = line(f"all {count:,} events into queued runs", elapsed, target_seconds, "s")
    line("all polls, those re-reading included", total_s, None, "s")
    line("polls", len(polls), None, "", "d")
    ok &= line("HTTP requests (sum of Polled.requests)", requests, bound, "", "d")
    print(f"   {'':<40} bound = ceil({count:,} / page size {page}) + {len(polls)} polls; "
          f"the sandbox counted {counted}")  # fmt: skip
    line("events into queued runs per second", started / elapsed, None, "/s")
    line("runs started per request", started / max(1, requests), None, "")
    idle = [p for p in polls if p.polled.started == 0]
    print(f"   {'':<40} {sum(p.polled.requests for p in idle)} request(s) in {len(idle)} poll(s) "
          f"started nothing: {sum(p.polled.duplicates for p in idle):,} events re-read "
          f"({sum(p.seconds for p in idle):.1f} s)")  # fmt: skip
    problems = problems_of(workflow, new_ids, data)
    if counted != requests:
        problems.append(f"the sandbox counted {counted} requests, the polls said {requests}")
    for problem in problems:
        print(f"   {problem}")
    return 0 if ok and not problems else 1


def main() -> int:
    quick = "--quick" in sys.argv
    count = QUICK_EVENTS if quick else EVENTS
    target_seconds = TARGET_SECONDS * count / EVENTS
    data = tempfile.TemporaryDirectory(prefix="bench-polling-")
    port = free_port()
    site_setup(data.name, port)
    server = serve(port)
    try:
        return measure(count, target_seconds, Path(data.name))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
