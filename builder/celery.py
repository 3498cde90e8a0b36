"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "builder.settings")
# Django's system checks run where the site is served (`migrate`, the web server). Run by the
# worker at start they would import every URL, view and the API schema it never uses (~14 MB).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("builder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
