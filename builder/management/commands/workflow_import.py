"""`manage.py workflow_import FILE --workspace NAME`: create a workflow from a workflow file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from builder import strictjson
from builder.management.commands.api_token_create import workspace_named
from builder.services.workflows import errors_of, workflow_create


class Command(BaseCommand):
    help = (
        "Create a workflow in a workspace from a file in the workflow format; connections are "
        "matched by name. Prints its problems, then its id alone on the last line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A workflow file (JSON), or - for standard input")
        parser.add_argument("--workspace", required=True)

    def handle(self, *args: Any, file: str, workspace: str, **options: Any) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
            document = strictjson.loads(text)
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise CommandError(f"Cannot read {file}: {error}") from error
        workflow, problems = workflow_create(
            workspace=workspace_named(workspace), user=None, definition=document
        )
        for problem in problems:
            where = f"{problem.step or 'workflow'}{problem.field}"
            self.stderr.write(f"{problem.severity}: {where}: {problem.message}")
        verdict = "ready to publish" if not errors_of(problems) else "saved as a draft"
        self.stderr.write(f"Imported “{workflow.name}” ({verdict}).")
        self.stdout.write(str(workflow.pk))
