"""Secrets at rest: Fernet encryption with rotation (MultiFernet) and a model field using it.

`FIELD_ENCRYPTION_KEY` holds one or more comma-separated Fernet keys: the first encrypts, every
one decrypts, so a new key can be put in front of the old one and `rotate_secrets` re-encrypts
the stored values before the old key is dropped.
https://cryptography.io/en/latest/fernet/#cryptography.fernet.MultiFernet
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.strip().encode()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be comma-separated Fernet keys (32 url-safe base64 bytes): "
            f"{error}"
        ) from error


def fernet() -> MultiFernet:
    """Return the MultiFernet for the configured keys (read at call time, so tests can swap)."""
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Return the plaintext; raise SecretUnreadable when no configured key opens it."""
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted with the configured FIELD_ENCRYPTION_KEY; "
            "was a key removed before `rotate_secrets` ran?"
        ) from error


def rotate(token: str) -> str:
    """Return `token` re-encrypted with the first (newest) key."""
    return fernet().rotate(token.encode()).decode()


class SecretUnreadable(Exception):
    pass


class EncryptedJSONField(models.TextField):
    """A dict stored as one Fernet token: the database never holds the plaintext.

    Values are decrypted when loaded and encrypted when saved; lookups on the contents are
    impossible by design.
    """

    description = "JSON encrypted with Fernet"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> dict | None:
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> dict:
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(decrypt(value))

    def get_prep_value(self, value: Any) -> str:
        return encrypt(json.dumps(value or {}, sort_keys=True))

    def value_to_string(self, obj: Any) -> str:
        """Serialize (dumpdata) as the encrypted token, never the plaintext."""
        return self.get_prep_value(self.value_from_object(obj))
