"""Step Builder: the Django project package and the workflow builder app."""

from .celery import app as celery_app

__all__ = ["celery_app"]
__version__ = "0.1.0"
