"""The page of one run, read side: its steps in the version's order, drawn to scale on a timeline.

`run_timeline(run)` reads the run's records in a fixed number of queries (steps, attempts, the
runs replaying it), whatever the number of steps or for-each items, and returns plain rows the
template shows as they are. Everything shown passes through `redact` once more: inputs are
redacted when written, but outputs, errors and paths come from Klaviyo and from people.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from builder.engine.conditions import describe
from builder.engine.definition import Step, parse_definition
from builder.engine.kinds import step_title
from builder.engine.redaction import redact
from builder.models import Run, StepAttempt, StepRun

#: JSON past this many characters is cut on the page (Export JSON has all of it): a browser
#: stays quick, and the JSON tree of runs.js never gets more than this to fold.
MAX_JSON_CHARS = 100_000
#: For-each items shown under their step; beyond that only the ones that did not succeed.
MAX_ITEMS_SHOWN = 100
#: Replays of a run linked from its page (the runs list filtered by trigger has them all).
MAX_REPLAYS_SHOWN = 20
#: The statuses in which a run still changes: its page polls for news.
LIVE = (Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING)
#: What a replay "from the failed step" starts at (builder/services/replays.py).
FAILING = (StepRun.Status.FAILED, StepRun.Status.NEEDS_REVIEW, StepRun.Status.CANCELED)
#: The status a step of several records (for-each items) shows: the first one any item has.
STEP_STATUS_ORDER = (
    StepRun.Status.RUNNING,
    StepRun.Status.WAITING,
    StepRun.Status.PENDING,
    StepRun.Status.NEEDS_REVIEW,
    StepRun.Status.FAILED,
    StepRun.Status.CANCELED,
    StepRun.Status.SUCCEEDED,
    StepRun.Status.SKIPPED,
)
#: Steps with no record yet, while the run goes on and after it ended.
PENDING, NOT_REACHED = "pending", "not_reached"
PSEUDO_LABELS = {PENDING: "Pending", NOT_REACHED: "Not reached"}


# --- Small formatting helpers ---------------------------------------------------------------


@dataclass(frozen=True)
class JsonText:
    """Pretty-printed, redacted JSON; `truncated` when only the first MAX_JSON_CHARS are kept."""

    text: str
    size: int
    truncated: bool = False


def json_text(value: Any) -> JsonText | None:
    """Return `value` redacted and indented for the page; None when there is nothing."""
    if value is None:
        return None
    text = json.dumps(redact(value), indent=2, ensure_ascii=False, default=str)
    if len(text) > MAX_JSON_CHARS:
        return JsonText(text[:MAX_JSON_CHARS], len(text), truncated=True)
    return JsonText(text, len(text))


def duration_words(ms: float | None) -> str:
    """Return "340 ms", "2.4 s", "3 min 12 s" or "2 h 5 min"; "" for an unknown duration."""
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 59_950:
        return f"{ms / 1000:.1f} s"
    minutes, seconds = divmod(round(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def clock(moment: datetime, now: datetime) -> str:
    """Return "14:03:12" for a moment today, "Jul 3, 14:03:12" for another day (local time)."""
    local, today = timezone.localtime(moment), timezone.localtime(now)
    if local.date() == today.date():
        return f"{local:%H:%M:%S}"
    return f"{local:%b} {local.day}, {local:%H:%M:%S}"


def waiting_words(run: Run, now: datetime) -> str:
    """Say what a waiting run waits for and until when: "Waiting for Klaviyo's rate limit until
    14:03:12 (in 40 s)". "" for a run that is not waiting."""
    if run.status != Run.Status.WAITING:
        return ""
    reason = redact(run.waiting_for) or "its next step"
    words = f"Waiting for {reason}"
    if run.wake_at is None:
        return words
    if " until " not in f" {reason} ":  # "a delay until 2026-07-03 14:00:00 UTC" says it already
        words += f" until {clock(run.wake_at, now)}"
    left = round((run.wake_at - now).total_seconds())
    if left < 1:
        return f"{words} (any moment now)"
    return f"{words} (in {f'{left} s' if left < 60 else duration_words(left * 1000)})"


@dataclass(frozen=True)
class Bar:
    """Where a step sits on the run's timeline: offset and width in percent of the run's span.

    Drawn as an SVG <rect x=.. width=..>: attributes, not styles, which the
    Content-Security-Policy would block (builder/settings.py).
    """

    x: str
    width: str


