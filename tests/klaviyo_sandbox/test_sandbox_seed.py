"""The demo store: `sandbox_seed` output and reuse, counts, determinism, reset."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import call_command

from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from integrations.klaviyo_sandbox.services import sandbox_account_create, sandbox_account_reset


def demo_profiles(**account: object) -> int:
    """Count the demo store's profiles, leaving out the copies made for the catalog's examples."""
    rows = SandboxResource.objects.filter(type="profile", internal__showcase__isnull=True)
    return rows.filter(**account).count()


def is_example(resource: dict) -> bool:
    """Whether a served resource is a copy made for one catalog action's example."""
    attributes = resource["attributes"]
    return "(example" in str(attributes.get("name")) or str(attributes.get("email")).endswith(
        "@showcase.example.com"
    )


def seed(*args: str) -> list[str]:
    out = StringIO()
    call_command("sandbox_seed", *args, stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.mark.django_db
def test_the_last_line_is_the_json_credentials_and_seeding_is_fast():
    started = time.monotonic()
    lines = seed("--account-name", "Demo shop")
    assert time.monotonic() - started < 10
    credentials = json.loads(lines[-1])
    assert set(credentials) == {"api_key", "public_key", "base_path"}
    assert credentials["base_path"] == "/sandbox/klaviyo"
    assert credentials["api_key"].startswith("pk_sandbox_")
    account = SandboxAccount.objects.get(public_key=credentials["public_key"])
    assert demo_profiles(account=account) == 300
    assert (
        f"{SandboxResource.objects.filter(account=account, type='profile').count()} profile"
        in (lines[0])
    )
    assert account.name == "Demo shop"
    assert len(seed("--account-name", "Demo shop", "--json-only")) == 1


@pytest.mark.django_db
def test_the_same_name_reuses_the_account_with_a_new_key():
    first = json.loads(seed("--account-name", "Reused", "--json-only")[-1])
    second = json.loads(seed("--account-name", "Reused", "--json-only")[-1])
    assert second["public_key"] == first["public_key"]
    assert second["api_key"] != first["api_key"]
    assert SandboxAccount.objects.filter(name="Reused").count() == 1
    assert demo_profiles(account__name="Reused") == 300


def test_the_seeded_store_is_believable_over_http(shop):
    counts = {
        path: len(
            [
                r
                for r in shop.all(path, {"page[size]": 100} if path == "/api/profiles" else None)
                if not is_example(r)
            ]
        )
        for path in (
            "/api/profiles",
            "/api/lists",
            "/api/segments",
            "/api/metrics",
            "/api/flows",
            "/api/tags",
        )
    }
    assert counts == {
        "/api/profiles": 300,
        "/api/lists": 12,
        "/api/segments": 5,
        "/api/metrics": 7,
        "/api/flows": 3,
        "/api/tags": 5,
    }
    metrics = {m["attributes"]["name"] for m in shop.all("/api/metrics")}
    assert {
        "Placed Order",
        "Viewed Product",
        "Opened Email",
        "Clicked Email",
        "Started Checkout",
    } <= metrics
    events = shop.all("/api/events", {"page[size]": 1000})
    assert len(events) > 1500
    oldest = min(e["attributes"]["datetime"] for e in events)
    assert oldest < time.strftime("%Y-%m-%d", time.gmtime(time.time() - 80 * 86400))
    profile = shop.get("/api/profiles", params={"page[size]": 1}).json()["data"][0]["attributes"]
    assert profile["email"].endswith(("example.com", "example.org", "example.net"))
    assert profile["location"]["city"]
    vip = [s for s in shop.all("/api/segments") if s["attributes"]["name"] == "VIP Members"][0]
    members = shop.get(f"/api/segments/{vip['id']}/profiles", params={"page[size]": 100}).json()[
        "data"
    ]
    assert members and all(m["attributes"]["joined_group_at"] for m in members)
    campaigns = shop.get(
        "/api/campaigns", params={"filter": "equals(messages.channel,'email')"}
    ).json()["data"]
    statuses = sorted(c["attributes"]["status"] for c in campaigns if not is_example(c))
    assert statuses == ["Draft", "Sent", "Sent", "Sent"]


@pytest.mark.django_db
def test_seeding_is_deterministic_and_a_reset_restores_the_store():
    one, _ = sandbox_account_create(name="One")
    two, _ = sandbox_account_create(name="Two")
    emails = [
        sorted(
            SandboxResource.objects.filter(account=a, type="profile").values_list(
                "attributes__email", flat=True
            )
        )
        for a in (one, two)
    ]
    assert emails[0] == emails[1]
    SandboxResource.objects.filter(account=one, type="profile").delete()
    counts = sandbox_account_reset(account=one)
    assert counts["profile"] == 300
    assert SandboxResource.objects.filter(account=one, type="webhook-topic").exists()
    assert demo_profiles(account=two) == 300
