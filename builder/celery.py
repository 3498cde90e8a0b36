"""The Celery application: configured from Django settings (CELERY_*), tasks autodiscovered."""

import os

from celery import Celery, bootsteps, signals
from click import Option

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "builder.settings")
# Django's system checks run where the site is served (`migrate`, the web server). Run by the
# worker at start they would import every URL, view and the API schema it never uses (~14 MB).
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("builder")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class BeatThread(bootsteps.StartStopStep):
    """`celery worker --beat-thread`: run the beat scheduler in a thread of this worker.

    `--beat` forks a second process for it, as large as the worker itself; the embedded
    default (Procfile) runs one worker, whose beat only queues a few periodic tasks.
    """

    label = "Beat thread"

    def __init__(self, parent: object, beat_thread: bool = False, **options: object) -> None:
        self.enabled = beat_thread
        self.service: object = None
        super().__init__(parent, **options)

    def start(self, parent: object) -> None:
        from celery.beat import EmbeddedService

        self.service = EmbeddedService(app, thread=True)
        self.service.start()

    def stop(self, parent: object) -> None:
        if self.service is not None:
            self.service.stop()


app.user_options["worker"].add(
    Option(
        ["--beat-thread"], is_flag=True, default=False, help="Run beat in a thread of this worker."
    )
)
app.steps["worker"].add(BeatThread)


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
