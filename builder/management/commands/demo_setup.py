"""Create (or refresh) the demo login that `make run` prints, with a ready sandbox connection."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from builder.models import Membership, User, Workflow, Workspace
from builder.services.accounts import user_signup
from builder.services.workflows import errors_of, workflow_create, workflow_publish
from integrations.models import Connection
from integrations.services import connection_create_sandbox

DEMO_EMAIL = "demo@example.com"
#: A published example for the demo workspace: find a profile by email, add it to the first list.
EXAMPLE = {
    "name": "Welcome a VIP (example)",
    "description": "Finds the profile with the email given to Run now and adds it to a list.",
    "trigger": {"type": "manual", "input_schema": {
        "type": "object", "required": ["email"],
        "properties": {"email": {"type": "string", "format": "email",
                                 "description": "The customer's email address"}}}},
    "steps": [
        {"key": "find", "name": "Find the profile", "action": "KLAVIYO_GET_PROFILES",
         "connection": "Klaviyo sandbox",
         "input": {"filter": 'equals(email,"{{ trigger.email }}")'}},
        {"key": "lists", "name": "Get the lists", "action": "KLAVIYO_GET_LISTS",
         "connection": "Klaviyo sandbox", "input": {}},
        {"key": "add", "name": "Add it to the first list", "action": "KLAVIYO_ADD_PROFILE_TO_LIST",
         "connection": "Klaviyo sandbox",
         "run_if": {"all": [{"left": "{{ steps.find.data.data | length }}", "op": "greater_than",
                             "right": 0}]},
         "input": {"list_id": "{{ steps.lists.data.data[0].id }}",
                   "profile_ids": ["{{ steps.find.data.data[0].id }}"]}},
    ],
}  # fmt: skip


#: A second one, started by Klaviyo: published, and enabled by the user (enabling registers its
#: webhook in the sandbox account, which needs the web server running).
ORDERS_EXAMPLE = {
    "name": "Look up each buyer (example)",
    "description": "Runs for every Placed Order event in the sandbox: enable it, then create one.",
    "trigger": {"type": "klaviyo_webhook", "connection": "Klaviyo sandbox",
                "topics": ["event:klaviyo.placed_order"]},
    "steps": [
        {"key": "buyer", "name": "Get the buyer's profile", "action": "KLAVIYO_GET_PROFILE",
         "connection": "Klaviyo sandbox",
         "input": {"profile_id": "{{ trigger.data.relationships.profile.data.id }}"}},
    ],
}  # fmt: skip


def _example_workflow(workspace: Workspace, user: User) -> None:
    for example in (EXAMPLE, ORDERS_EXAMPLE):
        workflow, problems = workflow_create(workspace=workspace, user=user, definition=example)
        if example is ORDERS_EXAMPLE:
            workflow.enabled = False
            workflow.save(update_fields=["enabled"])
        if not errors_of(problems):
            workflow_publish(workflow=workflow, user=user)


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
            if not Workflow.objects.for_workspace(workspace).exists():
                _example_workflow(workspace, user)
        if options["json"]:
            self.stdout.write(json.dumps({"email": DEMO_EMAIL, "password": password}))
        else:
            self.stdout.write(f"Log in as {DEMO_EMAIL} with password {password}")
