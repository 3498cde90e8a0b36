"""Write-side functions for sandbox accounts (the connections page and commands call these)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.models import (
    SandboxAccount,
    SandboxLink,
    SandboxRateCounter,
    SandboxResource,
)
from integrations.klaviyo_sandbox.seed.demo import account_basics, seed_account


def _new_public_key() -> str:
    for _ in range(50):
        candidate = ids.public_key()
        if not SandboxAccount.objects.filter(public_key=candidate).exists():
            return candidate
    raise RuntimeError("Could not find a free sandbox public key")


def sandbox_account_create(
    *, name: str, seed: bool = True, created_by_id: int | None = None
) -> tuple[SandboxAccount, str]:
    """Create an isolated sandbox account (with demo data when `seed`); return it and its key.

    The private key is returned once and stored only as a SHA-256 hash. A person may hold at
    most `KLAVIYO_SANDBOX_MAX_PER_WORKSPACE` accounts, however they made them (a sandbox
    connection, the OAuth consent page): raise ValidationError past that.
    """
    limit = settings.KLAVIYO_SANDBOX_MAX_PER_WORKSPACE
    if created_by_id is not None and (
        SandboxAccount.objects.filter(created_by_id=created_by_id).count() >= limit
    ):
        raise ValidationError(
            f"You already have {limit} sandbox accounts; disconnect one you no longer use, "
            "or reset one to start again."
        )
    api_key = ids.private_key()
    for attempt in range(3):
        try:
            with transaction.atomic():
                account = SandboxAccount.objects.create(
                    name=name,
                    api_key_hash=ids.digest(api_key),
                    api_key_hint=api_key[-4:],
                    public_key=_new_public_key(),
                    created_by_id=created_by_id,
                )
                account_basics(account)
                if seed:
                    seed_account(account)
            return account, api_key
        except IntegrityError:
            if attempt == 2:  # two processes drew the same public key three times: give up
                raise
    raise AssertionError("unreachable")


def sandbox_account_rekey(*, account: SandboxAccount) -> str:
    """Give the account a new private key (the old one stops working); return the new key."""
    api_key = ids.private_key()
    account.api_key_hash = ids.digest(api_key)
    account.api_key_hint = api_key[-4:]
    account.save(update_fields=["api_key_hash", "api_key_hint"])
    return api_key


@transaction.atomic
def sandbox_account_wipe(*, account: SandboxAccount) -> None:
    """Delete every resource, link and rate counter of the account (keys stay valid)."""
    SandboxResource.objects.filter(account=account).delete()
    SandboxLink.objects.filter(account=account).delete()
    SandboxRateCounter.objects.filter(account=account).delete()


@transaction.atomic
def sandbox_account_reset(*, account: SandboxAccount) -> dict[str, int]:
    """Wipe the account and seed the demo store again; return the seeded counts."""
    sandbox_account_wipe(account=account)
    account_basics(account)
    return seed_account(account)


def sandbox_account_delete(*, account_id: int) -> None:
    """Delete the account with its data, grants and tokens (they cascade); a no-op if gone."""
    SandboxAccount.objects.filter(pk=account_id).delete()
