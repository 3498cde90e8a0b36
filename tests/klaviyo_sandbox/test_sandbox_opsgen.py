"""The committed operation table is complete, deterministic and generated from the spec."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from integrations.klaviyo_sandbox.api import opsgen
from integrations.klaviyo_sandbox.api.operations import OPERATIONS_PATH, operations, table

SHARED = Path(__file__).resolve().parents[3] / "shared"
needs_shared = pytest.mark.skipif(
    not (SHARED / "klaviyo" / "openapi-stable.json").exists(),
    reason="Klaviyo's OpenAPI spec (../shared/klaviyo) is not available",
)


@needs_shared
def test_every_operation_of_the_actions_map_is_in_the_table():
    with (SHARED / "klaviyo" / "actions-map.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    wanted = {op.strip() for row in rows for op in row["operation_ids"].split(",")}
    assert len(rows) == 225
    assert wanted == set(operations())


@needs_shared
def test_regenerating_gives_the_committed_file_byte_for_byte(tmp_path):
    out = tmp_path / "operations.json"
    opsgen.generate(SHARED, out)
    assert out.read_bytes() == OPERATIONS_PATH.read_bytes()
    opsgen.generate(SHARED, out)
    assert out.read_bytes() == OPERATIONS_PATH.read_bytes()


@needs_shared
def test_the_command_reports_what_it_wrote(monkeypatch, tmp_path):
    target = tmp_path / "operations.json"
    monkeypatch.setattr(
        "integrations.klaviyo_sandbox.management.commands.sandbox_opsgen.OPERATIONS_PATH", target
    )
    out = StringIO()
    call_command("sandbox_opsgen", "--shared", str(SHARED), stdout=out)
    assert "235 operations" in out.getvalue()
    assert target.read_bytes() == OPERATIONS_PATH.read_bytes()


def test_entries_carry_what_the_sandbox_checks():
    profiles = operations()["get_profiles"]
    assert profiles["method"] == "GET"
    assert profiles["path"] == "/api/profiles"
    assert profiles["query"]["page"] == {"default": 20, "max": 100}
    assert "email" in profiles["query"]["filters"]
    assert profiles["query"]["filters"]["created"]["format"] == "date-time"
    assert "-created" in profiles["query"]["sort"]
    assert "email" in table()["fields"]["profile"]
    assert profiles["rate_limit"] == {"burst": 75, "steady": 750, "daily": None, "tier": "L"}
    assert profiles["scopes"] == ["profiles:read"]

    create = operations()["create_profile"]
    assert create["status"] == 201
    assert create["body"]["schema"] == {"$ref": "#/$defs/ProfileCreateQuery"}
    assert operations()["add_profiles_to_list"]["kind"] == "relationship_add"
    assert operations()["add_profiles_to_list"]["status"] == 204
    assert operations()["get_campaigns"]["query"]["required"] == ["filter"]
    assert operations()["create_client_event"]["client"] is True
    assert table()["resources"]["list"]["relationships"]["profiles"] == {
        "type": "profile",
        "many": True,
    }
    # No prose or examples: only what validation needs.
    text = OPERATIONS_PATH.read_text()
    assert '"example":' not in text
    assert "developers.klaviyo.com" not in text
