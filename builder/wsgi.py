"""WSGI entry point (gunicorn builder.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "builder.settings")

browser = get_wsgi_application()

# Webhook deliveries skip the browser middleware (builder/machine.py).
from builder.machine import MachineHandler, routed  # noqa: E402 - needs the app loaded

application = routed(browser, MachineHandler())

# Many request threads deliver webhooks at once here: their runs are written in batches.
from builder.services.runs import writer  # noqa: E402 - needs the app loaded

writer.on = True
