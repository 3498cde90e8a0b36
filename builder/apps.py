from django.apps import AppConfig


class BuilderConfig(AppConfig):
    name = "builder"
    verbose_name = "Step Builder"

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - registers the checks and signal handlers
