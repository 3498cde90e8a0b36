"""`manage.py api_token_create --workspace NAME --name LABEL`: the token alone on the last line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from builder.models import Workspace
from builder.services.api_tokens import api_token_create


class Command(BaseCommand):
    help = "Create a workspace API token; it is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace's name (or id)")
        parser.add_argument("--name", default="API token", help="A label to recognise it by")

    def handle(self, *args: Any, workspace: str, name: str, **options: Any) -> None:
        found = workspace_named(workspace)
        token, secret = api_token_create(workspace=found, name=name, user=None)
        self.stderr.write(f"Created API token “{token.name}” for {found.name}. Keep it secret.")
        self.stdout.write(secret)


def workspace_named(name: str) -> Workspace:
    """Return the workspace with this name (or id); raise CommandError unless exactly one."""
    matches = list(Workspace.objects.filter(name=name)[:2])
    if not matches and name.isdigit():
        matches = list(Workspace.objects.filter(pk=int(name)))
    if not matches:
        raise CommandError(f"No workspace is called {name!r}.")
    if len(matches) > 1:
        raise CommandError(f"Several workspaces are called {name!r}; give its id instead.")
    return matches[0]
