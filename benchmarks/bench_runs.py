"""Benchmark run history: the runs list, a run's page and prune, over 100k runs and 1M step runs.

Run with `.venv/bin/python benchmarks/bench_runs.py` (`make bench` runs it; under 2 minutes on a
2-core machine). For SQLite and, when it answers on 127.0.0.1:5432, PostgreSQL, it sets up a
fresh install, measures the runs list of an empty history, then seeds a large one and measures
the same pages again, side by side:

- the history: one workspace with 20 published workflows (19 of 10 steps, one of 50), 100,000
  runs over the last 60 days (85 % succeeded, 10 % failed with an error text, 3 % canceled, 2 %
  needing review, the newest few still in progress; triggers mixed), 500 editor test runs
  besides; each run has its trigger payload (a unique email, names, a plan, an order id), the
  search terms production writes for it (`builder.runsearch.terms_of`) and 10 step runs with
  small input and output: 1,000,000 in all. The newest 50-step run, whose page is measured, has
  1-2 KB inputs and outputs and one or two HTTP attempts per step. A second workspace holds 3,000
  runs over the same days, one with the same email as a run of the first: no page of the first
  shows them, nor may they cost it time. SQLite gets no ANALYZE (the app never runs one);
  PostgreSQL gets the VACUUM ANALYZE its autovacuum would have run.
- server time of the runs list, through Django's test client logged in as a member: the first
  page, page 50 (following the cursors), filtered (status, workflow, trigger, a week, workflow
  and status) and searched (an email, an email's prefix, a word of an error, a run id, a word
  no run has). Target <= 200 ms each.
- the page of the 50-step run and its live fragment (`?live=1`). Target <= 150 ms.
- prune of the 100,000 runs: `runs_prune` as on the day all of them have passed the 30 days'
  retention, while another thread writes a run with its search terms every 50 ms (as the web
  and the workers do) and a third reads the runs list. Target: the longest batch
  (`longest_batch_ms`, one transaction) and the longest that a write waited < 1000 ms each; on
  SQLite the second is the real lock test, one writer at a time.

Medians of 20 requests after 2 warm-ups are held against the targets; the line below gives the
p95 and the median CPU time of this process. Exits non-zero when a target is missed. `--quick`
seeds a tenth (a smoke test); `--explain` prints the plan of each measured page's slowest query.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LIST_TARGET_MS = 200.0
DETAIL_TARGET_MS = 150.0
LOCK_TARGET_MS = 1000.0
WARMUPS = 2
RUNS = 20
PG_URL = "postgres://postgres@127.0.0.1:5432/stepbuilder_bench_runs"
DAYS = 60
OTHER_RUNS = 3_000
TEST_RUNS = 500
CHUNK = 10_000

# 40 first names and 40 last names: 1,600 pairs, each in about 60 emails of 100,000.
FIRST = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas",
    "Mia", "Levi", "Amelia", "Asher", "Harper", "James", "Evelyn", "Leo", "Luna", "Ethan", "Nora",
    "Henry", "Chloe", "Kai", "Aria", "Jack", "Ellie", "Owen", "Zoe", "Ezra", "Lily", "Hudson",
    "Hazel", "Luca", "Layla", "Ivan", "Ana", "Omar", "Yara", "Jonas",
)  # fmt: skip
LAST = (
    "Smith", "Johnson", "Garcia", "Brown", "Jones", "Miller", "Davis", "Lopez", "Wilson", "Moore",
    "Taylor", "Thomas", "Lee", "Martin", "White", "Harris", "Clark", "Lewis", "Walker", "Young",
    "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson", "Hill", "Campbell",
    "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Parker", "Collins",
    "Edwards", "Stewart", "Morris",
)  # fmt: skip
DOMAINS = ("example.com", "example.org", "mail.example.net", "shop.example.io")
TRIGGERS = ("manual", "api", "schedule", "webhook", "klaviyo_webhook", "klaviyo_poll", "replay")
TRIGGER_WEIGHTS = (15, 55, 70, 85, 93, 98, 100)  # cumulative
# The failing step and its error; the run's error is "Step “<key>” failed: <error>".
FAILURES = (
    ("add", "List “XyZ123” not found."),
    ("add", "List “XyZ123” not found."),
    ("upsert", "Klaviyo answered 429 Too Many Requests; gave up after 5 retries."),
    ("event", "Invalid input: “email” is not a valid email address."),
    ("find", "Klaviyo answered 503 Service Unavailable."),
)
REVIEW = ("subscribe", "Klaviyo did not answer; the request may have reached it.")
# The 10 steps of the small workflows, with their input (%s: the trigger's email).
STEPS = (
    ("find", "KLAVIYO_GET_PROFILES", '{"filter": "equals(email,\\"%s\\")"}'),
    ("upsert", "KLAVIYO_CREATE_OR_UPDATE_PROFILE", '{"email": "%s"}'),
    ("greeting", "builtin.set", '{"values": {"greeting": "Hello %s"}}'),
    ("add", "KLAVIYO_ADD_PROFILE_TO_LIST", '{"list_id": "XyZ123", "profile_ids": ["%s"]}'),
    ("event", "KLAVIYO_CREATE_EVENT", '{"email": "%s", "metric": "Signed up"}'),
    ("profile", "KLAVIYO_GET_PROFILE", '{"profile_id": "%s"}'),
    ("tag", "builtin.set", '{"values": {"tag": "%s"}}'),
    ("update", "KLAVIYO_UPDATE_PROFILE", '{"profile_id": "%s", "properties": {"vip": true}}'),
    ("subscribe", "KLAVIYO_SUBSCRIBE_PROFILES", '{"emails": ["%s"], "list_id": "XyZ123"}'),
    ("done", "builtin.set", '{"values": {"done": "%s"}}'),
)
OUTPUT = '{"data": {"type": "profile", "id": "01J%010d", "attributes": {"ok": true}}}'


# --- Measuring -----------------------------------------------------------------------------------


class Timings(list):
    """Wall-clock times of the runs in ms (the list), and the process's CPU time in `cpu`."""

    cpu: list[float]


