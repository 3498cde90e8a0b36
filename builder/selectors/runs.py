"""Read-side queries of run history: the filtered, searched, keyset-paginated runs list.

Shared by the runs pages and the JSON API. Runs of a step tested in the editor (trigger "test")
are not in history. Every query is ordered newest first by (created_at, id), and a page continues
after its last row (a cursor), so page 2 000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from builder.models import Run, RunSearchTerm, StepRun, Workspace
from builder.runsearch import query_words

PAGE_SIZE = 50


@dataclass(frozen=True)
class RunFilters:
    """What the runs list shows: every field is optional, and all given ones must hold."""

    status: str = ""
    workflow_id: int | None = None
    trigger: str = ""
    since: date | None = None
    until: date | None = None
    query: str = ""


@dataclass
class RunRow:
    """A run on the list with its step counts (for-each items count one each)."""

    run: Run
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def duration_ms(self) -> float | None:
        run = self.run
        if run.duration_ms is not None:
            return run.duration_ms
        if run.started_at and not run.is_finished:
            return (timezone.now() - run.started_at).total_seconds() * 1000
        return None


@dataclass
class RunPage:
    rows: list[RunRow]
    #: The cursor of the page after this one, or None on the last page.
    following: str | None


def cursor_of(run: Run) -> str:
    """Return the opaque position just after `run` in a newest-first list."""
    raw = f"{run.created_at.isoformat()}|{run.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_read(cursor: str) -> tuple[datetime, int] | None:
    """Return the (created_at, id) a cursor stands for, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, _, pk = raw.partition("|")
        found = datetime.fromisoformat(moment), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError):
        return None
    if timezone.is_naive(found[0]) or not 0 < found[1] < 2**63:
        return None
    return found


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _prefix(word: str) -> Q:
    """Terms beginning with `word`, found through the term index on either database."""
    if connection.vendor == "postgresql":
        return Q(term__startswith=word)  # LIKE 'word%' on a varchar_pattern_ops index
    # SQLite's LIKE ignores case and so cannot use a binary index; a range over it can.
    following = word[:-1] + chr(min(ord(word[-1]) + 1, 0x10FFFF))
    return Q(term__gte=word, term__lt=following)


_RUN_ID = re.compile(r"#?(\d{1,18})")


def _searched(runs: QuerySet[Run], workspace: Workspace, query: str) -> QuerySet[Run]:
    words = query_words(query)
    if not words:
        return runs
    found = Q()
    for word in words:
        terms = RunSearchTerm.objects.filter(_prefix(word), workspace_id=workspace.pk)
        ids = terms.values("run_id").order_by()
        match = _RUN_ID.fullmatch(query.strip()) if len(words) == 1 else None
        if match:
            # One id set, not "in the terms OR this id": an OR makes PostgreSQL walk every run.
            run = Run.objects.filter(pk=int(match.group(1))).order_by().values("id")
            ids = ids.union(run, all=True)
        found &= Q(pk__in=ids)
    return runs.filter(found)


def runs_filtered(workspace: Workspace, filters: RunFilters) -> QuerySet[Run]:
    """Return the workspace's runs (no editor tests) that pass `filters`, newest first."""
    runs = Run.objects.for_workspace(workspace).exclude(trigger_kind=Run.Trigger.TEST)
    if filters.status:
        runs = runs.filter(status=filters.status)
    if filters.workflow_id is not None:
        runs = runs.filter(workflow_id=filters.workflow_id)
    if filters.trigger:
        runs = runs.filter(trigger_kind=filters.trigger)
    if filters.since:
        runs = runs.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        runs = runs.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    if filters.query:
        runs = _searched(runs, workspace, filters.query)
    return runs.order_by("-created_at", "-id")


def after(runs: QuerySet[Run], cursor: tuple[datetime, int] | None) -> QuerySet[Run]:
    """Return the runs that come after the cursor's position in newest-first order."""
    if cursor is None:
        return runs
    moment, pk = cursor
    return runs.filter(Q(created_at__lt=moment) | Q(created_at=moment, pk__lt=pk))


def run_page(
    workspace: Workspace,
    filters: RunFilters,
    *,
    cursor: tuple[datetime, int] | None = None,
    size: int = PAGE_SIZE,
) -> RunPage:
    """Return one page of the runs list with each run's step counts (two queries)."""
    runs = after(runs_filtered(workspace, filters), cursor).select_related("workflow", "version")
    page = list(runs[: size + 1])
    following = cursor_of(page[size - 1]) if len(page) > size else None
    rows = [RunRow(run) for run in page[:size]]
    by_id = {row.run.pk: row for row in rows}
    counts = (
        StepRun.objects.filter(run_id__in=list(by_id))
        .order_by()
        .values_list("run_id", "status")
        .annotate(n=Count("id"))
    )
    for run_id, status, n in counts:
        by_id[run_id].counts[status] = n
    return RunPage(rows, following)
