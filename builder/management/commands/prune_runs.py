"""`manage.py prune_runs`: delete finished runs older than their workspace's retention.

Beat runs it daily (`runs-prune` in settings); it deletes in batches, each its own short
transaction. The last line says what it did: "Pruned 1200 runs (9600 steps)."
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from builder.services.runs import PRUNE_BATCH, runs_prune


class Command(BaseCommand):
    help = "Delete finished runs older than each workspace's retention (default 30 days)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=PRUNE_BATCH,
            help=f"Runs deleted per transaction (default {PRUNE_BATCH}).",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        pruned = runs_prune(batch_size=max(1, min(batch_size, 10_000)))
        if pruned.runs:
            self.stdout.write(f"Longest batch: {pruned.longest_batch_ms:.0f} ms.")
        self.stdout.write(f"Pruned {pruned.runs} runs ({pruned.steps} steps).")
