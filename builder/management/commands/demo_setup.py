"""Create (or refresh) the demo login that `make run` prints, with a ready sandbox connection."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from builder.models import Membership, User
from builder.services.accounts import user_signup
from integrations.models import Connection
from integrations.services import connection_create_sandbox

DEMO_EMAIL = "demo@example.com"


class Command(BaseCommand):
    help = (
        "Create the demo user and a sandbox connection with demo data in its workspace (once), "
        "and print the login."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--json", action="store_true", help="Print the login as JSON only.")

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        password_file = settings.DATA_DIR / "demo_password"
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(9)
            if user is None:
                user = user_signup(email=DEMO_EMAIL, password=password, name="Demo")
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            password_file.write_text(password)
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        workspace = Membership.objects.filter(user=user, role=Membership.Role.OWNER).first()
        if workspace is not None:
            workspace = workspace.workspace
            sandbox = Connection.objects.for_workspace(workspace).filter(
                kind=Connection.Kind.SANDBOX
            )
            if not sandbox.exists():
                connection_create_sandbox(workspace=workspace, user=user, name="Klaviyo sandbox")
        if options["json"]:
            self.stdout.write(json.dumps({"email": DEMO_EMAIL, "password": password}))
        else:
            self.stdout.write(f"Log in as {DEMO_EMAIL} with password {password}")
