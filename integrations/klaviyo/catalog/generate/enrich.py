"""Add what the spec leaves out: formats, shapes and example values of well-known fields.

Klaviyo's spec types every email, URL and compound id as a bare string; the catalog checks them
(`alice@example`, a relative URL or a catalog id without `:::` fail before any HTTP call) and
gives each field with a syntax of its own one valid value in `examples`.
"""

from __future__ import annotations

import copy
from typing import Any

from .filters import describe_filters, example_filter
from .spec import one_line

EXAMPLE_EMAIL = "alice@example.com"
EXAMPLE_PHONE = "+15005550006"
EXAMPLE_DATETIME = "2025-01-01T00:00:00Z"
EXAMPLE_CATALOG_ID = "$custom:::$default:::SAMPLE-1"
E164 = r"^\+[1-9][0-9]{1,14}$"
CATALOG_ID = r"^[^:]+:::[^:]+:::.+$"

_EMAIL_FIELDS = {"email", "from_email", "reply_to_email", "cc_email", "bcc_email", "emails"}
_URL_FIELDS = {"url", "image", "images", "import_from_url", "endpoint_url"}
_CATALOG_ID_FIELDS = {
    "catalog_item_id",
    "catalog_variant_id",
    "catalog_category_id",
    "item_id",
    "item_ids",
    "variant_id",
    "variant_ids",
    "category_id",
    "category_ids",
}
# Ids whose values have a documented shape.
_SHAPED_EXAMPLES = {
    "coupon_code_id": "10OFF-ASD325FHK324UJDOI2M3JNES99",
    "coupon_id": "10OFF",
    "webhook_topic_id": "event:klaviyo.sent_sms",
    "webhook_topic_ids": ["event:klaviyo.sent_sms"],
    "company_id": "ABC123",
}


def _string_part(schema: dict[str, Any]) -> dict[str, Any] | None:
    """Return the schema (or array item schema) that describes the string values."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "string" in kinds:
        return schema
    if "array" in kinds and isinstance(schema.get("items"), dict):
        return _string_part(schema["items"])
    return None


def _example(schema: dict[str, Any], value: Any) -> None:
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "array" in kinds and not isinstance(value, list):
        value = [value]
    schema["examples"] = [value]


def enrich_field(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return `schema` with the format, pattern and example its field name implies."""
    schema = copy.deepcopy(schema)
    _enrich(name, schema, 0)
    return schema


def _enrich(name: str, schema: dict[str, Any], depth: int) -> None:
    # Two levels reach `location.city` and `profiles[].email`; deeper (template definitions)
    # a `url` may legitimately hold template tags, so leave those as the spec has them.
    strings = _string_part(schema)
    if name == "sort" and schema.get("enum") and "examples" not in schema:
        schema["examples"] = [schema["enum"][0]]
    if strings is not None and "enum" not in strings:
        if name in _EMAIL_FIELDS:
            strings["format"] = "email"
            _example(schema, EXAMPLE_EMAIL)
        elif name in _URL_FIELDS or name.endswith("_url"):
            strings["format"] = "uri"
            if name == "endpoint_url":
                strings["pattern"] = "^https://"
            _example(
                schema, "https://example.com/" + ("webhook" if "endpoint" in name else "a.png")
            )
        elif name == "phone_number":
            strings["pattern"] = E164
            _example(schema, EXAMPLE_PHONE)
        elif name in _CATALOG_ID_FIELDS:
            strings["pattern"] = CATALOG_ID
            _example(schema, EXAMPLE_CATALOG_ID)
        elif name in _SHAPED_EXAMPLES:
            schema["examples"] = [_SHAPED_EXAMPLES[name]]
        elif strings.get("format") == "date-time" and "examples" not in schema:
            _example(schema, EXAMPLE_DATETIME)
    if depth >= 2:
        return
    for key, sub in schema.get("properties", {}).items():
        _enrich(key, sub, depth + 1)
    items = schema.get("items")
    if isinstance(items, dict) and items.get("type") == "object":
        _enrich("", items, depth + 1)


def enrich_query(name: str, schema: dict[str, Any], operation: dict[str, Any]) -> None:
    """Describe and exemplify Klaviyo's query parameters (filter, sort, sparse fieldsets, ...)."""
    if name == "filter":
        filters = operation.get("x-klaviyo-filters") or {}
        if filters:
            schema["examples"] = [example_filter(filters)]
            schema["description"] = (
                "Klaviyo filter expression, e.g. "
                + schema["examples"][0]
                + ". "
                + describe_filters(filters)
            )
        schema["minLength"] = 1
    elif name.startswith(("fields_", "additional_fields_")) or name == "include":
        item_enum = schema.get("items", {}).get("enum")
        if item_enum:
            schema["examples"] = [[item_enum[0]]]
            schema["uniqueItems"] = True
        if name.startswith("fields_") and not schema.get("description", "").startswith("Only"):
            resource = name.removeprefix("fields_").replace("_", "-")
            schema["description"] = (
                f"Only return these fields of each {resource} (sparse fieldset)."
            )
        elif name == "include":
            schema["description"] = "Related resources to include in the answer's `included` list."
    elif name == "sort":
        enum = schema.get("enum") or []
        if enum:
            schema["description"] = "Sort order; a leading '-' sorts descending."
            schema["examples"] = [enum[0]]
    elif name == "page_cursor":
        schema["description"] = "Cursor for the next page, from a previous answer's links.next."
    elif name == "page_size":
        schema["description"] = one_line(schema.get("description")) or "Results per page."
