"""Klaviyo-looking ids and secrets for sandbox resources.

Klaviyo's ids come in a few families (https://developers.klaviyo.com/en/reference/api_overview):
ULIDs for profiles, campaigns and jobs; six mixed-case characters for lists, segments, metrics,
templates and flows; UUIDs for tags; small numbers for images. Catalog objects and coupons use
ids built from their external ids (see the handlers that create them).
"""

from __future__ import annotations

import hashlib
import secrets
import string
import time
import uuid

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHORT = string.ascii_letters + string.digits
_PUBLIC = string.ascii_uppercase + string.digits

SHORT_ID_TYPES = {"list", "segment", "metric", "template", "flow", "form", "flow-message"}
UUID_TYPES = {"tag", "tag-group"}
NUMERIC_TYPES = {"image", "flow-action", "form-version"}


def ulid(at: float | None = None) -> str:
    """Return a 26-character ULID (48-bit millisecond time + 80 random bits, Crockford base32)."""
    millis = int((time.time() if at is None else at) * 1000)
    value = (millis << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def short_id(length: int = 6) -> str:
    """Return a random mixed-case id like Klaviyo's list ids (`Y6nRLr`)."""
    return "".join(secrets.choice(_SHORT) for _ in range(length))


def new_id(kind: str) -> str:
    """Return a fresh id in the family Klaviyo uses for resources of type `kind`."""
    if kind in SHORT_ID_TYPES:
        return short_id()
    if kind in UUID_TYPES:
        return str(uuid.uuid4())
    if kind in NUMERIC_TYPES:
        return str(secrets.randbelow(9_000_000) + 1_000_000)
    return ulid()


def private_key() -> str:
    """Return a new sandbox private API key (`pk_sandbox_` + 32 hex characters)."""
    return "pk_sandbox_" + secrets.token_hex(16)


def public_key() -> str:
    """Return a new 12-character public key (company id), always starting with `SBX`.

    Klaviyo's are 6 characters, but client endpoints accept writes with the public key alone:
    on a shared install a short key could be guessed and another team's sandbox written to.
    """
    return "SBX" + "".join(secrets.choice(_PUBLIC) for _ in range(9))


def opaque_secret(prefix: str) -> str:
    """Return a random URL-safe secret with a readable prefix (OAuth codes and tokens)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
