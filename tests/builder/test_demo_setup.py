"""`manage.py demo_setup` (what `make run` calls): the demo login, its sandbox connection and a
published example workflow, made once."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from builder.models import User, Workflow
from builder.services.workflows import errors_of, workflow_problems


def test_the_demo_has_a_published_example_workflow_without_problems(db, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    out = StringIO()
    call_command("demo_setup", stdout=out)
    assert out.getvalue().startswith("Log in as demo@example.com with password ")
    workspace = User.objects.get(email="demo@example.com").memberships.get().workspace
    workflows = list(Workflow.objects.for_workspace(workspace).order_by("pk"))
    assert [w.name for w in workflows] == [
        "Welcome a VIP (example)",
        "Look up each buyer (example)",
    ]
    for workflow in workflows:
        assert workflow.published_version is not None
        assert errors_of(workflow_problems(workflow=workflow)) == []
    assert not workflows[1].enabled  # enabling registers its webhook, with the server up
    assert workflows[1].published_version.definition["trigger"]["type"] == "klaviyo_webhook"

    call_command("demo_setup", stdout=StringIO())  # again: nothing more is made
    assert Workflow.objects.for_workspace(workspace).count() == 2
