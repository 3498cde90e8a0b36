"""How workflows and runs look in the JSON API (docs/api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.urls import reverse

from builder.engine.definition import WorkflowProblem
from builder.models import Run, StepRun, Workflow
from builder.triggers.services import trigger_json


def problems_json(problems: list[WorkflowProblem]) -> list[dict[str, Any]]:
    return [problem.to_dict() for problem in problems]


def workflow_json(workflow: Workflow, problems: list[WorkflowProblem]) -> dict[str, Any]:
    version = workflow.published_version
    return {
        "id": workflow.pk,
        "name": workflow.name,
        "enabled": workflow.enabled,
        "published_version": version.number if version else None,
        "trigger": trigger_json(workflow),
        "definition": workflow.definition,
        "problems": problems_json(problems),
    }


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def run_summary_json(run: Run, counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    """A run without its steps; with `counts`, how many of its step records ended how."""
    summary = {
        "id": run.pk,
        "workflow": run.workflow_id,
        "version": run.version.number if run.version else None,
        "status": run.status,
        "trigger": run.trigger_kind,
        "error": run.error or None,
        "waiting_for": run.waiting_for or None,
        "wake_at": _time(run.wake_at),
        "created_at": _time(run.created_at),
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "duration_ms": run.duration_ms,
        "replay_of": run.replay_of_id,
        "replay_from": (run.replay_from or "start") if run.replay_of_id else None,
        "url": reverse("run_detail", args=[run.pk]),
    }
    if counts is not None:
        summary["steps"] = {
            status: counts.get(status, 0) for status in ("succeeded", "failed", "skipped")
        }
    return summary


def step_json(step: StepRun) -> dict[str, Any]:
    return {
        "key": step.step_key,
        "item": step.item_index,
        "status": step.status,
        "input": step.input,
        "output": step.output,
        "error": step.error or None,
        "skipped_because": step.state.get("skipped_because"),
        "reused_from": step.state.get("reused_from"),
        "started_at": _time(step.started_at),
        "finished_at": _time(step.finished_at),
        "attempts": [
            {
                "method": attempt.method,
                "path": attempt.path,
                "status": attempt.http_status,
                "duration_ms": attempt.duration_ms,
                "rate_limit_wait_ms": attempt.rate_limit_wait_ms,
                "request_id": attempt.request_id or None,
                "error": attempt.error or None,
            }
            for attempt in step.attempts.all()
        ],
    }


def run_json(run: Run) -> dict[str, Any]:
    steps = run.steps.prefetch_related("attempts").order_by("position", "item_index", "id")
    replays = list(run.replays.order_by("pk").values_list("pk", flat=True))
    return {
        **run_summary_json(run),
        "replays": replays,
        "steps": [step_json(step) for step in steps],
    }
