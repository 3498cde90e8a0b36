"""`python manage.py sandbox_oauth_client --name N --redirect-uri U [--redirect-uri U2]`.

Register an OAuth app with the sandbox and print `{"client_id", "client_secret", ...}` as JSON
(the secret is shown only here).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from integrations.klaviyo_sandbox.oauth.server import oauth_client_create


class Command(BaseCommand):
    help = "Register an OAuth client (app) with the Klaviyo sandbox; print its id and secret."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--redirect-uri", action="append", required=True, dest="redirect_uris")

    def handle(self, *args: Any, name: str, redirect_uris: list[str], **options: Any) -> None:
        """Create the client and print its credentials and the sandbox's OAuth paths."""
        try:
            client, secret = oauth_client_create(name=name, redirect_uris=redirect_uris)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        payload = {
            "client_id": client.client_id,
            "client_secret": secret,
            "redirect_uris": redirect_uris,
            "authorize_path": reverse("klaviyo_sandbox:oauth_authorize"),
            "token_path": reverse("klaviyo_sandbox:oauth_token"),
            "revoke_path": reverse("klaviyo_sandbox:oauth_revoke"),
        }
        self.stdout.write(json.dumps(payload))
