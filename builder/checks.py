"""System checks of our own, run by `manage.py check --deploy`."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def keys_come_from_the_environment(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Demand SECRET_KEY and FIELD_ENCRYPTION_KEY from the environment on a shared database.

    Generated keys live in one machine's data folder; another web or worker machine would make
    its own and could not read the secrets the first one stored.
    """
    shared = settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3"
    if shared and not settings.KEYS_FROM_ENVIRONMENT:
        return [
            Error(
                "SECRET_KEY and FIELD_ENCRYPTION_KEY must be set in the environment when the "
                "database is shared: every web and worker machine needs the same keys.",
                hint="See README.md, Production.",
                id="builder.E001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def field_encryption_keys_are_fernet_keys(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Demand that every comma-separated FIELD_ENCRYPTION_KEY is a valid Fernet key.

    A bad key would otherwise show only when the first Klaviyo secret is stored or read. The
    messages name the key's position, never the key.
    """
    errors = []
    for position, key in enumerate(settings.FIELD_ENCRYPTION_KEYS, start=1):
        try:
            Fernet(key.strip().encode())
        except ValueError:  # also binascii.Error, for text that is not base64 at all
            errors.append(
                Error(
                    f"Key {position} of FIELD_ENCRYPTION_KEY is not a valid Fernet key "
                    "(32 url-safe base64-encoded bytes).",
                    hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())' (README.md, Production).",
                    id="builder.E002",
                )
            )
    return errors
