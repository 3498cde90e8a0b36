"""Run one Klaviyo action from the command line and print its result as JSON."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.klaviyo.actions import run_action
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.models import Connection
from integrations.services import connection_run_action


class Command(BaseCommand):
    requires_system_checks: list[str] = []  # a quick tool; `manage.py check` is separate
    help = (
        "Run a Klaviyo action, e.g. run_action KLAVIYO_GET_LISTS --params '{}' --api-key pk_... "
        "Prints {successful, error, data, http_status, attempts}; exit status 0 when successful, "
        "1 when Klaviyo or the network failed, 2 on invalid input."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", help="Action key, e.g. KLAVIYO_ADD_PROFILE_TO_LIST")
        parser.add_argument("--params", default="{}", help="The action's input as a JSON object")
        parser.add_argument(
            "--api-key",
            default=os.environ.get("KLAVIYO_API_KEY", ""),
            help="Private API key (default: $KLAVIYO_API_KEY)",
        )
        parser.add_argument("--public-key", default="", help="Public key (company id)")
        parser.add_argument("--base-url", default="", help="Default: settings.KLAVIYO_BASE_URL")
        parser.add_argument("--connection", type=int, help="Use a stored connection by id")
        parser.add_argument("--fetch-all", action="store_true", help="Follow every page")
        parser.add_argument("--max-items", type=int, help="Stop --fetch-all after N items")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            params = json.loads(options["params"])
        except json.JSONDecodeError as error:
            self._finish({"successful": False, "error": f"--params is not JSON: {error}"}, 2)
        if not isinstance(params, dict):
            self._finish({"successful": False, "error": "--params must be a JSON object"}, 2)

        paging = {"fetch_all": options["fetch_all"], "max_items": options["max_items"]}
        if options["connection"] is not None:
            connection = Connection.objects.filter(pk=options["connection"]).first()
            if connection is None:
                self._finish({"successful": False, "error": "No such connection"}, 2)
            result = connection_run_action(
                connection=connection, key=options["key"], params=params, **paging
            )
        else:
            result = run_action(self._client(options), options["key"], params, **paging)
        payload = {
            **result.output(),
            "http_status": result.http_status,
            "attempts": [
                {**asdict(a), "started_at": a.started_at.isoformat()} for a in result.attempts
            ],
        }
        if result.invalid_input is not None:
            payload["errors"] = result.invalid_input.as_list()
        invalid = result.invalid_input is not None or (
            not result.successful and not result.attempts and result.http_status is None
        )
        self._finish(payload, 0 if result.successful else 2 if invalid else 1)

    def _client(self, options: dict[str, Any]) -> KlaviyoClient:
        if not options["api_key"]:
            self._finish(
                {
                    "successful": False,
                    "error": "Give --api-key (or $KLAVIYO_API_KEY) or --connection",
                },
                2,
            )
        credentials = ApiKeyCredentials(options["api_key"], options["public_key"] or None)
        return KlaviyoClient(credentials, base_url=options["base_url"] or None)

    def _finish(self, payload: dict[str, Any], status: int) -> None:
        payload.setdefault("data", None)
        self.stdout.write(json.dumps(payload, default=str))
        sys.stdout.flush()
        sys.exit(status)
