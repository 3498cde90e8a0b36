"""What the rest of Step Builder may ask of the sandbox: make, reset or delete an account.

This is the sandbox app's only door for the connections app (`integrations/sandbox.py` opens
it when the app is installed); everything behind it (the emulated API, seeding, OAuth) stays
private to the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from integrations.klaviyo_sandbox.models import SandboxAccount
from integrations.klaviyo_sandbox.services import (
    sandbox_account_create,
    sandbox_account_delete,
    sandbox_account_reset,
)


@dataclass(frozen=True)
class NewAccount:
    """A freshly made sandbox account; `api_key` is its private key, shown this once."""

    id: int
    name: str
    public_key: str
    api_key: str


def base_url() -> str:
    """Return where workers reach the sandbox's API (`KLAVIYO_SANDBOX_BASE_URL`)."""
    return settings.KLAVIYO_SANDBOX_BASE_URL


def accounts_created_by(user_id: int | None) -> int:
    """Count the sandbox accounts a person made and still has, through any page."""
    if user_id is None:
        return 0
    return SandboxAccount.objects.filter(created_by_id=user_id).count()


def account_create(*, name: str, user_id: int | None) -> NewAccount:
    """Make an isolated sandbox account filled with the demo store."""
    account, api_key = sandbox_account_create(name=name, seed=True, created_by_id=user_id)
    return NewAccount(
        id=account.pk, name=account.name, public_key=account.public_key, api_key=api_key
    )


def account_reset(*, account_id: int) -> dict[str, int]:
    """Wipe the account and seed the demo store again; return the seeded counts per kind."""
    return sandbox_account_reset(account=SandboxAccount.objects.get(pk=account_id))


def account_delete(*, account_id: int) -> None:
    """Delete the account and all its data; its keys and tokens stop working at once."""
    sandbox_account_delete(account_id=account_id)
