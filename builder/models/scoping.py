"""The base of every model that belongs to a workspace, and its scoped queries."""

from __future__ import annotations

from django.db import models

from .accounts import Workspace


class WorkspaceQuerySet(models.QuerySet):
    def for_workspace(self, workspace: Workspace) -> WorkspaceQuerySet:
        """Return only the rows of this workspace: the one filter every view goes through."""
        return self.filter(workspace=workspace)


class WorkspaceScopedModel(models.Model):
    """Abstract base: a `workspace` foreign key and `objects.for_workspace(ws)`."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")

    objects = WorkspaceQuerySet.as_manager()

    class Meta:
        abstract = True
