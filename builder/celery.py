"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "builder.settings")
# Django's system checks run where the site is served (`migrate`, the web server). Run by the
# worker at start they would import every URL, view and the API schema it never uses (~14 MB).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("builder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender: object = None, **kwargs: object) -> None:
    """Around every task, drop database connections that broke or outlived CONN_MAX_AGE.

    What Django does around every web request; Celery's own closing is turned off
    (CELERY_DB_REUSE_MAX), so connections are reused across tasks. An eager task (tests) runs
    inside its caller's transaction and leaves the connection alone.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
