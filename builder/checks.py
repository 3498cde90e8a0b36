"""System checks of our own, run by `manage.py check --deploy`."""

from __future__ import annotations

from typing import Any

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
