"""Read-side numbers of run history "at a glance": runs per day by status, p50 / p95 durations.

Drawn by `templates/runs/_stats.html` on the dashboard (the workspace) and on the runs list
filtered to one workflow. Runs of a step tested in the editor (trigger "test") are not history.

One query reads the window: each run's day (worked out by the database, see `_day_of`), status
and duration; counting and percentiles happen here. SQLite has no percentile function, and a
PostgreSQL-only path with percentile_cont was not worth a second code path: at 100k runs in the
window this takes about 170 ms on PostgreSQL and 270-400 ms on SQLite, nearly all of it reading
the rows. So a busy window is cached for CACHE_SECONDS; a quiet one is counted afresh every
time (a few milliseconds), so a run just started shows at once.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property
from itertools import chain

from django.core.cache import cache
from django.db import connections
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from builder.models import Run, Workflow, Workspace

CACHE_SECONDS = 60
#: Windows with fewer runs than this are not cached: counting them takes a few milliseconds.
CACHE_MIN_RUNS = 5_000

#: The chart's segments, bottom up; queued, running and waiting runs are drawn together.
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("succeeded", "Succeeded", (Run.Status.SUCCEEDED,)),
    ("failed", "Failed", (Run.Status.FAILED,)),
    ("needs_review", "Needs review", (Run.Status.NEEDS_REVIEW,)),
    ("canceled", "Canceled", (Run.Status.CANCELED,)),
    ("other", "In progress", (Run.Status.QUEUED, Run.Status.RUNNING, Run.Status.WAITING)),
)


def percentile(ordered: list[float], p: float) -> float | None:
    """Return the nearest-rank `p`th percentile of sorted values: the ceil(p% * n)th smallest.

    Always one of the values (no interpolation), so "p95 of 20 runs" is the 19th fastest run.
    None for no values.
    """
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class DayStats:
    """One day of the window, in the current time zone."""

    day: date
    #: Runs created that day by status, every status present (0 when none).
    counts: dict[str, int]
    total: int = 0
    #: Of the runs created that day that have finished (have a duration); None if none has.
    p50_ms: float | None = None
    p95_ms: float | None = None

    @property
    def groups(self) -> list[tuple[str, str, int]]:
        """Return (key, label, count) per chart segment, bottom up (see GROUPS)."""
        return [
            (key, label, sum(self.counts[s] for s in statuses)) for key, label, statuses in GROUPS
        ]


@dataclass
class RunStats:
    """Runs of a workspace (or one workflow) over the last `len(days)` days, oldest day first."""

    days: list[DayStats]
    #: Runs in the window by status, every status present.
    totals: dict[str, int]
    total: int
    #: The busiest day's total (0 for an empty window): the top of the bar chart's scale.
    max_day_total: int
    #: Over every finished run in the window; None if none has finished.
    p50_ms: float | None
    p95_ms: float | None
    #: The slowest day's p95 (0 if none): the top of the duration chart's scale.
    max_day_p95_ms: float = 0
    group_totals: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def since(self) -> date:
        return self.days[0].day

    @property
    def until(self) -> date:
        return self.days[-1].day

    @property
    def busiest(self) -> DayStats:
        """Return the day with the most runs (the latest of equals)."""
        return max(reversed(self.days), key=lambda d: d.total)

    @cached_property
    def chart(self) -> Chart:
        return chart_of(self)


def run_stats(
    workspace: Workspace,
    *,
    workflow: Workflow | None = None,
    days: int = 30,
    now: datetime | None = None,
) -> RunStats:
    """Return the workspace's (or one of its workflows') run history per day, today included.

    A day is a calendar day in the current time zone; a run belongs to the day it was created,
    and the window ends with the end of today.
    Durations are those of finished runs (`Run.duration_ms`). Pass `now` to compute for another
    moment (never cached); without it, a busy window may be up to CACHE_SECONDS old.
    """
    zone = timezone.get_current_timezone()
    today = timezone.localdate(now or timezone.now(), zone)
    key = f"run-stats:{workspace.pk}:{workflow.pk if workflow else '-'}:{days}:{today}:{zone}"
    if now is None and (cached := cache.get(key)) is not None:
        return cached
    stats = _compute(
        workspace, workflow, [today - timedelta(days=n) for n in range(days)][::-1], zone
    )
    if now is None and stats.total >= CACHE_MIN_RUNS:
        cache.set(key, stats, CACHE_SECONDS)
    return stats


def _compute(
    workspace: Workspace, workflow: Workflow | None, days: list[date], zone: tzinfo
) -> RunStats:
    # Midnight starting each day, then the one ending the last: DST makes some days 23 or 25 h.
    edges = [timezone.make_aware(datetime.combine(d, time.min), zone) for d in days]
    edges.append(
        timezone.make_aware(datetime.combine(days[-1] + timedelta(days=1), time.min), zone)
    )
    runs = Run.objects.for_workspace(workspace).filter(
        created_at__gte=edges[0], created_at__lt=edges[-1]
    )
    if workflow is not None:
        runs = runs.filter(workflow=workflow)
    rows = (
        runs.exclude(trigger_kind=Run.Trigger.TEST)
        .order_by()  # Run's default ordering would sort 100k rows for nothing
        .annotate(day=_day_of(edges, 0, len(days)))
        .values_list("day", "status", "duration_ms")
    )
    counts: Counter[tuple[int, str]] = Counter()
    durations: defaultdict[int, list[float]] = defaultdict(list)
    # The ORM's SQL, read straight from the cursor: the three columns are an int, a str and a
    # float as the driver gives them, and Django's per-row converters cost a fifth of the time.
    sql, params = rows.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        while chunk := cursor.fetchmany(10_000):
            for index, status, duration_ms in chunk:
                counts[index, status] += 1
                if duration_ms is not None:
                    durations[index].append(duration_ms)

    statuses = [s.value for s in Run.Status]
    result, ordered_by_day = [], []
    for index, day in enumerate(days):
        by_status = {s: counts[index, s] for s in statuses}
        ordered = sorted(durations[index])
        ordered_by_day.append(ordered)
        result.append(
            DayStats(
                day=day,
                counts=by_status,
                total=sum(by_status.values()),
                p50_ms=percentile(ordered, 50),
                p95_ms=percentile(ordered, 95),
            )
        )
    every = sorted(chain.from_iterable(ordered_by_day))  # merging sorted runs: cheap
    totals = {s: sum(counts[i, s] for i in range(len(days))) for s in statuses}
    return RunStats(
        days=result,
        totals=totals,
        total=sum(totals.values()),
        max_day_total=max(d.total for d in result),
        p50_ms=percentile(every, 50),
        p95_ms=percentile(every, 95),
        max_day_p95_ms=max((d.p95_ms for d in result if d.p95_ms is not None), default=0),
        group_totals=[(key, label, sum(totals[s] for s in group)) for key, label, group in GROUPS],
    )


def _day_of(edges: list[datetime], low: int, high: int) -> Case | Value:
    """Return an expression for the index of the day a run was created on, low <= it < high.

    A binary search in CASE WHEN created_at < edge: five comparisons per row for 30 days, in
    the database's own code. TruncDate("created_at", tzinfo=...) says the same, but on SQLite
    it calls back into Python for every row: counting 100k runs by day and status took 730 ms
    with it, 350 ms with a flat CASE of 30 comparisons and 245 ms with this one (measured).
    """
    if high - low == 1:
        return Value(low)
    middle = (low + high) // 2
    return Case(
        When(created_at__lt=edges[middle], then=_day_of(edges, low, middle)),
        default=_day_of(edges, middle, high),
        output_field=IntegerField(),
    )


# --- The charts' geometry -----------------------------------------------------------------------
# Positions for templates/runs/_stats.html, which cannot add up a stack of bars. Across, every
# position is a percentage of the chart's width, so the SVG stretches to its card while its text
# keeps its size (a viewBox would shrink 12 px labels to 5 px on a phone); down, pixels.


@dataclass(frozen=True)
class Frame:
    """A chart's rows in pixels: its scale's label above `top`, the plot, dates under `base`."""

    top: int
    base: int

    @property
    def height(self) -> int:
        return self.base + 22

    @property
    def plot_height(self) -> int:
        return self.base - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.base) / 2

    @property
    def scale_y(self) -> int:
        return self.top - 7

    @property
    def date_y(self) -> int:
        return self.base + 16

    def y(self, value: float, scale: float) -> float:
        return round(self.base - value / scale * (self.base - self.top), 2)


BARS = Frame(top=22, base=150)
LINES = Frame(top=22, base=100)


@dataclass
class Segment:
    key: str
    label: str
    count: int
    y: float
    height: float


@dataclass
class Bar:
    day: DayStats
    #: The day's slot across the chart (a hover target), and the bar in it.
    slot_x: str
    slot_width: str
    x: str
    width: str
    segments: list[Segment]
    #: The date under the bar, if this bar has one: where, and its text-anchor (the first and
    #: last dates are aligned with the chart's edges so they are not cut off).
    label_x: str = ""
    label_anchor: str = ""


@dataclass
class Point:
    day: date
    x: str
    y: float
    value: float


@dataclass
class Line:
    """A percentile across the days: a marker per day that has it, joined to the day before."""

    points: list[Point]
    segments: list[tuple[Point, Point]]


@dataclass
class Chart:
    bars: list[Bar]
    #: The top of each scale: a round number of runs a day, a round duration.
    count_top: int
    duration_top: float
    p50: Line
    p95: Line
    bars_frame: Frame = BARS
    lines_frame: Frame = LINES


def round_up(value: float) -> float:
    """Return the smallest round number at least `value`: 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times
    a power of ten, so the tallest bar fills at least two thirds of the chart."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * power >= value)


