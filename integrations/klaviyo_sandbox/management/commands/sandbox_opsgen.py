"""`python manage.py sandbox_opsgen [--shared DIR]`: regenerate the sandbox's operation table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.klaviyo_sandbox.api import opsgen
from integrations.klaviyo_sandbox.api.operations import OPERATIONS_PATH


class Command(BaseCommand):
    help = "Regenerate the sandbox's api/operations.json from Klaviyo's OpenAPI spec."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--shared",
            default=str(Path(settings.BASE_DIR).parent / "shared"),
            help="folder holding klaviyo/openapi-stable.json and klaviyo/actions-map.tsv",
        )

    def handle(self, *args: Any, shared: str, **options: Any) -> None:
        """Generate the table; fail with a readable message when the sources are missing."""
        source = Path(shared)
        if not (source / "klaviyo" / "openapi-stable.json").exists():
            raise CommandError(f"No klaviyo/openapi-stable.json under {source}")
        try:
            table = opsgen.generate(source, OPERATIONS_PATH)
        except KeyError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Wrote {len(table['operations'])} operations and {len(table['resources'])} "
            f"resource types to {OPERATIONS_PATH}"
        )
