"""`manage.py klaviyo_actions`: list, search, show, JSON."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


def run(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("klaviyo_actions", *args, stdout=out)
    return out.getvalue()


def test_it_prints_a_table_of_every_action():
    text = run()
    assert text.splitlines()[0].split()[:3] == ["KEY", "TITLE", "CATEGORY"]
    assert "KLAVIYO_ADD_PROFILE_TO_LIST" in text
    assert text.rstrip().endswith("225 actions")


def test_json_lists_the_filtered_actions_with_their_schemas():
    actions = json.loads(run("--category", "Lists", "--search", "profile", "--json"))
    keys = {a["key"] for a in actions}
    assert "KLAVIYO_ADD_PROFILE_TO_LIST" in keys
    assert all(a["category"] == "Lists" for a in actions)
    wanted = {"key", "title", "category", "method", "path", "scopes", "rate_limit"}
    wanted |= {"side_effect", "input_schema", "output_schema"}
    assert all(wanted <= set(a) for a in actions)


def test_show_details_one_action():
    text = run("--show", "KLAVIYO_GET_TAG_RELATIONSHIPS")
    assert "GET /api/tags/{id}/relationships/{related_resource}" in text
    assert "related_resource=tag-group: GET /api/tags/{id}/relationships/tag-group" in text
    assert "Example input:" in text
    shown = json.loads(run("--show", "KLAVIYO_GET_LIST", "--json"))
    assert shown["path"] == "/api/lists/{id}"


def test_unknown_keys_and_categories_are_clear_errors():
    with pytest.raises(CommandError, match="Unknown Klaviyo action"):
        run("--show", "KLAVIYO_NOPE")
    with pytest.raises(CommandError, match="Unknown category"):
        run("--category", "Nope")