def _percent(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") + "%"


def chart_of(stats: RunStats) -> Chart:
    """Lay out the bar chart (runs per day by status) and the p50 / p95 duration chart."""
    count = len(stats.days)
    slot = 100 / count
    count_top = int(round_up(stats.max_day_total))
    duration_top = round_up(stats.max_day_p95_ms)
    labelled = set(range(count - 1, -1, -7))  # a date every week back from today
    bars = []
    for index, day in enumerate(stats.days):
        segments, stacked = [], 0
        for key, label, runs in day.groups:
            if runs:
                # A lone failure among thousands of runs still shows: at least a pixel.
                height = max(1.0, round(BARS.base - BARS.y(runs, count_top), 2))
                stacked += height
                segments.append(Segment(key, label, runs, round(BARS.base - stacked, 2), height))
        bar = Bar(
            day=day,
            slot_x=_percent(slot * index),
            slot_width=_percent(slot),
            x=_percent(slot * (index + 0.15)),
            width=_percent(slot * 0.7),
            segments=segments,
        )
        if index == count - 1:
            bar.label_x, bar.label_anchor = "100%", "end"
        elif index == 0 and index in labelled:
            bar.label_x, bar.label_anchor = "0%", "start"
        elif index in labelled:
            bar.label_x, bar.label_anchor = _percent(slot * (index + 0.5)), "middle"
        bars.append(bar)
    return Chart(
        bars=bars,
        count_top=count_top,
        duration_top=duration_top,
        p50=_line([d.p50_ms for d in stats.days], stats, slot, duration_top),
        p95=_line([d.p95_ms for d in stats.days], stats, slot, duration_top),
    )


def _line(values: list[float | None], stats: RunStats, slot: float, top: float) -> Line:
    points = [
        None
        if value is None
        else Point(day.day, _percent(slot * (i + 0.5)), LINES.y(value, top), value)
        for i, (day, value) in enumerate(zip(stats.days, values, strict=True))
    ]
    pairs = [(a, b) for a, b in zip(points, points[1:], strict=False) if a and b]
    return Line(points=[p for p in points if p], segments=pairs)
