"""The showcase: a seeded account holds what every catalog example names, and nothing more."""

from __future__ import annotations

import pytest

from integrations.klaviyo_sandbox.models import SandboxResource
from integrations.klaviyo_sandbox.seed.showcase import references, showcase_plan
from integrations.klaviyo_sandbox.services import sandbox_account_create, sandbox_account_reset


def test_a_request_names_its_path_id_and_the_ids_in_its_body():
    body = {
        "data": {
            "type": "campaign-message",
            "id": "M1",
            "relationships": {"template": {"data": {"type": "template", "id": "T1"}}},
        }
    }
    assert references("POST", "/api/campaign-message-assign-template", body) == [
        ("campaign-message", "M1", ""),
        ("template", "T1", ""),
    ]
    assert references("PATCH", "/api/campaign-send-jobs/C1", {"data": {"id": "C1"}}) == [
        ("campaign", "C1", "scheduled")
    ]
    metric = {"data": {"type": "metric-aggregate", "attributes": {"metric_id": "M2"}}}
    assert references("POST", "/api/metric-aggregates", metric) == [("metric", "M2", "")]


@pytest.mark.django_db
def test_every_id_an_example_names_exists_after_seeding_and_again_after_a_reset():
    account, _ = sandbox_account_create(name="Showcase")
    plan = showcase_plan()
    assert len(plan) > 150

    def missing() -> list[tuple[str, str]]:
        rows = SandboxResource.objects.filter(account=account)
        have = set(rows.values_list("type", "resource_id"))
        return [ref for ref in plan if ref not in have]

    assert missing() == []
    copies = SandboxResource.objects.filter(account=account, internal__showcase=True)
    assert copies.filter(type="list").exclude(attributes__name__endswith="(example)").count() == 0
    SandboxResource.objects.filter(account=account, internal__showcase=True).delete()
    assert missing()
    sandbox_account_reset(account=account)
    assert missing() == []


@pytest.mark.django_db
def test_ids_no_example_names_still_answer_404(shop):
    assert shop.get("/api/lists/Y6nRLr").status_code == 404
    assert shop.get("/api/campaigns/01GMRWDSA0ARTAKE1SFX8JGXAY").status_code == 404
