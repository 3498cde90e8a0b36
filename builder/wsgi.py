"""WSGI entry point (gunicorn builder.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "builder.settings")

application = get_wsgi_application()

# Many request threads deliver webhooks at once here: their runs are written in batches.
from builder.services.runs import writer  # noqa: E402 - needs the app loaded

writer.on = True
