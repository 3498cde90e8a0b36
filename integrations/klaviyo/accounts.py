"""Which Klaviyo account a set of credentials reaches (`GET /api/accounts`)."""

from __future__ import annotations

from dataclasses import dataclass

from .client import KlaviyoClient
from .credentials import ApiKeyCredentials
from .errors import KlaviyoAuthError, KlaviyoError


@dataclass(frozen=True)
class AccountInfo:
    id: str
    name: str
    public_key: str
    #: Klaviyo accepted the credentials but would not show the account (no accounts:read).
    limited: bool = False


LIMITED_NOTE = "Klaviyo accepted the key, but it cannot read the account's details."


def account_lookup(client: KlaviyoClient) -> AccountInfo:
    """Ask Klaviyo which account the credentials belong to (GET /api/accounts).

    Raise KlaviyoError when Klaviyo refuses or cannot be reached.
    """
    response = client.send("GET", "/api/accounts", tier="XS")
    rows = (response.data or {}).get("data") or []
    if not rows:
        raise KlaviyoError("Klaviyo answered, but listed no account for these credentials.")
    account = rows[0]
    attributes = account.get("attributes") or {}
    contact = attributes.get("contact_information") or {}
    name = contact.get("organization_name") or contact.get("default_sender_name") or ""
    return AccountInfo(
        id=str(account.get("id", "")),
        name=name or f"Klaviyo account {account.get('id', '')}",
        public_key=attributes.get("public_api_key") or "",
    )


def api_key_verify(*, api_key: str, base_url: str | None = None) -> AccountInfo:
    """Return the account behind `api_key`; raise KlaviyoError with Klaviyo's reason if refused.

    A key without the `accounts:read` scope is valid: Klaviyo answers 403, not 401.
    """
    client = KlaviyoClient(ApiKeyCredentials(api_key), base_url=base_url, max_attempts=2)
    try:
        return account_lookup(client)
    except KlaviyoAuthError as error:
        if error.status != 403:
            raise
        return AccountInfo(id="", name="Klaviyo account", public_key="", limited=True)
