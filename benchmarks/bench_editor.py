"""Benchmark the workflow editor's server time: the page, the largest form, validation, search.

Run with `.venv/bin/python benchmarks/bench_editor.py` (`make bench` runs it). It sets up a fresh
install in a throwaway DATA_DIR (SQLite, the built-in Klaviyo sandbox), builds a realistic
25-step workflow (a manual trigger with an `email` field, Klaviyo actions with their example
inputs, ids and emails mapped from the trigger and earlier steps, every step on one sandbox
connection) and measures, median and p95:

- the editor page of that workflow through Django's test client (the whole view: middleware,
  validation, every step card's form, the template), 30 requests after 3 warm-ups.
  Target <= 150 ms.
- the largest action form: `FormRenderer.form` for the action, with its example input or with
  every optional field filled, that takes longest. Target <= 50 ms.
- `workflow_validate` of the 25-step workflow. Target <= 20 ms.
- the action picker's search, `search_steps(query)`, worst median over a few queries.
  Target <= 5 ms. Printed too: the picker's htmx results response (for information).

The wall-clock median is held against each target; the line below it gives the p95 and the
median CPU time of this process (on a busy machine the wall time runs well above the CPU time).
Exits non-zero when a target is missed.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGE_TARGET_MS = 150.0
FORM_TARGET_MS = 50.0
VALIDATE_TARGET_MS = 20.0
SEARCH_TARGET_MS = 5.0
WARMUPS = 3
RUNS = 30
QUERIES = ("", "profile", "add profile to list", "campaign send", "zzz")
CONNECTION = "Klaviyo sandbox"

# The 25 steps: key, action and the fields mapped from the trigger or earlier steps (the
# others keep the action's example input). `find`, `lists`, ... return lists of resources.
EMAIL = "{{ trigger.email }}"


def first(step: str) -> str:
    """Return a reference to the id of the first resource an earlier list step returned."""
    return f"{{{{ steps.{step}.data.data[0].id }}}}"


STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("find", "KLAVIYO_GET_PROFILES", {"filter": 'equals(email,"{{ trigger.email }}")'}),
    ("upsert", "KLAVIYO_CREATE_OR_UPDATE_PROFILE", {"email": EMAIL}),
    ("lists", "KLAVIYO_GET_LISTS", {}),
    ("add", "KLAVIYO_ADD_PROFILE_TO_LIST",
     {"list_id": first("lists"), "profile_ids": [first("find")]}),
    ("profile", "KLAVIYO_GET_PROFILE", {"profile_id": first("find")}),
    ("profile_lists", "KLAVIYO_GET_PROFILE_LISTS", {"profile_id": first("find")}),
    ("segments", "KLAVIYO_GET_PROFILE_SEGMENTS", {"profile_id": first("find")}),
    ("event", "KLAVIYO_CREATE_EVENT", {"email": EMAIL}),
    ("subscribe", "KLAVIYO_SUBSCRIBE_PROFILES", {}),
    ("update", "KLAVIYO_UPDATE_PROFILE", {"profile_id": first("find")}),
    ("campaigns", "KLAVIYO_GET_CAMPAIGNS", {}),
    ("campaign", "KLAVIYO_GET_CAMPAIGN", {"campaign_id": first("campaigns")}),
    ("clone", "KLAVIYO_CREATE_CAMPAIGN_CLONE", {"campaign_id": first("campaigns")}),
    ("new_campaign", "KLAVIYO_CREATE_CAMPAIGN", {}),
    ("list_profiles", "KLAVIYO_GET_LIST_PROFILES", {"list_id": first("lists")}),
    ("tags", "KLAVIYO_GET_TAGS", {}),
    ("tag", "KLAVIYO_CREATE_TAG_RELATIONSHIPS", {"tag_id": first("tags")}),
    ("metrics", "KLAVIYO_GET_METRICS", {}),
    ("aggregates", "KLAVIYO_QUERY_METRIC_AGGREGATES", {"metric_id": first("metrics")}),
    ("templates", "KLAVIYO_GET_TEMPLATES", {}),
    ("render", "KLAVIYO_CREATE_TEMPLATE_RENDER", {"template_id": first("templates")}),
    ("catalog_item", "KLAVIYO_CREATE_CATALOG_ITEM", {}),
    ("back_in_stock", "KLAVIYO_CREATE_BACK_IN_STOCK_SUBSCRIPTION", {"email": EMAIL}),
    ("coupon_code", "KLAVIYO_CREATE_COUPON_CODE", {}),
    ("unsubscribe", "KLAVIYO_UNSUBSCRIBE_PROFILES_BULK",
     {"emails": [EMAIL], "list_id": first("lists")}),
]  # fmt: skip


def setup() -> tempfile.TemporaryDirectory:
    """Point Django at a throwaway DATA_DIR (a fresh SQLite database), set it up and migrate."""
    data = tempfile.TemporaryDirectory(prefix="bench-editor-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="builder.settings",
        DATA_DIR=data.name,
        SECURE_HTTPS="false",
        DEBUG="false",
        LOG_LEVEL="WARNING",
        ALLOWED_HOSTS="testserver",  # the test client's host
        KLAVIYO_SANDBOX_ENABLED="true",
    )
    for name in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data


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


def build_workflow() -> tuple[Any, Any, Any]:
    """Create the user, workspace, sandbox connection and 25-step workflow; return them."""
    from builder.services.accounts import user_signup
    from builder.services.workflows import workflow_create
    from integrations.klaviyo.catalog import all_actions, example_input
    from integrations.services import connection_create_sandbox

    user = user_signup(email="bench@example.com", password="bench-password-123", name="Bench")
    workspace = user.memberships.get().workspace
    connection_create_sandbox(workspace=workspace, user=user, name=CONNECTION)
    actions = all_actions()
    steps = [
        {"key": key, "action": action, "connection": CONNECTION,
         "input": {**example_input(actions[action]), **mapped}}
        for key, action, mapped in STEPS
    ]  # fmt: skip
    document = {
        "name": "VIP welcome, 25 steps",
        "trigger": {"type": "manual", "input_schema": {
            "type": "object", "required": ["email"],
            "properties": {"email": {"type": "string", "format": "email"}}}},
        "steps": steps,
    }  # fmt: skip
    workflow, problems = workflow_create(workspace=workspace, user=user, definition=document)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise SystemExit(f"the benchmark's workflow has errors: {errors}")
    assert len(workflow.definition["steps"]) == 25  # noqa: S101
    return user, workspace, workflow


def report(name: str, timings: Timings, target: float | None, detail: str = "") -> bool:
    """Print a median (and p95) against its target when it has one; return whether it meets it.

    The CPU time beside it tells a busy machine (wall well above CPU) from a slow path.
    """
    value = statistics.median(timings)
    spread = (
        f"p95 {p95(timings):.3f} ms, CPU median {statistics.median(timings.cpu):.3f} ms, "
        f"{len(timings)} runs"
    )
    if target is None:
        print(f"{name:<40} {value:8.3f} ms   (for information)")
        ok = True
    else:
        ratio = value / target
        ok = ratio <= 1
        verdict = "ok" if ok else "SLOW"
        print(
            f"{name:<40} {value:8.3f} ms   target {target:6.1f} ms   ratio {ratio:5.2f}  {verdict}"
        )
    print(f"{'':<40} {spread}{'; ' + detail if detail else ''}")
    return ok


def main() -> int:
    """Run every benchmark and print the numbers; exit non-zero if one misses its target."""
    data = setup()
    try:
        from django.test import Client
        from django.urls import reverse

        from builder.forms.schema import FormRenderer
        from builder.selectors import search_steps
        from builder.services.workflows import workflow_validate
        from integrations.klaviyo.catalog import all_actions, example_input
        from integrations.klaviyo.catalog.examples import filled_value

        user, workspace, workflow = build_workflow()
        client = Client()
        client.force_login(user)
        editor_url = reverse("workflow_editor", args=[workflow.pk])
        picker_url = reverse("action_picker", args=[workflow.pk]) + "?part=results&q=profile"

        def page() -> None:
            response = client.get(editor_url)
            assert response.status_code == 200, response.status_code  # noqa: S101

        def picker() -> None:
            response = client.get(picker_url, headers={"HX-Request": "true"})
            assert response.status_code == 200, response.status_code  # noqa: S101

        # The page shows every step's card closed but the one asked for (here the last),
        # whose form is rendered; opening another card loads its form (htmx, `?card=`).
        largest = workflow.definition["steps"][-1]["key"]
        open_url = f"{editor_url}?step={largest}"
        card_url = f"{editor_url}?card={largest}"

        def page_open() -> None:
            response = client.get(open_url)
            assert response.status_code == 200, response.status_code  # noqa: S101

        def card() -> None:
            response = client.get(card_url, headers={"HX-Request": "true"})
            assert response.status_code == 200, response.status_code  # noqa: S101

        page_ms = timed(page)
        page_open_ms = timed(page_open)
        card_ms = timed(card)
        picker_ms = timed(picker)
        size = len(client.get(editor_url).content)
        open_size = len(client.get(open_url).content)

        # Every action's form, with its example input and filled: a quick look for the slowest
        # (best of 5, to leave out scheduler noise), then the proper measurement of the 5 slowest.
        forms = []
        for action in all_actions().values():
            for kind, value in (
                ("example", example_input(action)),
                ("filled", filled_value(action.input_schema)),
            ):

                def render(action=action, value=value) -> str:
                    return FormRenderer(id_prefix="f-x").form(action.input_schema, value)

                glance = min(timed(render, runs=5, warmups=1))
                forms.append((glance, action.key, kind, render))
        forms.sort(key=lambda entry: entry[0], reverse=True)
        slowest = max(
            ((timed(render), key, kind, len(render())) for _, key, kind, render in forms[:5]),
            key=lambda entry: statistics.median(entry[0]),
        )
        form_ms, form_key, form_kind, form_size = slowest

        definition = workflow.definition
        validate_ms = timed(lambda: workflow_validate(definition=definition, workspace=workspace))

        search = {query: timed(lambda q=query: search_steps(q), runs=100) for query in QUERIES}
        worst_query = max(search, key=lambda q: statistics.median(search[q]))

        ok = [
            report("editor page, 25 steps (median)", page_ms, PAGE_TARGET_MS,
                   f"{size / 1024:.0f} KiB of HTML"),
            report("editor page, 25 steps, one open (median)", page_open_ms, PAGE_TARGET_MS,
                   f"{open_size / 1024:.0f} KiB of HTML, step {largest} open"),
            report("opening a step's card (htmx, median)", card_ms, None),
            report("largest action form (median)", form_ms, FORM_TARGET_MS,
                   f"{form_key} ({form_kind} input), {form_size / 1024:.0f} KiB of HTML"),
            report("workflow_validate, 25 steps (median)", validate_ms, VALIDATE_TARGET_MS),
            report("search_steps(query) (worst median)", search[worst_query], SEARCH_TARGET_MS,
                   ", ".join(f"{q!r} {statistics.median(t):.3f}" for q, t in search.items())),
            report("action picker, htmx results 'profile'", picker_ms, None),
        ]  # fmt: skip
    finally:
        data.cleanup()
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
