"""Authenticate API requests the way Klaviyo does, and check the `revision` header.

* `/api/` routes: `Authorization: Klaviyo-API-Key <private key>` (full access) or
  `Authorization: Bearer <OAuth access token>` (only the granted scopes; write implies read).
* `/client/` routes: the public key as the `company_id` query parameter, nothing else.

See https://developers.klaviyo.com/en/reference/api_overview#authentication.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from integrations.klaviyo_sandbox.api.errors import ApiError, invalid
from integrations.klaviyo_sandbox.ids import digest
from integrations.klaviyo_sandbox.models import SandboxAccount, SandboxOAuthToken

_REVISION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(\.[a-z0-9]+)?$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account, and the OAuth scopes (None means a private key: all)."""

    account: SandboxAccount
    scopes: frozenset[str] | None
    via: str


def _unauthenticated(detail: str, code: str = "not_authenticated") -> ApiError:
    title = "Authentication credentials were not provided."
    if code == "authentication_failed":
        title = "Incorrect authentication credentials."
    return ApiError(401, code, detail, title=title)


def authenticate(request: HttpRequest, op: dict[str, Any]) -> Principal:
    """Return the caller of an operation; raise 401 (who are you?) or 403 (not allowed)."""
    if op["client"]:
        company_id = request.GET.get("company_id", "").strip()
        if not company_id:
            raise _unauthenticated(
                "Client endpoints need your public API key as the company_id query parameter."
            )
        account = SandboxAccount.objects.filter(public_key=company_id).first()
        if account is None:
            raise _unauthenticated(
                f"{company_id!r} is not a valid public API key.", "authentication_failed"
            )
        return Principal(account, None, "public_key")
    header = request.headers.get("Authorization", "").strip()
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if not header or not credential:
        raise _unauthenticated(
            "Missing Authorization header: use 'Klaviyo-API-Key <private key>' or "
            "'Bearer <access token>'."
        )
    if scheme == "Klaviyo-API-Key":
        account = SandboxAccount.objects.filter(api_key_hash=digest(credential)).first()
        if account is None:
            raise _unauthenticated("The private API key is not valid.", "authentication_failed")
        return Principal(account, None, "api_key")
    if scheme.lower() == "bearer":
        principal = _bearer(credential)
        _check_scopes(principal, op)
        return principal
    raise _unauthenticated(f"Unsupported authorization scheme {scheme!r}.", "authentication_failed")


def _bearer(token: str) -> Principal:
    found = (
        SandboxOAuthToken.objects.select_related("account", "parent")
        .filter(token_hash=digest(token), kind=SandboxOAuthToken.Kind.ACCESS)
        .first()
    )
    now = timezone.now()
    if (
        found is None
        or found.revoked_at is not None
        or (found.expires_at is not None and found.expires_at <= now)
        or (found.parent is not None and found.parent.revoked_at is not None)
    ):
        raise _unauthenticated(
            "The access token is invalid, expired or revoked.", "authentication_failed"
        )
    return Principal(found.account, frozenset(found.scope_set), "oauth")


def allows(granted: frozenset[str], scope: str) -> bool:
    """Tell whether granted scopes cover `scope` (a `:write` scope covers its `:read`)."""
    if scope in granted:
        return True
    resource, _, access = scope.partition(":")
    return access == "read" and f"{resource}:write" in granted


def _check_scopes(principal: Principal, op: dict[str, Any]) -> None:
    if principal.scopes is None:
        return
    missing = [scope for scope in op["scopes"] if not allows(principal.scopes, scope)]
    if missing:
        raise ApiError(
            403,
            "permission_denied",
            f"Your token lacks the required scopes: {', '.join(missing)}.",
        )


def check_revision(request: HttpRequest) -> str:
    """Return the `revision` header; raise 400 when it is missing or not YYYY-MM-DD[.suffix]."""
    revision = request.headers.get("revision", "").strip()
    if not revision:
        raise invalid(
            "The revision header is required (e.g. revision: 2026-07-15).", parameter="revision"
        )
    match = _REVISION.match(revision)
    valid = False
    if match:
        try:
            date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            valid = True
        except ValueError:
            valid = False
    if not valid:
        raise invalid(
            f"Invalid revision {revision!r}: use the format YYYY-MM-DD[.suffix].",
            parameter="revision",
        )
    return revision
