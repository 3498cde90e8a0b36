"""Every catalog action, run with its published example input, succeeds on a fresh sandbox.

This is what outside checkers do: seed a sandbox account, then call each of the 225 actions once
through `run_action` over real HTTP, in an order they choose. The examples name ids unique to
their action and the seeding creates exactly those, so no action depends on (or breaks) another.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping

import pytest

from integrations.klaviyo.actions import run_action
from integrations.klaviyo.catalog import all_actions, example_input
from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.credentials import ApiKeyCredentials
from integrations.klaviyo.ratelimit import Tier
from integrations.klaviyo_sandbox.services import sandbox_account_create

pytestmark = pytest.mark.django_db(transaction=True)

SHUFFLE_SEED = 20260715


class NoWait:
    """A rate limiter that never waits: the sandbox's limits are off here, and Klaviyo's
    published XS tier (15/min) would otherwise make one pass over the catalog take minutes."""

    def acquire(self, key: str, tier: str | Tier, *, block: bool = True) -> float:
        return 0.0

    def pause(self, key: str, tier: str | Tier, seconds: float) -> None:
        return None

    def observe(self, key: str, tier: str | Tier, headers: Mapping[str, str]) -> None:
        return None


@pytest.fixture
def fresh_client(live_server) -> Callable[[str], KlaviyoClient]:
    """Return a factory of clients, each for a newly created, seeded sandbox account."""

    def make(name: str) -> KlaviyoClient:
        account, api_key = sandbox_account_create(name=name, seed=True)
        return KlaviyoClient(
            ApiKeyCredentials(api_key, account.public_key),
            base_url=f"{live_server.url}/sandbox/klaviyo",
            rate_limiter=NoWait(),
            max_attempts=1,
        )

    return make


def failures(client: KlaviyoClient, keys: list[str]) -> list[str]:
    """Run each action once with its example input; return `KEY (status): error` per failure."""
    actions = all_actions()
    failed = []
    for key in keys:
        result = run_action(client, key, example_input(actions[key]))
        if not result.successful:
            failed.append(f"{key} ({result.http_status}): {result.error}")
    return failed


def test_every_action_succeeds_with_its_example_in_alphabetical_order(fresh_client):
    keys = sorted(all_actions())
    assert len(keys) == 225
    failed = failures(fresh_client("Showcase A-Z"), keys)
    assert failed == [], f"{len(failed)} of {len(keys)} actions failed:\n" + "\n".join(failed)


def test_every_action_succeeds_with_its_example_in_a_shuffled_order(fresh_client):
    keys = sorted(all_actions())
    random.Random(SHUFFLE_SEED).shuffle(keys)
    failed = failures(fresh_client("Showcase shuffled"), keys)
    assert failed == [], f"{len(failed)} of {len(keys)} actions failed:\n" + "\n".join(failed)
