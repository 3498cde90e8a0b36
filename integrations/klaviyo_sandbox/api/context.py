"""What a handler gets (`Call`) and what it gives back (`Reply`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from integrations.klaviyo_sandbox.api.query import Query
from integrations.klaviyo_sandbox.models import SandboxAccount


@dataclass
class Call:
    """One authenticated, validated API request, ready for a handler."""

    request: HttpRequest
    account: SandboxAccount
    op: dict[str, Any]
    params: dict[str, str]
    query: Query
    body: Any
    base_url: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> str:
        """Return the `{id}` (or `{job_id}`) path parameter."""
        return self.params["id"]

    @property
    def data(self) -> Any:
        """Return the body's `data` member (None without a body)."""
        return (self.body or {}).get("data") if isinstance(self.body, dict) else None

    @property
    def attributes(self) -> dict[str, Any]:
        """Return `data.attributes` of a single-resource body (`{}` when absent)."""
        data = self.data
        return (data.get("attributes") or {}) if isinstance(data, dict) else {}

    def url(self, path: str) -> str:
        """Return the absolute sandbox URL of an API path (`/api/lists/X/`)."""
        return self.base_url + path

    def self_link(self) -> str:
        """Return the absolute URL of this request, for `links.self`."""
        return self.request.build_absolute_uri()


@dataclass
class DetachedCall(Call):
    """A Call with no request behind it, for rendering resources outside a request.

    Its query is empty (no sparse fieldsets, includes or additional fields), so a resource comes
    out as a plain `GET` of it answers it. `self_link` is the API root: render only resources that
    have their own URL (every type a GET serves), whose `links.self` does not need the request.
    """

    def self_link(self) -> str:
        """Return the API root (there is no request URL)."""
        return self.url("/")


def detached_call(account: SandboxAccount, base_url: str) -> Call:
    """Return a Call for rendering `account`'s resources with links under `base_url`."""
    return DetachedCall(
        request=HttpRequest(),
        account=account,
        op={},
        params={},
        query=Query(),
        body=None,
        base_url=base_url.rstrip("/"),
    )


@dataclass
class Reply:
    """A handler's answer: HTTP status, JSON:API document (None for an empty body), headers."""

    status: int
    document: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def iso(moment: datetime | None) -> str | None:
    """Format a datetime the way Klaviyo does (`2024-05-01T10:00:00+00:00`)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds")
