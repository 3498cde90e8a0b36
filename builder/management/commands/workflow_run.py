"""`manage.py workflow_run ID --input JSON [--wait]`: run a workflow, print the run's JSON.

Exit 0 when the run succeeded (or, without --wait, was queued), 1 when it failed, 2 when the
input or the workflow is invalid.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from builder import strictjson
from builder.api.serializers import problems_json, run_json
from builder.models import Run, Workflow
from builder.services.runs import NotPublished, PayloadInvalid, run_start
from builder.services.workflows import WorkflowInvalid, workflow_publish


class Command(BaseCommand):
    help = "Run a workflow's published version and print the run as JSON (exit 0/1/2)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow_id", type=int)
        parser.add_argument("--input", default="{}", help="The trigger's fields as a JSON object")
        parser.add_argument("--wait", action="store_true", help="Wait for the run to finish")
        parser.add_argument("--timeout", type=float, default=600, help="Seconds --wait waits")
        parser.add_argument(
            "--publish", action="store_true", help="Publish the draft first if it has changed"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = Workflow.objects.filter(pk=options["workflow_id"]).first()
        if workflow is None:
            self._finish({"error": f"No workflow {options['workflow_id']}."}, 2)
        try:
            payload = strictjson.loads(options["input"])
        except ValueError as error:
            self._finish({"error": f"--input is not JSON: {error}"}, 2)
        try:
            if options["publish"] or workflow.published_version is None:
                workflow_publish(workflow=workflow, user=None)
            run = run_start(workflow=workflow, payload=payload, trigger=Run.Trigger.MANUAL)
        except WorkflowInvalid as invalid:
            self._finish({"error": str(invalid), "problems": problems_json(invalid.problems)}, 2)
        except PayloadInvalid as invalid:
            self._finish({"error": str(invalid), "problems": problems_json(invalid.problems)}, 2)
        except NotPublished as error:
            self._finish({"error": str(error)}, 2)
        if options["wait"]:
            deadline = time.monotonic() + options["timeout"]
            while time.monotonic() < deadline:
                run.refresh_from_db()
                if run.is_finished:
                    break
                time.sleep(0.2)
        run.refresh_from_db()
        code = 0 if run.status == Run.Status.SUCCEEDED or not options["wait"] else 1
        self._finish(run_json(run), code)

    def _finish(self, payload: dict[str, Any], status: int) -> None:
        self.stdout.write(json.dumps(payload, default=str))
        sys.stdout.flush()
        sys.exit(status)
