"""Write-side functions for sandbox accounts (the connections page and commands call these)."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from . import ids
from .models import SandboxAccount, SandboxLink, SandboxRateCounter, SandboxResource
from .seed import account_basics, seed_account


def _new_public_key() -> str:
    for _ in range(50):
        candidate = ids.public_key()
        if not SandboxAccount.objects.filter(public_key=candidate).exists():
            return candidate
    raise RuntimeError("Could not find a free sandbox public key")


def sandbox_account_create(*, name: str, seed: bool = True) -> tuple[SandboxAccount, str]:
    """Create an isolated sandbox account (with demo data when `seed`); return it and its key.

    The private key is returned once and stored only as a SHA-256 hash.
    """
    api_key = ids.private_key()
    for attempt in range(3):
        try:
            with transaction.atomic():
                account = SandboxAccount.objects.create(
                    name=name,
                    api_key_hash=ids.digest(api_key),
                    api_key_hint=api_key[-4:],
                    public_key=_new_public_key(),
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
