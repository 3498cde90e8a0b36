"""Collect a sandbox account's unsaved demo rows and write them in bulk."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from integrations.klaviyo_sandbox import ids
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxLink, SandboxResource


class Builder:
    """Collect unsaved rows of one account, then write them with `bulk_create`."""

    def __init__(self, account: SandboxAccount, now: datetime, rng: random.Random) -> None:
        self.account = account
        self.now = now
        self.rng = rng
        self.resources: list[SandboxResource] = []
        self.links: list[SandboxLink] = []

    def add(
        self,
        kind: str,
        attributes: dict[str, Any],
        *,
        resource_id: str | None = None,
        relationships: dict[str, Any] | None = None,
        internal: dict[str, Any] | None = None,
        created: datetime | None = None,
    ) -> SandboxResource:
        """Queue a resource and return it (its id is usable at once)."""
        moment = created or self.now
        res = SandboxResource(
            account=self.account,
            type=kind,
            resource_id=resource_id or ids.new_id(kind),
            attributes=attributes,
            relationships=relationships or {},
            internal=internal or {},
            created=moment,
            updated=moment,
        )
        self.resources.append(res)
        return res

    def link(self, src: SandboxResource, rel: str, dst: SandboxResource, at: datetime) -> None:
        """Queue a many-to-many link (`src` holds `dst` in `rel`)."""
        self.links.append(
            SandboxLink(
                account=self.account,
                src_type=src.type,
                src_id=src.resource_id,
                rel=rel,
                dst_type=dst.type,
                dst_id=dst.resource_id,
                created=at,
            )
        )

    def days_ago(self, low: float, high: float) -> datetime:
        """Return a random moment between `high` and `low` days before now."""
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def save(self) -> None:
        """Write every queued row."""
        SandboxResource.objects.bulk_create(self.resources, batch_size=500)
        SandboxLink.objects.bulk_create(self.links, batch_size=500, ignore_conflicts=True)
