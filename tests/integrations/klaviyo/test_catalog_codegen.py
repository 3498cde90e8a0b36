"""The catalog generator: deterministic, faithful to the seed, and what is committed."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from integrations.klaviyo import codegen
from integrations.klaviyo.catalog import all_actions, get_action
from integrations.klaviyo.catalog.generate.naming import path_param_name, title_from_key
from integrations.klaviyo.catalog.generate.sources import (
    MAP_FILE,
    SEED_FILE,
    read_map,
    read_seed,
)

SHARED = Path(settings.BASE_DIR).parent / "shared"
needs_shared = pytest.mark.skipif(
    not (SHARED / SEED_FILE).exists(), reason=f"the seed and spec are not in {SHARED}"
)


@pytest.fixture(scope="module")
def seed_actions():
    return read_seed(SHARED / SEED_FILE, set(read_map(SHARED / MAP_FILE)))


@needs_shared
def test_the_catalog_has_exactly_the_seeds_actions(seed_actions):
    assert {a.key for a in seed_actions} == set(all_actions())
    assert len(seed_actions) == 225


@needs_shared
def test_descriptions_are_the_seeds(seed_actions):
    for seed in seed_actions:
        assert get_action(seed.key).description == seed.description


@needs_shared
def test_the_seed_parser_splits_keys_glued_to_capitalised_descriptions(seed_actions):
    by_key = {a.key: a for a in seed_actions}
    assert by_key["KLAVIYO_GET_LIST"].description.startswith("API allows 75 req/sec")
    assert by_key["KLAVIYO_CREATE_CLIENT_EVENT2"].description.startswith("Create a client-side")
    assert by_key["KLAVIYO_GET_WEBHOOK_TOPICS"].params == ()
    assert (
        by_key["KLAVIYO_ADD_PROFILE_TO_LIST"].params[1] == "The ID of the list to add profiles to"
    )


@needs_shared
def test_generation_is_deterministic(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    files, revision = codegen.generate(SHARED)
    codegen.write(files, first, revision)
    again, _ = codegen.generate(SHARED)
    codegen.write(again, second, revision)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


@needs_shared
def test_the_committed_catalog_equals_a_fresh_generation(tmp_path):
    codegen.run(SHARED, tmp_path)
    committed = sorted(codegen.CATALOG_DIR.glob("*.json"))
    assert [p.name for p in committed] == sorted(p.name for p in tmp_path.iterdir())
    for path in committed:
        assert path.read_bytes() == (tmp_path / path.name).read_bytes(), path.name


@needs_shared
def test_the_management_command_checks_the_committed_catalog(capsys):
    call_command("klaviyo_codegen", "--shared", str(SHARED), "--check")
    assert "Catalog up to date: 225 actions" in capsys.readouterr().out


def test_titles_and_path_parameter_names():
    assert title_from_key("KLAVIYO_ADD_PROFILE_TO_LIST") == "Add Profile To List"
    assert path_param_name("/api/lists/{id}/relationships/profiles", "id") == "list_id"
    assert path_param_name("/api/catalog-categories/{id}", "id") == "catalog_category_id"
    assert path_param_name("/api/profile-bulk-import-jobs/{id}/lists", "id") == "job_id"
    assert path_param_name("/api/campaign-send-jobs/{id}", "id") == "campaign_id"
    assert path_param_name("/api/coupon-code-bulk-create-jobs/{job_id}", "job_id") == "job_id"