@dataclass(frozen=True)
class Span:
    """The run from its start to its end (or now, while it goes on)."""

    start: datetime
    ms: float

    def bar(self, started: datetime | None, ended: datetime | None) -> Bar | None:
        if started is None or ended is None:
            return None
        left = min(max((started - self.start).total_seconds() * 1000 / self.ms * 100, 0), 99.5)
        width = (ended - started).total_seconds() * 1000 / self.ms * 100
        width = min(max(width, 0.5), 100 - left)
        return Bar(x=f"{left:.2f}%", width=f"{width:.2f}%")


def _ms(started: datetime | None, ended: datetime | None) -> float | None:
    if started is None or ended is None:
        return None
    return max((ended - started).total_seconds() * 1000, 0)


# --- The rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptRow:
    number: int
    method: str
    path: str
    http_status: int | None
    duration_ms: float
    rate_limit_wait_ms: float
    request_id: str
    error: str

    @property
    def status_class(self) -> str:
        """ "2xx", "4xx", "5xx" (or "" without an answer), for the status's colour."""
        return f"{self.http_status // 100}xx" if self.http_status else ""


@dataclass
class RecordRow:
    """One StepRun: a whole step, or one for-each item of it."""

    pk: int
    key: str
    item_index: int | None
    status: str
    status_label: str
    input: JsonText | None
    output: JsonText | None
    error: str
    skipped_because: str
    #: The run this record was copied from by a replay from the failed step.
    reused_from: int | None
    #: What a waiting step waits for ("Klaviyo's rate limit", "the Klaviyo job").
    waiting_for: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: float | None
    duration: str
    bar: Bar | None
    attempts: list[AttemptRow]
    is_open: bool = False

    @property
    def is_failing(self) -> bool:
        return self.status in FAILING

    @property
    def dom_id(self) -> str:
        """What names this record's JSON boxes for runs.js ("send-3", "lists-step")."""
        return f"{self.key}-{'step' if self.item_index is None else self.item_index}"


@dataclass
class StepRow:
    """One step of the version, with its record (or for-each items) if it got that far."""

    key: str
    title: str
    action: str
    action_title: str
    position: int
    #: The for-each list expression ("" when the step runs once).
    for_each: str
    #: Its `run if` in words ("runs if trigger.plan equals "gold""); "" when it always runs.
    run_if: str
    status: str
    status_label: str
    #: Whole-step records: the step's one record, or a for-each step's failure to read its list.
    records: list[RecordRow] = field(default_factory=list)
    items: list[RecordRow] = field(default_factory=list)
    #: For-each items left off the page (MAX_ITEMS_SHOWN) and how many there are in all.
    hidden_items: int = 0
    item_count: int = 0
    item_summary: str = ""
    duration: str = ""
    bar: Bar | None = None
    is_open: bool = False
    #: False for a record whose step is not in the definition (a draft changed under a test).
    in_definition: bool = True

    @property
    def record(self) -> RecordRow | None:
        return self.records[0] if self.records else None

    @property
    def reused_from(self) -> int | None:
        found = {row.reused_from for row in [*self.records, *self.items]}
        return found.pop() if len(found) == 1 else None

    @property
    def skipped_because(self) -> str:
        return self.record.skipped_because if self.record else ""

    @property
    def is_failing(self) -> bool:
        """Whether a record of it failed: where a replay "from the failed step" starts."""
        return any(row.is_failing for row in [*self.records, *self.items])

    @property
    def has_records(self) -> bool:
        return bool(self.records or self.items)


@dataclass(frozen=True)
class ReplayChoice:
    value: str
    label: str
    disabled: bool = False


@dataclass
class RunTimeline:
    run: Run
    steps: list[StepRow]
    is_live: bool
    error: str
    waiting: str
    duration: str
    #: The length of the timeline's axis: the run's start to its end, or to now.
    span: str
    trigger_payload: JsonText | None
    #: The runs replaying this one, oldest first (the first MAX_REPLAYS_SHOWN).
    replays: list[int]
    more_replays: bool
    #: The step a replay "from the failed step" would start at.
    failed_step: StepRow | None
    # What may be done to the run from its page.
    can_replay: bool
    can_cancel: bool
    can_delete: bool
    replay_starts: list[ReplayChoice]
    replay_start: str
    replay_versions: list[ReplayChoice]

    @property
    def step_count(self) -> int:
        return len(self.steps)


# --- Building them ----------------------------------------------------------------------------


