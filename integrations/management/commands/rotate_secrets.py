"""Re-encrypt every stored secret with the first FIELD_ENCRYPTION_KEY (key rotation)."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from integrations.models import Connection


class Command(BaseCommand):
    help = (
        "Re-encrypt stored connection secrets with the newest key. Put the new key first in "
        "FIELD_ENCRYPTION_KEY (new,old), run this, then remove the old key."
    )

    def handle(self, *args, **options) -> None:  # type: ignore[no-untyped-def]
        count = 0
        with transaction.atomic():
            # Loading decrypts with whichever key opens the value; saving encrypts with the first.
            for connection in Connection.objects.select_for_update().only("pk", "secret"):
                connection.save(update_fields=["secret"])
                count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} connection(s).")
