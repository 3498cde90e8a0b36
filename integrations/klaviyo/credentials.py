"""Credentials for the Klaviyo client: private API keys and OAuth bearer tokens.

A provider answers four questions for the client: which headers authenticate a request, which
public key (company id) client endpoints take, which rate-limit budget the calls draw from, and
whether an expired OAuth token can be refreshed. Secrets never appear in `repr()` and never leave
this module except inside the `Authorization` header.

Header formats: https://developers.klaviyo.com/en/reference/api_overview#authentication
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable


def fingerprint(secret: str) -> str:
    """Return a short, stable SHA-256 fingerprint of `secret` (16 hex characters).

    Safe to log or to use in Redis keys: it identifies a key without revealing it.
    """
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@runtime_checkable
class Credentials(Protocol):
    """What the client needs to know about a Klaviyo connection's credentials."""

    @property
    def public_key(self) -> str | None:
        """The account's public API key (company id) for `/client/` endpoints, if known."""
        ...

    @property
    def bucket_key(self) -> str:
        """Name the rate-limit budget these calls draw from; never a secret."""
        ...

    @property
    def is_oauth(self) -> bool:
        """Tell whether the credentials are an OAuth access token (refreshable)."""
        ...

    def auth_headers(self) -> dict[str, str]:
        """Return the headers that authenticate a `/api/` request."""
        ...

    def refresh(self) -> bool:
        """Try to obtain fresh credentials; return True if a retry may now succeed."""
        ...


class ApiKeyCredentials:
    """Authenticate with a private API key (`Authorization: Klaviyo-API-Key <key>`).

    Private keys draw from their account's shared budget, so the bucket is the account (named by
    the public key when known, else by a fingerprint of the private key).
    """

    __slots__ = ("_private_key", "_public_key")

    def __init__(self, private_key: str, public_key: str | None = None) -> None:
        if not private_key:
            raise ValueError("A Klaviyo private API key is required")
        self._private_key = private_key
        self._public_key = public_key or None

    def __repr__(self) -> str:
        return f"ApiKeyCredentials(fingerprint={fingerprint(self._private_key)!r})"

    @property
    def public_key(self) -> str | None:
        """Return the public key (company id), or None when the connection has none."""
        return self._public_key

    @property
    def bucket_key(self) -> str:
        """Return `account:<public key>` or `key:<fingerprint>` for the account's budget."""
        if self._public_key:
            return f"account:{self._public_key}"
        return f"key:{fingerprint(self._private_key)}"

    @property
    def is_oauth(self) -> bool:
        """Return False: private keys are not refreshable."""
        return False

    def auth_headers(self) -> dict[str, str]:
        """Return the `Klaviyo-API-Key` authorization header."""
        return {"Authorization": f"Klaviyo-API-Key {self._private_key}"}

    def refresh(self) -> bool:
        """Return False: a refused private key stays refused until the user replaces it."""
        return False


class BearerTokenCredentials:
    """Authenticate with an OAuth access token (`Authorization: Bearer <token>`).

    OAuth apps get their own quota per installed app, so `bucket_key` must name the install
    (e.g. `oauth:<connection id>`); it stays the same when the token is refreshed.
    `refresh_callback` obtains a new access token (and persists it) or returns None when the
    grant is gone; the refresh flow itself lives in `integrations/auth/`.
    """

    def __init__(
        self,
        access_token: str,
        refresh_callback: Callable[[], str | None] | None = None,
        *,
        bucket_key: str,
        public_key: str | None = None,
    ) -> None:
        if not access_token:
            raise ValueError("An OAuth access token is required")
        if not bucket_key:
            raise ValueError("bucket_key must name the OAuth app install")
        self._access_token = access_token
        self._refresh_callback = refresh_callback
        self._bucket_key = bucket_key
        self._public_key = public_key or None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BearerTokenCredentials(bucket_key={self._bucket_key!r})"

    @property
    def public_key(self) -> str | None:
        """Return the public key (company id), or None when the connection has none."""
        return self._public_key

    @property
    def bucket_key(self) -> str:
        """Return the app-install bucket given at construction."""
        return self._bucket_key

    @property
    def is_oauth(self) -> bool:
        """Return True: access tokens expire and can be refreshed."""
        return True

    def auth_headers(self) -> dict[str, str]:
        """Return the `Bearer` authorization header with the current access token."""
        return {"Authorization": f"Bearer {self._access_token}"}

    def refresh(self) -> bool:
        """Call the refresh callback; adopt its token and return True, or return False."""
        if self._refresh_callback is None:
            return False
        with self._lock:
            token = self._refresh_callback()
            if not token:
                return False
            self._access_token = token
            return True