def timed(call: Callable[[], Any], runs: int = RUNS, warmups: int = WARMUPS) -> Timings:
    """Return the time of each of `runs` calls in ms, after `warmups` untimed ones."""
    for _ in range(warmups):
        call()
    timings = Timings()
    timings.cpu = []
    for _ in range(runs):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        timings.append((time.perf_counter() - started) * 1000)
        timings.cpu.append((time.process_time() - cpu) * 1000)
    return timings


def p95(timings: list[float]) -> float:
    """Return the 95th percentile (nearest rank)."""
    ordered = sorted(timings)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def line(name: str, value: float, target: float | None, unit: str = "ms") -> bool:
    """Print a value against its target (when it has one); return whether it meets it."""
    if target is None:
        print(f"   {name:<44} {value:9.1f} {unit}   (for information)", flush=True)
        return True
    ratio = value / target
    verdict = "ok" if ratio <= 1 else "SLOW"
    print(f"   {name:<44} {value:9.1f} {unit}   target {target:6.0f} {unit}   "
          f"ratio {ratio:5.2f}  {verdict}", flush=True)  # fmt: skip
    return ratio <= 1


def report(name: str, timings: Timings, target: float | None, detail: str = "") -> bool:
    ok = line(name, statistics.median(timings), target)
    spread = f"p95 {p95(timings):.1f} ms, CPU median {statistics.median(timings.cpu):.1f} ms"
    print(f"   {'':<44} {spread}{'; ' + detail if detail else ''}", flush=True)
    return ok


