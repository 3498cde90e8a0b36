"""Which steps may be repeated after a crash without doing something twice.

A step whose worker died mid-request may or may not have reached Klaviyo. Repeating it is safe
only when doing it twice equals doing it once: reads, PUT/PATCH/DELETE (idempotent by HTTP's
definition), upserts, and JSON:API relationship additions (adding a member twice is a no-op).
Sends and consent changes are never repeated: the run stops for a person to look.
"""

from __future__ import annotations

from builder.engine.builtins import is_builtin
from integrations.klaviyo.catalog import UnknownAction, get_action


def safe_to_repeat(action_key: str) -> bool:
    """Tell whether running this action again after a crash cannot do harm."""
    if is_builtin(action_key):
        return True  # they reach no one
    try:
        action = get_action(action_key)
    except UnknownAction:
        return False
    if action.side_effect in ("send", "consent"):
        return False
    if action.side_effect == "read" or action.method in ("PUT", "PATCH", "DELETE"):
        return True
    return action.key.startswith("KLAVIYO_CREATE_OR_UPDATE_") or "/relationships/" in action.path
