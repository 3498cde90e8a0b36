"""Workflows: a trigger plus ordered steps, edited as a draft and published as frozen versions.

The definition (draft or version) is a document in the workflow format (`docs/workflows.md`,
`stepbuilder.workflow/1`); connections are named in it, never embedded, so it carries no secret.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .scoping import WorkspaceScopedModel


class Workflow(WorkspaceScopedModel):
    """What a team builds: its draft definition, whether it may run, and how many runs at once."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    definition = models.JSONField(default=dict, help_text="The draft, in the workflow format.")
    enabled = models.BooleanField(default=True)
    max_concurrent_runs = models.PositiveIntegerField(
        default=0, help_text="Runs in progress at once; 0 means no limit, 1 one at a time."
    )
    published_version = models.ForeignKey(
        "WorkflowVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    #: Email the owner when runs fail, at most once per FAILURE_NOTICE_MINUTES.
    notify_failures = models.BooleanField(default=True)
    failure_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["workspace", "name"], name="workflow_by_name")]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """A published, immutable definition; every run points at the version it ran."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workflow} v{self.number}"

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        """Refuse to change a published version: runs rely on it as it was."""
        if self.pk is not None:
            raise ValueError("A published workflow version cannot be changed; publish a new one.")
        super().save(*args, **kwargs)