def explain(sql: str, params: Any) -> str:
    """Return the database's plan of one query (executed, with times, on PostgreSQL)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(row[-1] for row in cursor.fetchall())


def slowest_query(call: Callable[[], Any]) -> tuple[float, str, Any]:
    """Make the call once; return the time, SQL and parameters of its slowest query."""
    from django.db import connection

    queries: list[tuple[float, str, Any]] = []

    def timing(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - started) * 1000, sql, params))

    with connection.execute_wrapper(timing):
        call()
    return max(queries, key=lambda query: query[0])


# --- Seeding -------------------------------------------------------------------------------------


class Writer:
    """Bulk inserts in the fastest way each database has: executemany, or COPY on PostgreSQL."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.postgres = connection.vendor == "postgresql"

    def stamp(self, moment: datetime) -> str:
        """A UTC datetime (naive) as Django stores it: `str()` on SQLite, with its zone on PG."""
        return f"{moment}+00:00" if self.postgres else str(moment)

    def insert(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> None:
        names = ", ".join(columns)
        if self.postgres:
            with (
                self.connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.connection.executemany(
                f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - our constants
                rows,
            )

    def finish(self) -> None:
        """Leave the database as at rest: ids past those written, PostgreSQL's statistics
        gathered (as autovacuum would), the written pages flushed (no checkpoint runs during
        the measurements) and SQLite's write-ahead log emptied."""
        if not self.postgres:
            with self.connection.cursor() as cursor:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return
        with self.connection.cursor() as cursor:
            for table in ("builder_run", "builder_steprun"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                cursor.execute(f"SELECT setval({sequence}, max(id)) FROM {table}")  # noqa: S608
            tables = "builder_run, builder_steprun, builder_stepattempt, builder_runsearchterm"
            cursor.execute(f"VACUUM ANALYZE {tables}")
            cursor.execute("CHECKPOINT")


RUN_COLUMNS = (
    "id", "workspace_id", "workflow_id", "version_id", "status", "trigger_kind", "trigger_payload",
    "error", "waiting_for", "cancel_requested", "created_at", "started_at", "finished_at", "claim",
    "test_samples", "test_step", "replay_from", "duration_ms",
)  # fmt: skip
STEP_COLUMNS = (
    "id", "run_id", "step_key", "position", "status", "input", "output", "error", "state",
    "started_at", "finished_at",
)  # fmt: skip
ATTEMPT_COLUMNS = (
    "step_run_id", "number", "method", "path", "http_status", "duration_ms", "rate_limit_wait_ms",
    "request_id", "error", "started_at",
)  # fmt: skip
TERM_COLUMNS = ("run_id", "workspace_id", "term")


def payload_of(rng: random.Random, n: int) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "email": f"{first.lower()}.{last.lower()}{n}@{rng.choice(DOMAINS)}",
        "first_name": first,
        "last_name": last,
        "plan": rng.choice(("free", "pro", "gold", "vip")),
        "order_id": f"ORD-{rng.randrange(10**6):06d}",
    }


def big_step(position: int) -> tuple[str, str]:
    """The key and action of the 50-step workflow's step at `position`."""
    key, action, _ = STEPS[position % len(STEPS)]
    return f"{key}_{position + 1}", action


def big_io(position: int, email: str) -> tuple[str, str]:
    """A 50-step run's input and output: 1-2 KB each, like a Klaviyo profile."""
    attributes = {
        "email": email, "first_name": "Olivia", "last_name": "Smith", "organization": "Bench",
        "title": "Buyer", "location": {"city": "Lisbon", "country": "Portugal", "zip": "1000"},
        "properties": {f"field_{i}": f"value {i} of step {position}"
                       for i in range(12 + position % 20)},
    }  # fmt: skip
    step_input = {"data": {"type": "profile", "attributes": attributes}}
    profile = f"01J{position:023d}"
    output = {
        "data": {"type": "profile", "id": profile, "attributes": attributes},
        "links": {"self": f"https://a.klaviyo.com/api/profiles/{profile}/"},
    }
    return json.dumps(step_input), json.dumps(output)


class History:
    """What the seeding made that the measurements need: ids, emails, counts."""

    def __init__(self) -> None:
        self.emails: list[str] = []
        self.detail_run = 0
        self.in_progress: list[int] = []
        self.next_run_id = 1
        self.next_step_id = 1


LIVE = ("queued", "running", "waiting")


def step_rows(
    writer: Writer, history: History, *, run_id: int, keys: list[tuple[str, str]], status: str,
    stop_at: int, error: str, began: datetime, email: str, big: bool,
) -> tuple[list[tuple], list[tuple]]:  # fmt: skip
    """Return a run's StepRun rows and (for a 50-step run) StepAttempt rows.

    The steps before `stop_at` succeeded; that one failed, needs review or is in progress, and
    those after it were skipped (or canceled); a run in progress has no records past it.
    """
    steps, attempts = [], []
    for position, (key, _action) in enumerate(keys):
        step_status, step_error = "succeeded", ""
        if position == stop_at and status == "failed":
            step_status, step_error = "failed", error.split(": ", 1)[1]
        elif position == stop_at and status == "needs_review":
            step_status, step_error = "needs_review", REVIEW[1]
        elif position >= stop_at and status in LIVE:
            if position > stop_at or status == "queued":
                break
            step_status = status
        elif position >= stop_at:
            step_status = "canceled" if status == "canceled" else "skipped"
        step_began = began + timedelta(milliseconds=41 * position)
        ended = writer.stamp(step_began + timedelta(milliseconds=38))
        if big:
            step_input, output = big_io(position, email)
        else:
            step_input, output = STEPS[position][2] % email, OUTPUT % (run_id * 10 + position)
        step_id = history.next_step_id
        history.next_step_id += 1
        steps.append((
            step_id, run_id, key, position, step_status, step_input,
            output if step_status == "succeeded" else None, step_error, "{}",
            writer.stamp(step_began), None if step_status in LIVE else ended,
        ))  # fmt: skip
        # A third of a big run's steps were rate-limited once (429) and retried.
        for number in range(1, 2 + (position % 3 == 0)) if big else ():
            retried = number == 1 and position % 3 == 0
            attempts.append((
                step_id, number, "POST", f"/api/profiles/01J{position:023d}/",
                429 if retried else 200, 35.0, 1000.0 if number == 2 else 0.0,
                f"req-{step_id}-{number}", "Rate limited; retrying after 1 s." if retried else "",
                writer.stamp(step_began),
            ))  # fmt: skip
    return steps, attempts


def seed_workspace(
    writer: Writer, history: History, rng: random.Random, *, workspace_id: int,
    workflows: list[tuple[int, int]], big: tuple[int, int] | None, count: int, now: datetime,
    tests: int = 0, in_progress: int = 0,
) -> None:  # fmt: skip
    """Write `count` runs (and `tests` editor tests among them) over the last DAYS days, oldest
    first, with their steps and search terms; every 20th of the history runs the 50-step
    workflow `big`, and the newest `in_progress` have not ended."""
    from django.db import transaction

    from builder.runsearch import terms_of

    total = count + tests
    spacing = timedelta(days=DAYS) / total
    big_every = count // 20 if big else 0
    for chunk in range(0, total, CHUNK):
        runs, steps, attempts, terms = [], [], [], []
        for n in range(chunk, min(chunk + CHUNK, total)):
            run_id = history.next_run_id
            history.next_run_id += 1
            created = now - spacing * (total - n) - timedelta(microseconds=rng.randrange(1, 10**6))
            payload = payload_of(rng, run_id)
            is_big = bool(big_every) and n % big_every == big_every - 1
            is_test = bool(tests) and not is_big and n % (total // tests) == 0
            workflow_id, version_id = big if is_big and big else rng.choice(workflows)
            keys = [big_step(p) for p in range(50)] if is_big else [s[:2] for s in STEPS]
            roll, status, error, stop_at = rng.random(), "succeeded", "", len(keys)
            if n >= total - in_progress:
                status = rng.choice(LIVE)
                stop_at = 3
                history.in_progress.append(run_id)
            elif is_big:
                history.detail_run = run_id  # the measured run: every step succeeded
            elif roll > 0.98:
                status, stop_at = "needs_review", 8
                error = f"Step “{REVIEW[0]}” needs review: {REVIEW[1]}"
            elif roll > 0.95:
                status, stop_at, error = "canceled", rng.randrange(1, 10), "Canceled."
            elif roll > 0.85:
                key, message = rng.choice(FAILURES)
                status, stop_at = "failed", [k for k, _ in keys].index(key)
                error = f"Step “{key}” failed: {message}"
            pick = rng.randrange(100)
            trigger = TRIGGERS[next(i for i, weight in enumerate(TRIGGER_WEIGHTS) if pick < weight)]
            began = created + timedelta(milliseconds=30)
            duration = None if status in LIVE else len(keys) * 41 + rng.randrange(200)
            runs.append((
                run_id, workspace_id, workflow_id, version_id, status,
                "test" if is_test else trigger, json.dumps(payload), error, "", False,
                writer.stamp(created), None if status == "queued" else writer.stamp(began),
                writer.stamp(began + timedelta(milliseconds=duration)) if duration else None,
                1, "{}", "", "", duration,
            ))  # fmt: skip
            if not is_test:
                history.emails.append(payload["email"])
                # As production writes them: the payload's at the start, the error's at the end.
                terms += [(run_id, workspace_id, t) for t in terms_of(payload)]
                terms += [(run_id, workspace_id, t) for t in terms_of(error=error)]
            more_steps, more_attempts = step_rows(
                writer, history, run_id=run_id, keys=keys[:1] if is_test else keys,
                status=status, stop_at=stop_at, error=error, began=began,
                email=payload["email"], big=is_big,
            )  # fmt: skip
            steps += more_steps
            attempts += more_attempts
        with transaction.atomic():
            writer.insert("builder_run", RUN_COLUMNS, runs)
            writer.insert("builder_steprun", STEP_COLUMNS, steps)
            writer.insert("builder_stepattempt", ATTEMPT_COLUMNS, attempts)
            writer.insert("builder_runsearchterm", TERM_COLUMNS, terms)


def workflows_create(workspace: Any, user: Any, count: int) -> list[Any]:
    """Create `count` workflows of 10 steps and one of 50, each with its published version."""
    from builder.models import Workflow, WorkflowVersion

    made = []
    for n in range(count + 1):
        keys = [big_step(p) for p in range(50)] if n == count else [s[:2] for s in STEPS]
        document = {
            "format": "stepbuilder.workflow/1",
            "name": "Onboarding, 50 steps" if n == count else f"Welcome series {n + 1}",
            "trigger": {"type": "manual", "input_schema": {"type": "object", "properties": {
                "email": {"type": "string", "format": "email"}}}},
            "steps": [
                {"key": key, "action": action, "input": {"values": {"x": "{{ trigger.email }}"}}}
                if action == "builtin.set" else
                {"key": key, "action": action, "connection": "Klaviyo", "input": {}}
                for key, action in keys
            ],
        }  # fmt: skip
        workflow = Workflow.objects.create(
            workspace=workspace, name=document["name"], definition=document, created_by=user
        )
        version = WorkflowVersion.objects.create(
            workflow=workflow, number=1, definition=document, published_by=user
        )
        workflow.published_version = version
        workflow.save(update_fields=["published_version"])
        made.append(workflow)
    return made


# --- One configuration ---------------------------------------------------------------------------


def one(quick: bool, show_plans: bool, out: Path) -> int:
    """Set up a fresh install in this process's environment, measure, write the figures to `out`."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from builder.models import Run, StepRun, Workspace
    from builder.runsearch import index_run
    from builder.selectors.runs import RunFilters, cursor_read, run_page
    from builder.services.accounts import membership_add, user_signup
    from builder.services.runs import runs_prune
    from builder.workspaces import SESSION_KEY

    call_command("migrate", verbosity=0)
    count = 10_000 if quick else 100_000
    owner = user_signup(email="alice@example.com", password="bench-password-123", name="Alice")
    workspace = owner.memberships.get().workspace
    member = user_signup(email="bob@example.com", password="bench-password-123", name="Bob")
    membership_add(workspace=workspace, email=member.email)
    other_user = user_signup(email="charlie@example.com", password="bench-password-123")
    other = other_user.memberships.get().workspace
    workflows = workflows_create(workspace, owner, 19)
    other_workflows = workflows_create(other, other_user, 4)[:4]

    def logged_in() -> Client:
        """Return a client logged in as Bob, a member, with Alice's workspace chosen."""
        client = Client()
        client.force_login(member)
        session = client.session
        session[SESSION_KEY] = workspace.pk
        session.save()
        return client

    client = logged_in()
    results: dict[str, float] = {}
    targets: dict[str, float | None] = {}
    ok = True
    list_url = reverse("run_list")

    def page(url: str, rows: int | None = None) -> Callable[[], None]:
        def call() -> None:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if rows is not None:
                found = response.content.count(b'data-testid="run-row"')
                assert found == rows, f"{url}: {found} rows, expected {rows}"

        return call

    def measure(name: str, call: Callable[[], None], target: float, detail: str = "") -> float:
        nonlocal ok
        timings = timed(call)
        results[name] = statistics.median(timings)
        targets[name] = target
        ok &= report(name, timings, target, detail)
        if show_plans:
            ms, sql, params = slowest_query(call)
            print(f"      slowest query {ms:.1f} ms: {sql[:600]} {params}")
            print("      " + explain(sql, params).replace("\n", "\n      "), flush=True)
        return results[name]

    vendor = connection.vendor
    print(f"-- {vendor}: empty history (the workspace and its 20 workflows, no runs)", flush=True)
    empty = {
        "first page": measure("runs list, first page, empty", page(list_url, 0), LIST_TARGET_MS),
        "status": measure("runs list, status=failed, empty",
                          page(f"{list_url}?status=failed", 0), LIST_TARGET_MS),
        "search": measure("runs list, search, empty",
                          page(f"{list_url}?q=olivia", 0), LIST_TARGET_MS),
    }  # fmt: skip

    began = time.perf_counter()
    now = timezone.now().astimezone(UTC).replace(tzinfo=None)
    rng = random.Random(13)
    writer, history = Writer(), History()
    versions = [(w.pk, w.published_version_id) for w in workflows]
    seed_workspace(
        writer, history, rng, workspace_id=workspace.pk, workflows=versions[:-1],
        big=versions[-1], count=count, now=now, tests=TEST_RUNS, in_progress=5,
    )  # fmt: skip
    ours = history.emails
    history.emails = []
    seed_workspace(
        writer, history, rng, workspace_id=other.pk, big=None,
        workflows=[(w.pk, w.published_version_id) for w in other_workflows],
        count=OTHER_RUNS // (10 if quick else 1), now=now,
    )  # fmt: skip
    # One email in both workspaces: the search in the first must find only its own run.
    target_email = ours[len(ours) // 3]
    shared = Run.objects.filter(workspace=other).order_by("id")[10]
    index_run(shared.pk, other.pk, payload={"email": target_email})
    writer.finish()
    runs = Run.objects.count()
    steps = StepRun.objects.count()
    print(f"-- {vendor}: seeded {runs:,} runs, {steps:,} step runs in "
          f"{time.perf_counter() - began:.0f} s", flush=True)  # fmt: skip

    one_workflow = workflows[3].pk
    week_from = (now - timedelta(days=21)).date()
    week_to = (now - timedelta(days=15)).date()
    prefix = target_email.split("@")[0].rstrip("0123456789")[:-2]  # "olivia.smi"
    prefix_rows = min(50, sum(1 for email in ours if email.startswith(prefix)))
    old_run = (
        Run.objects.filter(workspace=workspace)
        .exclude(trigger_kind="test")
        .order_by("id")[count // 4]
    )
    page_50_cursor = None  # what page 49's "Older runs" link carries
    for _ in range(49):
        position = cursor_read(page_50_cursor) if page_50_cursor else None
        page_50_cursor = run_page(workspace, RunFilters(), cursor=position).following

    print(f"-- {vendor}: {count:,} runs in the workspace", flush=True)
    full = None if quick else 50  # a tenth of the runs may not fill these pages
    cases = [
        ("runs list, first page", "", 50, empty["first page"]),
        ("runs list, page 50 (cursor)", f"cursor={page_50_cursor}", 50, None),
        ("runs list, status=failed", "status=failed", 50, empty["status"]),
        ("runs list, workflow=<one>", f"workflow={one_workflow}", 50, None),
        ("runs list, trigger=api", "trigger=api", 50, None),
        ("runs list, one week", f"since={week_from}&until={week_to}", 50, None),
        (
            "runs list, workflow + status=failed",
            f"workflow={one_workflow}&status=failed",
            full,
            None,
        ),
        ("search: an email (one run)", f"q={target_email}", 1, empty["search"]),
        (f"search: an email prefix ({prefix_rows} rows)", f"q={prefix}", prefix_rows, None),
        ("search: an error word (xyz123)", "q=xyz123", 50, None),
        ("search: a run id", f"q={old_run.pk}", 1, None),
        ("search: nothing matches", "q=zzyzx", 0, None),
        ("search + status: first name, failed", "q=olivia&status=failed", full, None),
    ]
    for name, query, rows, before in cases:
        detail = f"empty history: {before:.1f} ms" if before is not None else ""
        measure(name, page(f"{list_url}?{query}", rows), LIST_TARGET_MS, detail)

    detail_url = reverse("run_detail", args=[history.detail_run])
    size = len(client.get(detail_url).content)
    measure("run page, 50 steps", page(detail_url), DETAIL_TARGET_MS, f"{size / 1024:.0f} KiB")
    live = len(client.get(f"{detail_url}?live=1").content)
    measure("run page, 50 steps, ?live=1", page(f"{detail_url}?live=1"), DETAIL_TARGET_MS,
            f"{live / 1024:.0f} KiB")  # fmt: skip

    # Prune, with a write every 50 ms and the runs list read meanwhile from other threads.
    stop = threading.Event()
    waits: list[float] = []
    reads: list[float] = []
    workflow = workflows[0]

    def write() -> None:
        try:
            n = 0
            while not stop.is_set():
                n += 1
                started = time.perf_counter()
                payload = {"email": f"new{n}@example.com", "first_name": "New"}
                with transaction.atomic():
                    run = Run.objects.create(
                        workspace=workspace, workflow=workflow, trigger_kind="api",
                        version_id=workflow.published_version_id, trigger_payload=payload,
                    )  # fmt: skip
                    index_run(run.pk, workspace.pk, payload=payload)
                waits.append((time.perf_counter() - started) * 1000)
                stop.wait(max(0.0, 0.05 - (time.perf_counter() - started)))
        finally:
            connection.close()

    def read() -> None:
        reader = logged_in()
        try:
            while not stop.is_set():
                started = time.perf_counter()
                assert reader.get(list_url).status_code == 200
                reads.append((time.perf_counter() - started) * 1000)
                stop.wait(0.2)
        finally:
            connection.close()

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    began = time.perf_counter()
    days = Workspace.objects.get(pk=workspace.pk).run_retention_days
    pruned = runs_prune(now=timezone.now() + timedelta(days=days + 1))
    prune_s = time.perf_counter() - began
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    left = Run.objects.filter(workspace=workspace, pk__lt=history.next_run_id).count()
    assert left == len(history.in_progress), left  # runs in progress are kept, however old
    print(f"-- {vendor}: prune of {pruned.runs:,} runs ({pruned.steps:,} step runs) while a run "
          f"is written every 50 ms", flush=True)  # fmt: skip
    results["prune, wall time (s)"] = prune_s
    results["prune, longest batch"] = pruned.longest_batch_ms
    results["prune, longest write wait"] = max(waits)
    results["runs list during prune"] = statistics.median(reads)
    targets.update({"prune, longest batch": LOCK_TARGET_MS,
                    "prune, longest write wait": LOCK_TARGET_MS})  # fmt: skip
    line("prune, wall time", prune_s, None, "s")
    ok &= line("prune, longest batch (longest_batch_ms)", pruned.longest_batch_ms, LOCK_TARGET_MS)
    ok &= line("prune, longest wait of a concurrent write", max(waits), LOCK_TARGET_MS)
    print(f"   {'':<44} {len(waits)} writes, median {statistics.median(waits):.1f} ms, "
          f"p95 {p95(waits):.1f} ms", flush=True)  # fmt: skip
    line("runs list, first page, during the prune", statistics.median(reads), None)
    print(f"   {'':<44} {len(reads)} reads, p95 {p95(reads):.1f} ms, max {max(reads):.1f} ms")
    out.write_text(json.dumps({"results": results, "targets": targets, "ok": bool(ok)}))
    return 0 if ok else 1


# --- Both configurations -------------------------------------------------------------------------


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def configuration(database_url: str | None, args: argparse.Namespace) -> dict[str, Any] | None:
    with tempfile.TemporaryDirectory(prefix="bench-runs-") as data:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "builder.settings",
            "DATA_DIR": data,
            "SECURE_HTTPS": "false",
            "DEBUG": "false",
            "LOG_LEVEL": "WARNING",
            "ALLOWED_HOSTS": "testserver",  # the test client's host
        }
        for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
            env.pop(name, None)
        name = database_url.rsplit("/", 1)[1] if database_url else ""
        if database_url:
            env["DATABASE_URL"] = database_url
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name],
                           check=False, stderr=subprocess.DEVNULL)  # fmt: skip
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        out = Path(data) / "results.json"
        flags = [*(["--quick"] if args.quick else []), *(["--explain"] if args.explain else [])]
        try:
            subprocess.run([sys.executable, __file__, "--one", str(out), *flags],
                           cwd=ROOT, env=env, timeout=3600, check=False)  # fmt: skip
        finally:
            if database_url:
                subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                                name], check=False)  # fmt: skip
        return json.loads(out.read_text()) if out.exists() else None


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="seed 10,000 runs, not 100,000")
    parser.add_argument("--explain", action="store_true", help="print each page's slowest plan")
    args = parser.parse_args()
    if args.one:
        return one(args.quick, args.explain, args.one)
    began = time.perf_counter()
    figures = {"SQLite": configuration(None, args)}
    if reachable("127.0.0.1", 5432):
        figures["PostgreSQL"] = configuration(PG_URL, args)
    else:
        print("-- PostgreSQL: skipped (nothing answers on 127.0.0.1:5432)")
    print(f"-- side by side ({time.perf_counter() - began:.0f} s in all)")
    first = next((f for f in figures.values() if f), {"results": {}, "targets": {}})
    print(f"   {'(ms)':<44} " + "".join(f"{label:>12}" for label in figures) + "      target")
    for name in first["results"]:
        values = "".join(
            f"{f['results'][name]:12.1f}" if f else f"{'failed':>12}" for f in figures.values()
        )
        target = first["targets"].get(name)
        print(f"   {name:<44} {values}" + (f"   <= {target:.0f}" if target else ""))
    return 0 if all(f and f["ok"] for f in figures.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
