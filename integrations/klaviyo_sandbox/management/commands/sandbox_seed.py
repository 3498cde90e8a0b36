"""`python manage.py sandbox_seed [--account-name NAME] [--json-only] [--reset]`.

Create (or, for an existing name, reuse with a fresh private key) a sandbox account with the demo
store. The LAST line printed is always a JSON object with the account's credentials:
`{"api_key": ..., "public_key": ..., "base_path": "/sandbox/klaviyo"}`.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand

from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxResource
from integrations.klaviyo_sandbox.services import (
    sandbox_account_create,
    sandbox_account_rekey,
    sandbox_account_reset,
)

BASE_PATH = "/sandbox/klaviyo"


class Command(BaseCommand):
    help = "Create or re-key a Klaviyo sandbox account filled with demo data; print its keys."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account-name", default="Northwind Outfitters (sandbox)")
        parser.add_argument(
            "--json-only", action="store_true", help="print only the final JSON line"
        )
        parser.add_argument(
            "--reset", action="store_true", help="wipe an existing account's data and reseed it"
        )

    def handle(
        self, *args: Any, account_name: str, json_only: bool, reset: bool, **options: Any
    ) -> None:
        """Seed or reuse the account; report progress unless --json-only; print the JSON."""
        started = time.monotonic()
        account = SandboxAccount.objects.filter(name=account_name).order_by("created_at").first()
        if account is None:
            account, api_key = sandbox_account_create(name=account_name, seed=True)
            action = "Created"
        else:
            empty = not SandboxResource.objects.filter(account=account, type="profile").exists()
            if reset or empty:
                sandbox_account_reset(account=account)
            api_key = sandbox_account_rekey(account=account)
            action = "Reset" if reset else "Reused"
        if not json_only:
            counts = _counts(account)
            summary = ", ".join(f"{n} {kind}" for kind, n in counts.items())
            self.stdout.write(
                f"{action} sandbox account {account.name!r} ({account.public_key}) in "
                f"{time.monotonic() - started:.1f} s: {summary}"
            )
        payload = {"api_key": api_key, "public_key": account.public_key, "base_path": BASE_PATH}
        self.stdout.write(json.dumps(payload))


def _counts(account: SandboxAccount) -> dict[str, int]:
    kinds = ("profile", "list", "segment", "metric", "event", "campaign", "template")
    kinds += ("catalog-item", "catalog-variant", "coupon", "coupon-code", "flow", "tag")
    rows = SandboxResource.objects.filter(account=account)
    return {kind: rows.filter(type=kind).count() for kind in kinds}
