from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "integrations.klaviyo_sandbox"
    label = "klaviyo_sandbox"
    verbose_name = "Klaviyo sandbox"
