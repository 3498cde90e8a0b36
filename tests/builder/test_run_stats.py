"""Run history at a glance: runs per day by status, p50 / p95 durations, charts and panel."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from builder.models import Run, Workflow
from builder.selectors import run_stats as run_stats_module
from builder.selectors.run_stats import percentile, round_up, run_stats

NOW = datetime(2026, 3, 30, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 30)


@pytest.fixture
def welcome(alice_workspace) -> Workflow:
    return Workflow.objects.create(workspace=alice_workspace, name="Welcome")


@pytest.fixture
def winback(alice_workspace) -> Workflow:
    return Workflow.objects.create(workspace=alice_workspace, name="Win-back")


def add_run(workflow, *, at, status="succeeded", duration_ms=None, trigger="manual") -> Run:
    return Run.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        status=status,
        trigger_kind=trigger,
        created_at=at,
        duration_ms=duration_ms,
    )


def day_of(stats, day: date):
    return next(d for d in stats.days if d.day == day)


# --- The numbers ----------------------------------------------------------------------------


def test_it_counts_runs_per_day_and_status(alice_workspace, welcome):
    for status in ("succeeded", "succeeded", "failed", "needs_review", "running"):
        add_run(welcome, at=NOW - timedelta(hours=1), status=status)
    add_run(welcome, at=NOW - timedelta(days=2), status="canceled")
    add_run(welcome, at=NOW - timedelta(days=2), status="queued")

    stats = run_stats(alice_workspace, now=NOW)

    today = day_of(stats, TODAY)
    assert today.counts == {
        "queued": 0,
        "running": 1,
        "waiting": 0,
        "succeeded": 2,
        "failed": 1,
        "canceled": 0,
        "needs_review": 1,
    }
    assert today.total == 5
    assert [g[2] for g in today.groups] == [2, 1, 1, 0, 1]  # in progress: the running one
    earlier = day_of(stats, TODAY - timedelta(days=2))
    assert (earlier.counts["canceled"], earlier.counts["queued"], earlier.total) == (1, 1, 2)
    assert stats.total == 7
    assert stats.totals["succeeded"] == 2
    assert stats.totals["canceled"] == 1
    assert stats.max_day_total == 5
    assert stats.busiest.day == TODAY
    assert stats.group_totals == [
        ("succeeded", "Succeeded", 2),
        ("failed", "Failed", 1),
        ("needs_review", "Needs review", 1),
        ("canceled", "Canceled", 1),
        ("other", "In progress", 2),
    ]


def test_days_without_runs_are_there_as_zeros(alice_workspace, welcome):
    add_run(welcome, at=NOW - timedelta(days=10))

    stats = run_stats(alice_workspace, now=NOW)

    assert len(stats.days) == 30
    assert [d.day for d in stats.days] == [TODAY - timedelta(days=n) for n in range(29, -1, -1)]
    assert (stats.since, stats.until) == (date(2026, 3, 1), TODAY)
    empty = day_of(stats, TODAY - timedelta(days=9))
    assert empty.total == 0
    assert set(empty.counts.values()) == {0}
    assert (empty.p50_ms, empty.p95_ms) == (None, None)
    assert [d.total for d in stats.days].count(1) == 1


def test_it_counts_only_the_window(alice_workspace, welcome):
    first_day = datetime(2026, 3, 1, tzinfo=UTC)
    add_run(welcome, at=first_day)  # in: the first moment of the first day
    add_run(welcome, at=first_day - timedelta(microseconds=1))  # out: the day before
    add_run(welcome, at=datetime(2026, 3, 31, tzinfo=UTC))  # out: tomorrow

    stats = run_stats(alice_workspace, now=NOW)

    assert stats.total == 1
    assert stats.days[0].total == 1
    assert len(run_stats(alice_workspace, now=NOW, days=7).days) == 7
    assert run_stats(alice_workspace, now=NOW, days=7).total == 0


def test_p50_and_p95_are_the_nearest_ranks(alice_workspace, welcome):
    # Today: 1..20 ms, and a run still going (no duration) that counts but has no duration.
    for ms in range(20, 0, -1):
        add_run(welcome, at=NOW - timedelta(minutes=ms), duration_ms=float(ms))
    add_run(welcome, at=NOW, status="running")
    yesterday = NOW - timedelta(days=1)
    for ms in (300.0, 100.0, 200.0):
        add_run(welcome, at=yesterday, status="failed", duration_ms=ms)

    stats = run_stats(alice_workspace, now=NOW)

    today = day_of(stats, TODAY)
    assert today.total == 21
    # 20 values: p50 is the ceil(0.5 * 20) = 10th smallest, p95 the ceil(0.95 * 20) = 19th.
    assert (today.p50_ms, today.p95_ms) == (10.0, 19.0)
    # 3 values: the 2nd (ceil 1.5) and the 3rd (ceil 2.85).
    assert (day_of(stats, TODAY - timedelta(days=1)).p50_ms, stats.days[-2].p95_ms) == (200, 300)
    # All 23: 1..20, 100, 200, 300 -> the 12th (ceil 11.5) and the 22nd (ceil 21.85).
    assert (stats.p50_ms, stats.p95_ms) == (12.0, 200.0)
    assert stats.max_day_p95_ms == 300.0


def test_percentile_of_few_values():
    assert percentile([], 50) is None
    assert percentile([7.0], 50) == percentile([7.0], 95) == 7.0
    assert percentile([1.0, 2.0], 50) == 1.0
    assert percentile([1.0, 2.0], 95) == 2.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0) == 1.0


def test_no_finished_run_means_no_percentiles(alice_workspace, welcome):
    add_run(welcome, at=NOW, status="running")

    stats = run_stats(alice_workspace, now=NOW)

    assert (stats.p50_ms, stats.p95_ms, stats.max_day_p95_ms) == (None, None, 0)


def test_it_leaves_out_steps_tested_in_the_editor(alice_workspace, welcome):
    add_run(welcome, at=NOW, trigger="test", duration_ms=5000.0)
    add_run(welcome, at=NOW, trigger="replay", duration_ms=10.0)
    add_run(welcome, at=NOW, trigger="schedule", duration_ms=10.0)

    stats = run_stats(alice_workspace, now=NOW)

    assert stats.total == 2
    assert stats.p95_ms == 10.0


def test_it_leaves_out_other_workspaces(alice_workspace, welcome, charlie_workspace):
    theirs = Workflow.objects.create(workspace=charlie_workspace, name="Welcome")
    add_run(theirs, at=NOW, status="failed", duration_ms=9000.0)
    add_run(welcome, at=NOW, duration_ms=10.0)

    mine = run_stats(alice_workspace, now=NOW)
    their_stats = run_stats(charlie_workspace, now=NOW)

    assert (mine.total, mine.totals["failed"], mine.p95_ms) == (1, 0, 10.0)
    assert (their_stats.total, their_stats.totals["failed"]) == (1, 1)


def test_it_counts_one_workflow(alice_workspace, welcome, winback):
    add_run(welcome, at=NOW, duration_ms=10.0)
    add_run(winback, at=NOW, status="failed", duration_ms=900.0)
    add_run(winback, at=NOW - timedelta(days=3), duration_ms=100.0)

    stats = run_stats(alice_workspace, workflow=winback, now=NOW)

    assert stats.total == 2
    assert (stats.totals["failed"], stats.totals["succeeded"]) == (1, 1)
    assert stats.p95_ms == 900.0
    assert run_stats(alice_workspace, workflow=welcome, now=NOW).total == 1
    assert run_stats(alice_workspace, now=NOW).total == 3


def test_days_are_calendar_days_of_the_current_time_zone(alice_workspace, welcome):
    # New York moves its clocks on Sunday March 8, 2026: that day has 23 hours.
    new_york = ZoneInfo("America/New_York")
    add_run(welcome, at=datetime(2026, 3, 9, 3, 30, tzinfo=UTC))  # Mar 8, 23:30 EDT
    add_run(welcome, at=datetime(2026, 3, 9, 4, 30, tzinfo=UTC))  # Mar 9, 00:30 EDT
    add_run(welcome, at=datetime(2026, 3, 8, 4, 30, tzinfo=UTC))  # Mar 7, 23:30 EST

    with timezone.override(new_york):
        stats = run_stats(alice_workspace, now=NOW)

    totals = {d.day: d.total for d in stats.days if d.total}
    assert totals == {date(2026, 3, 7): 1, date(2026, 3, 8): 1, date(2026, 3, 9): 1}
    with timezone.override(ZoneInfo("UTC")):
        totals = {d.day: d.total for d in run_stats(alice_workspace, now=NOW).days if d.total}
    assert totals == {date(2026, 3, 8): 1, date(2026, 3, 9): 2}


def test_it_reads_the_window_in_one_query(alice_workspace, welcome, django_assert_num_queries):
    for days in range(5):
        add_run(welcome, at=NOW - timedelta(days=days), duration_ms=1.0)

    with django_assert_num_queries(1):
        run_stats(alice_workspace, workflow=welcome, now=NOW)


def test_a_busy_window_is_kept_for_a_minute(alice_workspace, welcome, monkeypatch):
    monkeypatch.setattr(run_stats_module, "CACHE_MIN_RUNS", 2)
    add_run(welcome, at=timezone.now())

    assert run_stats(alice_workspace).total == 1  # quiet: not kept
    add_run(welcome, at=timezone.now())
    assert run_stats(alice_workspace).total == 2  # busy: kept
    add_run(welcome, at=timezone.now())
    assert run_stats(alice_workspace).total == 2
    assert run_stats(alice_workspace, workflow=welcome).total == 3  # its own entry
    assert run_stats(alice_workspace, now=timezone.now()).total == 3  # `now` is never cached


# --- The charts -----------------------------------------------------------------------------


def test_round_up_gives_round_scales():
    assert [round_up(v) for v in (0, 1, 3, 7, 11, 23, 3412)] == [1, 1, 3, 8, 15, 25, 4000]
    assert round_up(5645.0) == 6000


def test_the_bars_stack_up_to_the_day_total(alice_workspace, welcome):
    for status in ["succeeded"] * 6 + ["failed"] * 2:
        add_run(welcome, at=NOW, status=status)
    add_run(welcome, at=NOW - timedelta(days=29), status="canceled")

    chart = run_stats(alice_workspace, now=NOW).chart

    assert chart.count_top == 8
    today, first = chart.bars[-1], chart.bars[0]
    frame = chart.bars_frame
    assert [(s.key, s.count) for s in today.segments] == [("succeeded", 6), ("failed", 2)]
    assert today.segments[0].y + today.segments[0].height == frame.base
    assert today.segments[-1].y == frame.top  # the busiest day reaches the top of the scale
    assert first.segments[0].height == frame.plot_height / 8
    assert (first.x, first.width) == ("0.5%", "2.333%")
    assert (today.label_x, today.label_anchor) == ("100%", "end")
    assert [b.day.day.day for b in chart.bars if b.label_anchor] == [2, 9, 16, 23, 30]


class Table(HTMLParser):
    """The rows of the first table (each a list of its cells' text) and the SVGs' attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.svgs: list[dict[str, str | None]] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self.svgs.append(dict(attrs))
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th") and self.rows:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def test_the_panel_draws_svg_charts_and_a_table_of_the_numbers(alice_workspace, welcome):
    for status, ms in [("succeeded", 400.0), ("succeeded", 1200.0), ("failed", 2500.0)]:
        add_run(welcome, at=NOW, status=status, duration_ms=ms)
    add_run(welcome, at=NOW - timedelta(days=1), status="needs_review", duration_ms=65_000.0)

    html = render_to_string("runs/_stats.html", {"stats": run_stats(alice_workspace, now=NOW)})

    page = Table()
    page.feed(html)
    bars, durations = page.svgs
    assert bars["role"] == durations["role"] == "img"
    assert bars["aria-label"] == (
        "Bar chart of runs per day from Mar 1 to Mar 30: 4 runs, 2 succeeded, 1 failed, "
        "1 needs review. The busiest day was Mar 30 with 3."
    )
    assert "p50 1.2 s and p95 1 min 5 s" in durations["aria-label"]
    assert html.count('class="rs-seg rs-seg-') == 3
    assert 'fill="url(#rs-hatch)"' in html
    assert "<details" in html
    assert "Show the numbers" in html
    head, *days, foot = page.rows
    assert head == [
        "Date",
        "Succeeded",
        "Failed",
        "Needs review",
        "Canceled",
        "In progress",
        "Total",
        "p50",
        "p95",
    ]
    assert len(days) == 30
    assert days[-1] == ["Mon, Mar 30", "2", "1", "0", "0", "0", "3", "1.2 s", "2.5 s"]
    assert days[-2] == ["Sun, Mar 29", "0", "0", "1", "0", "0", "1", "1 min 5 s", "1 min 5 s"]
    assert days[0] == ["Sun, Mar 1", "0", "0", "0", "0", "0", "0", "—", "—"]
    assert foot == ["All 30 days", "2", "1", "1", "0", "0", "4", "1.2 s", "1 min 5 s"]
    assert "style=" not in html  # the Content-Security-Policy refuses inline styles


def test_an_empty_window_says_so(alice_workspace, welcome):
    add_run(welcome, at=NOW - timedelta(days=40))

    html = render_to_string("runs/_stats.html", {"stats": run_stats(alice_workspace, now=NOW)})

    assert "No runs in the last 30 days" in html
    assert "<svg" not in html
    assert "<table" not in html


def test_runs_that_have_not_finished_draw_no_duration_chart(alice_workspace, welcome):
    add_run(welcome, at=NOW, status="queued")

    html = render_to_string("runs/_stats.html", {"stats": run_stats(alice_workspace, now=NOW)})

    assert 'data-testid="run-stats-bars"' in html
    assert 'data-testid="run-stats-durations"' not in html
    assert "None of these runs has finished yet" in html


# --- The dashboard --------------------------------------------------------------------------


def test_the_dashboard_shows_the_workspace_panel(client_for, alice, alice_workspace, welcome):
    add_run(welcome, at=timezone.now(), status="failed", duration_ms=1500.0)
    add_run(welcome, at=timezone.now() - timedelta(days=1), duration_ms=500.0)

    response = client_for(alice, alice_workspace).get(reverse("dashboard"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="run-stats"' in html
    assert "Runs, last 30 days" in html
    assert f'href="{reverse("run_list")}">See all runs' in html
    assert re.search(
        r'aria-label="Bar chart of runs per day [^"]*: 2 runs, 1 succeeded, 1 failed', html
    )
    assert "/static/css/charts.css" in html
    # What was there before stays.
    assert 'data-testid="connection-count"' in html
    assert 'data-testid="empty-dashboard"' in html
    assert html.index('data-testid="run-stats"') < html.index('data-testid="empty-dashboard"')


def test_the_dashboard_of_a_new_workspace_has_no_runs_yet(client_for, alice, alice_workspace):
    html = client_for(alice, alice_workspace).get(reverse("dashboard")).content.decode()

    assert "No runs in the last 30 days" in html
    # Getting started comes first.
    assert html.index('data-testid="empty-dashboard"') < html.index('data-testid="run-stats"')


def test_the_dashboard_shows_only_its_workspace(
    client_for, alice, alice_workspace, charlie_workspace
):
    theirs = Workflow.objects.create(workspace=charlie_workspace, name="Theirs")
    add_run(theirs, at=timezone.now())

    html = client_for(alice, alice_workspace).get(reverse("dashboard")).content.decode()

    assert "No runs in the last 30 days" in html
