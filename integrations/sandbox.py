"""The built-in Klaviyo sandbox as the connections app sees it: there, or switched off.

With `KLAVIYO_SANDBOX_ENABLED=false` the sandbox app is not installed, its models cannot even be
imported, and nothing here may try: callers ask `sandbox()` and get None.
"""

from __future__ import annotations

from types import ModuleType

from django.apps import apps

SANDBOX_APP = "integrations.klaviyo_sandbox"


def sandbox() -> ModuleType | None:
    """Return the sandbox's adapter module, or None when the sandbox app is not installed."""
    if not apps.is_installed(SANDBOX_APP):
        return None
    # Imported here, not at the top: the module exists on disk even when the app is not
    # installed, and importing its models then fails.
    from integrations.klaviyo_sandbox import adapter

    return adapter
