"""Keep secrets out of run data: what Run, StepRun and StepAttempt store passes through here."""

from __future__ import annotations

import re
from typing import Any

#: Klaviyo private keys and bearer tokens, wherever they appear in text.
_SECRETS = re.compile(r"\bpk_[A-Za-z0-9_]{6,}|\bBearer\s+[A-Za-z0-9._~+/=-]{8,}", re.I)
#: Field names whose values are secrets whatever they look like.
_SECRET_NAMES = re.compile(
    r"(api_?key|secret|password|authorization|access_token|refresh_token)", re.I
)


def redact(value: Any) -> Any:
    """Return `value` with secrets masked: keys in text, and values of secret-named fields."""
    if isinstance(value, str):
        return _SECRETS.sub(lambda m: m.group(0)[:3] + "***", value)
    if isinstance(value, dict):
        return {
            name: "***"
            if _SECRET_NAMES.search(str(name)) and isinstance(item, str)
            else redact(item)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
