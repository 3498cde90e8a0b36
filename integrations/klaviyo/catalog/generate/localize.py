"""Make every action's examples self-contained: ids, emails and codes unique to that action.

Klaviyo's documentation reuses a handful of sample ids (list `Y6nRLr`, campaign
`01GMRWDSA0ARTAKE1SFX8JGXAY`, ...) across operations. Examples that share them cannot all run
against one account: deleting list `Y6nRLr` breaks every later read of it. So each sample value
is replaced by one derived from a hash of the action key, the field and the value, in the shape
Klaviyo gives that kind of id. The sandbox's showcase seeding (`sandbox/seed_showcase.py`) then
creates exactly the resources the examples name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ..examples import generate_input

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_SHORT = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_UUIDISH = re.compile(r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$")
_SHORT_ID = re.compile(r"^[A-Za-z0-9]{6}$")
_NUMERIC = re.compile(r"^[0-9]{1,9}$")
_CATALOG = "$custom:::$default:::"
_PROFILE_IDENTIFIERS = ("email", "phone_number", "external_id", "anonymous_id", "profile_id")
# Fields whose value must be unique in an account (Klaviyo answers 409 for a second one).
_UNIQUE_TEXT = ("external_id", "unique_code")
# Ids of a type the value alone does not tell: shape by the field that holds them.
_PLACEHOLDER_SHAPES = {"group_ids": "short", "resource_ids": "ulid"}


def _digest(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256(":".join(parts).encode()).digest()[:16], "big")


def _encode(value: int, alphabet: str, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rest = divmod(value, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


def slug(key: str) -> str:
    """Return the readable part of an action key (`KLAVIYO_CREATE_LIST` -> `create-list`)."""
    return key.removeprefix("KLAVIYO_").lower().replace("_", "-")


class _Localizer:
    """Rewrite the sample values of one action's examples, consistently across its fields."""

    def __init__(self, key: str, samples: set[str]) -> None:
        self.key = key
        self.samples = samples
        self.emails: dict[str, str] = {}

    def value(self, value: Any, field: str, leaf: str = "", parent: Any = None) -> Any:
        if isinstance(value, dict):
            return {k: self.value(v, field, k, value) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, field, leaf, parent) for v in value]
        if not isinstance(value, str):
            return value
        return self.string(value, field, leaf, parent)

    def string(self, value: str, field: str, leaf: str, parent: Any) -> str:
        seed = (self.key, field, value)
        if "@" in value and "." in value.rsplit("@", 1)[-1] and " " not in value:
            return self.email(value)
        if field == "company_id":
            # The client always sends the connection's public key here.
            return value
        if leaf == "unique_code":
            return value[:10] + _encode(_digest(*seed), _CROCKFORD, 6)
        if leaf == "external_id" and "COUPON" in self.key:
            return "C" + _encode(_digest(*seed), _CROCKFORD, 5) + "OFF"
        if leaf == "endpoint_url":
            # One webhook per endpoint is what a marketer expects; keep each action's apart.
            return f"https://example.com/webhooks/{slug(self.key)}"
        if leaf in _UNIQUE_TEXT:
            return self.unique_text(value, *seed)
        if value == "example" and leaf in _PLACEHOLDER_SHAPES:
            shape = _PLACEHOLDER_SHAPES[leaf]
            related = parent.get("related_resource") if isinstance(parent, dict) else None
            if related and related != "campaigns":
                shape = "short"
            return self.shaped(shape, *seed)
        if value not in self.samples or value.startswith("event:"):
            return value
        if value.startswith(_CATALOG):
            return _CATALOG + self.unique_text(value.removeprefix(_CATALOG), *seed)
        if leaf == "coupon_id" or field == "coupon_id":
            return "C" + _encode(_digest(*seed), _CROCKFORD, 5) + "OFF"
        if field.startswith("coupon_code"):
            coupon, _, code = value.partition("-")
            return self.string(coupon, "coupon_id", "coupon_id", None) + "-" + code
        for shape, pattern in (
            ("ulid", _ULID),
            ("uuid", _UUIDISH),
            ("short", _SHORT_ID),
            ("numeric", _NUMERIC),
        ):
            if pattern.match(value):
                return self.shaped(shape, *seed)
        if value.isalnum():  # other opaque ids (events' 11 characters): same length
            return _encode(_digest(*seed), _SHORT, len(value))
        return value

    def shaped(self, shape: str, *seed: str) -> str:
        number = _digest(*seed)
        if shape == "ulid":
            # Keep the sample's era (first chars are its timestamp) so ids still sort sensibly.
            return "01J" + _encode(number, _CROCKFORD, 23)
        if shape == "uuid":
            text = f"{number:032x}"[-32:]
            return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-a{text[17:20]}-{text[20:32]}"
        if shape == "numeric":
            return str(1_000_000 + number % 9_000_000)
        return _encode(number, _SHORT, 6)

    def unique_text(self, value: str, *seed: str) -> str:
        base = value.rsplit("-", 1)[0] if "-" in value else value
        tail = _encode(_digest(*seed), _CROCKFORD, 6)
        return f"{base[:40]}-{tail}" if base else tail

    def email(self, value: str) -> str:
        if value not in self.emails:
            suffix = f"-{len(self.emails) + 1}" if self.emails else ""
            self.emails[value] = f"{slug(self.key)}{suffix}@example.com"
        return self.emails[value]


def sample_values(entries: list[dict[str, Any]], known: dict[str, Any]) -> set[str]:
    """Return every documentation sample id the examples use (values of `*_id` fields)."""
    samples = {str(v) for v in known.values() if isinstance(v, str)}
    for entry in entries:
        for name, schema in entry["input_schema"]["properties"].items():
            if not (name.endswith("_id") or name.endswith("_ids")):
                continue
            for example in schema.get("examples", []):
                for item in example if isinstance(example, list) else [example]:
                    if isinstance(item, str):
                        samples.add(item)
    return samples


def localize_examples(entries: list[dict[str, Any]], known: dict[str, Any]) -> None:
    """Rewrite each action's field and whole-input examples with values unique to the action."""
    samples = sample_values(entries, known)
    for entry in entries:
        schema = entry["input_schema"]
        properties = schema["properties"]
        localizer = _Localizer(entry["key"], samples)
        whole = schema["examples"][0] if schema.get("examples") else generate_input(schema)
        if not any(name in whole for name in _PROFILE_IDENTIFIERS) and "email" in properties:
            # Klaviyo refuses a profile without an identifier: name one in the example.
            whole = {**whole, "email": "alice@example.com"}
        schema["examples"] = [
            {name: localizer.value(value, name, name, whole) for name, value in whole.items()}
        ]
        for name, sub in properties.items():
            if sub.get("examples") and (name.endswith("_id") or name.endswith("_ids")):
                sub["examples"] = [localizer.value(sub["examples"][0], name, name, whole)]
        if "name" in whole and "TAG" in entry["key"]:
            # Tag and tag-group names are unique within their group.
            schema["examples"][0]["name"] = f"{whole['name']} ({slug(entry['key'])})"