def _status_label(status: str) -> str:
    if status in PSEUDO_LABELS:
        return PSEUDO_LABELS[status]
    try:
        return StepRun.Status(status).label
    except ValueError:
        return status


def _record_row(
    record: StepRun, attempts: list[StepAttempt], span: Span | None, now: datetime
) -> RecordRow:
    state = record.state if isinstance(record.state, dict) else {}
    in_progress = record.status in (StepRun.Status.RUNNING, StepRun.Status.WAITING)
    ended = record.finished_at or (now if in_progress else None)
    reused_from = state.get("reused_from")
    duration = _ms(record.started_at, ended)
    return RecordRow(
        pk=record.pk,
        key=record.step_key,
        item_index=record.item_index,
        status=record.status,
        status_label=_status_label(record.status),
        input=json_text(record.input),
        output=json_text(record.output),
        error=redact(record.error),
        skipped_because=redact(str(state.get("skipped_because") or "")),
        reused_from=reused_from if isinstance(reused_from, int) else None,
        waiting_for=redact(str(state.get("waiting_for") or ""))
        if record.status == StepRun.Status.WAITING
        else "",
        started_at=record.started_at,
        finished_at=record.finished_at,
        duration_ms=duration,
        duration=duration_words(duration),
        # A reused record keeps the original run's times, which lie before this run's start.
        bar=span.bar(record.started_at, ended) if span and reused_from is None else None,
        attempts=[
            AttemptRow(
                number=attempt.number,
                method=attempt.method,
                path=redact(attempt.path),
                http_status=attempt.http_status,
                duration_ms=attempt.duration_ms,
                rate_limit_wait_ms=attempt.rate_limit_wait_ms,
                request_id=attempt.request_id,
                error=redact(attempt.error),
            )
            for attempt in attempts
        ],
    )


#: The order of the counts in a for-each step's summary.
SUMMARY_ORDER = (
    StepRun.Status.SUCCEEDED,
    StepRun.Status.FAILED,
    StepRun.Status.NEEDS_REVIEW,
    StepRun.Status.CANCELED,
    StepRun.Status.SKIPPED,
    StepRun.Status.RUNNING,
    StepRun.Status.WAITING,
    StepRun.Status.PENDING,
)


def _item_summary(items: list[RecordRow]) -> str:
    """Say "12 items: 11 succeeded, 1 failed"."""
    counts = Counter(row.status for row in items)
    order = [*SUMMARY_ORDER, *sorted(set(counts) - set(SUMMARY_ORDER))]
    parts = ", ".join(
        f"{counts[status]} {_status_label(status).lower()}" for status in order if counts[status]
    )
    noun = "item" if len(items) == 1 else "items"
    return f"{len(items)} {noun}: {parts}"


def _step_row(
    step: Step | None,
    key: str,
    rows: list[RecordRow],
    *,
    span: Span | None,
    live: bool,
    position: int = 0,
) -> StepRow:
    if step is not None:
        title = step.name or step_title(step.action)
        entry = StepRow(
            key=key,
            title=title,
            action=step.action,
            action_title=step_title(step.action),
            position=step.position,
            for_each=step.for_each.items if step.for_each else "",
            run_if=describe(step.run_if) if step.run_if else "",
            status=PENDING if live else NOT_REACHED,
            status_label="",
        )
    else:
        entry = StepRow(
            key=key, title=key, action="", action_title="", position=position,
            for_each="", run_if="", status=NOT_REACHED, status_label="", in_definition=False,
        )  # fmt: skip
    entry.records = [row for row in rows if row.item_index is None]
    items = [row for row in rows if row.item_index is not None]
    if items or entry.for_each:
        entry.item_count = len(items)
        entry.item_summary = _item_summary(items) if items else ""
        shown = items[:MAX_ITEMS_SHOWN]
        shown += [row for row in items[MAX_ITEMS_SHOWN:] if row.status != StepRun.Status.SUCCEEDED]
        entry.items = shown[: MAX_ITEMS_SHOWN * 2]
        entry.hidden_items = len(items) - len(entry.items)
        first_failing = next((row for row in entry.items if row.is_failing), None)
        if first_failing is not None:
            first_failing.is_open = True
    if rows:
        present = {row.status for row in rows}
        entry.status = next((s for s in STEP_STATUS_ORDER if s in present), rows[0].status)
        starts = [row.started_at for row in rows if row.started_at]
        ends = [
            row.started_at + timedelta(milliseconds=row.duration_ms)
            for row in rows
            if row.started_at and row.duration_ms is not None
        ]
        if starts and ends:
            entry.duration = duration_words(_ms(min(starts), max(ends)))
            if span is not None and all(row.reused_from is None for row in rows):
                entry.bar = span.bar(min(starts), max(ends))
    entry.status_label = _status_label(entry.status)
    return entry


