"""Replay a finished run: from its start, or from its failed step reusing the steps before it.

`replay_plan` says what a replay would do before anything happens, in particular which steps
that send, change consent or delete would run again (the confirmation names them); `run_replay`
carries the plan out. The replay is a new run (trigger "replay") linked to its original; the
records of the steps it reuses are copied into it before it is queued, so the executor finds them
finished and goes on from the failed step, as it does after a wait.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from django.db import transaction

from builder.engine.definition import Definition, parse_definition
from builder.engine.kinds import step_kind, step_title
from builder.models import Run, StepRun, WorkflowVersion
from builder.queue import run_execute_soon
from builder.runsearch import index_run
from builder.services.runs import payload_problems

StartFrom = Literal["start", "failed_step"]
VersionChoice = Literal["original", "current"]
START_CHOICES: tuple[StartFrom, ...] = ("start", "failed_step")
VERSION_CHOICES: tuple[VersionChoice, ...] = ("original", "current")
#: Side effects a replay asks before repeating.
CONFIRM_EFFECTS = {"send": "sends", "consent": "changes consent", "destructive": "deletes"}
#: A step record a replay from the failed step reuses as it is.
REUSABLE = (StepRun.Status.SUCCEEDED, StepRun.Status.SKIPPED)
#: A step record whose step may have reached Klaviyo: running it again repeats it.
HAPPENED = (StepRun.Status.SUCCEEDED, StepRun.Status.NEEDS_REVIEW, StepRun.Status.RUNNING)


class ReplayRefused(Exception):
    """The replay cannot be made as asked; the message says what to do instead."""


@dataclass(frozen=True)
class Repeat:
    """A step the replay would run again although it already sent, changed consent or deleted."""

    key: str
    name: str
    effect: str
    #: How many times it happened in the original (for-each items).
    times: int = 1

    @property
    def words(self) -> str:
        """The confirmation's line: "Send campaign 'Black Friday' again"."""
        again = "again" if self.times == 1 else f"again ({self.times} items)"
        return f"{self.name} {again}"

    def to_dict(self) -> dict[str, object]:
        return {"step": self.key, "name": self.name, "effect": self.effect, "times": self.times}


@dataclass
class ReplayPlan:
    original: Run
    version: WorkflowVersion
    #: The step key the replay starts at; "" for the start.
    start_from: str
    reused: list[StepRun] = field(default_factory=list)
    repeats: list[Repeat] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.repeats)


def _target(run: Run, version: VersionChoice) -> WorkflowVersion:
    if version == "current":
        current = run.workflow.published_version
        if current is None:
            raise ReplayRefused("The workflow has no published version now; publish it first.")
        return current
    assert run.version is not None  # noqa: S101 - checked by replay_plan
    return run.version


def _failed_record(records: list[StepRun]) -> StepRun:
    failing = (StepRun.Status.FAILED, StepRun.Status.NEEDS_REVIEW, StepRun.Status.CANCELED)
    for record in records:
        if record.status in failing:
            return record
    raise ReplayRefused("No step of this run failed; replay it from the start.")


def replay_plan(
    *, run: Run, start: StartFrom = "start", version: VersionChoice = "original"
) -> ReplayPlan:
    """Work out a replay of `run` without starting it; raise ReplayRefused when it cannot be."""
    if start not in START_CHOICES:
        raise ReplayRefused(f"Replay from one of: {', '.join(START_CHOICES)}.")
    if version not in VERSION_CHOICES:
        raise ReplayRefused(f"Replay on one of the versions: {', '.join(VERSION_CHOICES)}.")
    if run.version_id is None:
        raise ReplayRefused("A test of a draft step is not replayed; test the step again.")
    if not run.is_finished:
        raise ReplayRefused("The run is still in progress; wait for it to end or cancel it.")
    target = _target(run, version)
    definition: Definition = parse_definition(target.definition)[0]
    records = list(run.steps.order_by("position", "item_index", "id"))
    by_key: dict[str, list[StepRun]] = {}
    for record in records:
        by_key.setdefault(record.step_key, []).append(record)
    plan = ReplayPlan(original=run, version=target, start_from="")
    first = 0
    if start == "failed_step":
        failed = _failed_record(records)
        keys = [step.key for step in definition.steps]
        if failed.step_key not in keys:
            raise ReplayRefused(
                f"The failed step “{failed.step_key}” is not in version {target.number}; "
                "replay from the start."
            )
        first = keys.index(failed.step_key)
        plan.start_from = failed.step_key
        for step in definition.steps[:first]:
            plan.reused += [r for r in by_key.get(step.key, []) if r.status in REUSABLE]
        if target.pk == run.version_id:
            # The failed step's items that succeeded are not sent again.
            plan.reused += [
                r
                for r in by_key.get(failed.step_key, [])
                if r.item_index is not None and r.status in REUSABLE
            ]
    reused = {record.pk for record in plan.reused}
    for step in definition.steps[first:]:
        kind = step_kind(step.action)
        if kind is None or kind.side_effect not in CONFIRM_EFFECTS:
            continue
        happened = [
            r for r in by_key.get(step.key, []) if r.status in HAPPENED and r.pk not in reused
        ]
        if happened:
            name = step.name or step_title(step.action)
            plan.repeats.append(Repeat(step.key, name, kind.side_effect, len(happened)))
    problems = payload_problems(target, run.trigger_payload)
    if problems:
        raise ReplayRefused(
            f"The run's trigger data does not fit version {target.number}'s trigger: "
            + "; ".join(problem.message for problem in problems[:3])
        )
    return plan


def run_replay(*, plan: ReplayPlan) -> Run:
    """Start the planned replay: a queued run with the reused steps' records copied into it."""
    original = plan.original
    positions = {
        step.key: step.position for step in parse_definition(plan.version.definition)[0].steps
    }
    with transaction.atomic():
        replay = Run.objects.create(
            workspace_id=original.workspace_id,
            workflow_id=original.workflow_id,
            version=plan.version,
            trigger_kind=Run.Trigger.REPLAY,
            trigger_payload=original.trigger_payload,
            replay_of=original,
            replay_from=plan.start_from,
        )
        StepRun.objects.bulk_create(
            [
                StepRun(
                    run=replay,
                    step_key=record.step_key,
                    position=positions[record.step_key],
                    item_index=record.item_index,
                    status=record.status,
                    input=record.input,
                    output=record.output,
                    error=record.error,
                    state={**record.state, "reused_from": original.pk},
                    started_at=record.started_at,
                    finished_at=record.finished_at,
                )
                for record in plan.reused
            ]
        )
        index_run(replay.pk, replay.workspace_id, payload=replay.trigger_payload)
        transaction.on_commit(lambda: run_execute_soon(replay.pk))
    return replay
