"""Regenerate the Klaviyo action catalog from ../shared (seed, OpenAPI spec, action map)."""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.klaviyo import codegen


class Command(BaseCommand):
    help = (
        "Generate integrations/klaviyo/catalog/data/*.json from the seed, Klaviyo's OpenAPI "
        "spec and the action map. Deterministic: a second run changes nothing."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--shared",
            type=Path,
            default=Path(settings.BASE_DIR).parent / "shared",
            help="Directory holding seeds/ and klaviyo/ (default: <BASE_DIR>/../shared).",
        )
        parser.add_argument(
            "--check",
            action="store_true",
            help="Write nothing; fail if the committed catalog differs from a fresh generation.",
        )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        shared: Path = options["shared"]
        try:
            files, revision = codegen.generate(shared)
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        count = sum(len(entries) for entries in files.values())
        if options["check"]:
            with tempfile.TemporaryDirectory() as tmp:
                codegen.write(files, Path(tmp), revision)
                names = sorted(p.name for p in Path(tmp).glob("*.json"))
                committed = sorted(p.name for p in codegen.CATALOG_DIR.glob("*.json"))
                _, mismatch, errors = filecmp.cmpfiles(
                    tmp, codegen.CATALOG_DIR, names, shallow=False
                )
            stale = mismatch + errors + sorted(set(committed) ^ set(names))
            if stale:
                raise CommandError(
                    "The committed catalog is out of date ("
                    + ", ".join(stale)
                    + "); run `python manage.py klaviyo_codegen`."
                )
            self.stdout.write(f"Catalog up to date: {count} actions, revision {revision}.")
            return
        written = codegen.write(files, codegen.CATALOG_DIR, revision)
        self.stdout.write(
            f"Wrote {count} actions in {len(written)} files to {codegen.CATALOG_DIR} "
            f"(Klaviyo API revision {revision})."
        )
