"""Runs: one execution of a workflow version, its steps (per for-each item) and HTTP attempts.

A StepRun is written before its step's request goes out and completed after it (STYLE.md 6), so
after a crash the record says which request may have reached Klaviyo.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from .scoping import WorkspaceScopedModel
from .workflows import Workflow, WorkflowVersion


class Run(WorkspaceScopedModel):
    """One execution of a workflow version with its trigger payload."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"
        NEEDS_REVIEW = "needs_review", "Needs review"

    #: Statuses a run does not leave.
    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.NEEDS_REVIEW)
    #: Statuses that count against a workflow's concurrency limit.
    IN_PROGRESS = (Status.RUNNING, Status.WAITING)

    class Trigger(models.TextChoices):
        MANUAL = "manual", "Manual"
        API = "api", "API"
        SCHEDULE = "schedule", "Schedule"
        WEBHOOK = "webhook", "Webhook"
        KLAVIYO_WEBHOOK = "klaviyo_webhook", "Klaviyo webhook"
        KLAVIYO_POLL = "klaviyo_poll", "Klaviyo polling"
        #: The editor's Test step: one draft step, with samples standing in for earlier steps.
        TEST = "test", "Test step"
        #: A replay of an earlier run (`replay_of`), from its start or from its failed step.
        REPLAY = "replay", "Replay"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="runs")
    #: The version it runs; None for a test of a draft step (see `test_definition`).
    version = models.ForeignKey(
        WorkflowVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="runs"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    trigger_kind = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.MANUAL)
    trigger_payload = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    #: What a waiting run waits for ("rate limit", "delay", "Klaviyo job ...") and until when.
    waiting_for = models.CharField(max_length=200, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    #: Set while a worker holds the run; a stale heartbeat means its worker is gone.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    #: A test run's step key, its one-step draft (workflow format) and the sample outputs of
    #: the steps above it, which stand in for `steps.<key>` while it runs.
    test_step = models.CharField(max_length=64, blank=True)
    test_definition = models.JSONField(null=True, blank=True)
    test_samples = models.JSONField(default=dict, blank=True)
    #: Bumped on every claim, so a redelivered or stale task message finds it taken.
    claim = models.PositiveIntegerField(default=0)
    #: The run this one replays, and the step it started from ("" for the start): the steps
    #: before that step carry the original's records, copied before the replay was queued.
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    replay_from = models.CharField(max_length=64, blank=True)
    #: From start to finish, written when the run finishes (the charts' percentiles read it).
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["workspace", "-created_at"], name="run_by_workspace"),
            models.Index(fields=["workflow", "-created_at"], name="run_by_workflow"),
            models.Index(fields=["status", "heartbeat_at"], name="run_by_status"),
            # The runs list's filters, newest first.
            models.Index(
                fields=["workspace", "status", "-created_at"], name="run_by_workspace_status"
            ),
            models.Index(
                fields=["workspace", "trigger_kind", "-created_at"],
                name="run_by_workspace_trigger",
            ),
            # The editor's samples: a workflow's latest test runs, however many runs it has.
            models.Index(
                fields=["workflow", "-id"],
                name="run_tests_by_workflow",
                condition=models.Q(trigger_kind="test"),
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.workflow_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class RunSearchTerm(models.Model):
    """A word or whole value of a run's trigger data or error, lower-cased, for the search box.

    Searching a LIKE pattern through every run's payload reads them all; these rows are found
    through an index, by prefix (`builder/runsearch.py` says what becomes a term).
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="search_terms")
    workspace_id = models.BigIntegerField()
    term = models.CharField(max_length=100)

    class Meta:
        indexes = [
            models.Index(
                fields=["workspace_id", "term", "run"],
                name="run_term_by_workspace",
                # LIKE 'prefix%' can use it on PostgreSQL whatever the database's collation.
                opclasses=["", "varchar_pattern_ops", ""],
            )
        ]

    def __str__(self) -> str:
        return self.term


class StepRun(models.Model):
    """One step of a run (one for-each item), written before its request and completed after."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        WAITING = "waiting", "Waiting"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELED = "canceled", "Canceled"
        NEEDS_REVIEW = "needs_review", "Needs review"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.SKIPPED, Status.CANCELED)

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="steps")
    step_key = models.CharField(max_length=64)
    position = models.PositiveIntegerField(help_text="The step's place in the version.")
    item_index = models.IntegerField(null=True, blank=True, help_text="The for-each item, if any.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    input = models.JSONField(
        null=True, blank=True, help_text="The resolved input, secrets redacted."
    )
    output = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    #: Engine state across task executions: retry count, job id being awaited, polls made.
    state = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position", "item_index", "id"]
        # One row per step and item: a redelivered task finds the row and does not run it twice.
        constraints = [
            models.UniqueConstraint(
                fields=["run", "step_key"],
                condition=models.Q(item_index__isnull=True),
                name="step_run_unique",
            ),
            models.UniqueConstraint(
                fields=["run", "step_key", "item_index"],
                condition=models.Q(item_index__isnull=False),
                name="step_run_item_unique",
            ),
        ]

    def __str__(self) -> str:
        item = f"[{self.item_index}]" if self.item_index is not None else ""
        return f"{self.step_key}{item} ({self.status})"


class StepAttempt(models.Model):
    """One HTTP try of a step: what was sent, what came back, how long it and the wait took."""

    step_run = models.ForeignKey(StepRun, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.FloatField(default=0)
    rate_limit_wait_ms = models.FloatField(default=0)
    request_id = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["step_run", "number", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.http_status}"