def _span(run: Run, records: list[StepRun], now: datetime) -> Span | None:
    own = [r for r in records if not (isinstance(r.state, dict) and r.state.get("reused_from"))]
    start = run.started_at or min((r.started_at for r in own if r.started_at), default=None)
    if start is None:
        return None
    end = run.finished_at if run.is_finished and run.finished_at else now
    end = max([end, *(r.finished_at for r in own if r.finished_at)])
    return Span(start=start, ms=max((end - start).total_seconds() * 1000, 1))


def definition_steps(run: Run) -> list[Step]:
    """Return the steps the run runs, in order: its version's, or its test's one-step draft."""
    document = run.version.definition if run.version_id else run.test_definition
    return parse_definition(document or {})[0].steps


def run_timeline(run: Run, *, now: datetime | None = None) -> RunTimeline:
    """Read `run`'s steps, items and attempts into the rows of its page (three queries).

    `run` comes with its workflow (and the workflow's published version) and version selected.
    """
    now = now or timezone.now()
    live = run.status in LIVE
    records = list(run.steps.order_by("position", "item_index", "id"))
    attempts: dict[int, list[StepAttempt]] = defaultdict(list)
    for attempt in StepAttempt.objects.filter(step_run__run=run).order_by("number", "id"):
        attempts[attempt.step_run_id].append(attempt)
    span = _span(run, records, now)
    by_key: dict[str, list[RecordRow]] = defaultdict(list)
    positions: dict[str, int] = {}
    for record in records:
        by_key[record.step_key].append(_record_row(record, attempts[record.pk], span, now))
        positions.setdefault(record.step_key, record.position)

    steps = [
        _step_row(step, step.key, by_key.pop(step.key, []), span=span, live=live)
        for step in definition_steps(run)
    ]
    # Records of steps the definition does not have (it cannot change under a run, but a test's
    # draft is stored with the run and could be read differently by a later version of the app).
    steps += [
        _step_row(None, key, rows, span=span, live=live, position=positions[key])
        for key, rows in by_key.items()
    ]
    failed_step = next((step for step in steps if step.is_failing), None)
    if failed_step is not None:
        failed_step.is_open = True

    duration_ms = run.duration_ms
    if duration_ms is None and run.started_at:
        duration_ms = _ms(run.started_at, run.finished_at or (now if live else None))
    replays = list(
        Run.objects.filter(replay_of=run, workspace_id=run.workspace_id)
        .order_by("id")
        .values_list("pk", flat=True)[: MAX_REPLAYS_SHOWN + 1]
    )
    return RunTimeline(
        run=run,
        steps=steps,
        is_live=live,
        error=redact(run.error),
        waiting=waiting_words(run, now),
        duration=duration_words(duration_ms),
        span=duration_words(span.ms) if span else "",
        trigger_payload=json_text(run.trigger_payload) if run.trigger_payload else None,
        replays=replays[:MAX_REPLAYS_SHOWN],
        more_replays=len(replays) > MAX_REPLAYS_SHOWN,
        failed_step=failed_step,
        can_replay=run.is_finished and run.version_id is not None,
        can_cancel=live,
        can_delete=run.is_finished,
        replay_starts=_replay_starts(failed_step),
        replay_start="failed_step" if failed_step is not None else "start",
        replay_versions=_replay_versions(run),
    )


def _replay_starts(failed_step: StepRow | None) -> list[ReplayChoice]:
    if failed_step is None:
        return [
            ReplayChoice("start", "From the start"),
            ReplayChoice("failed_step", "From the failed step (no step failed)", disabled=True),
        ]
    return [
        ReplayChoice("start", "From the start"),
        ReplayChoice("failed_step", f"From the failed step (“{failed_step.title}”)"),
    ]


def _replay_versions(run: Run) -> list[ReplayChoice]:
    if run.version is None:
        return []
    choices = [ReplayChoice("original", f"The version it ran (v{run.version.number})")]
    current = run.workflow.published_version
    if current is not None and current.pk != run.version_id:
        choices.append(
            ReplayChoice("current", f"The current published version (v{current.number})")
        )
    return choices
