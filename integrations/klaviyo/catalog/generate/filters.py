"""Describe and exemplify Klaviyo `filter` expressions from the spec's `x-klaviyo-filters`.

Syntax: https://developers.klaviyo.com/en/docs/filtering_ -- `operator(field,value)`, strings
quoted, datetimes bare, lists in brackets; several expressions separated by commas all apply.
"""

from __future__ import annotations

import json
from typing import Any

# Sample values by filter field, shaped like the real thing.
_SAMPLES: dict[str, Any] = {
    "email": "alice@example.com",
    "phone_number": "+15005550006",
    "external_id": "crm-1001",
    "ids": "$custom:::$default:::SAMPLE-1",
    "item.id": "$custom:::$default:::SAMPLE-1",
    "category.id": "$custom:::$default:::SAMPLE-CATEGORY",
    "coupon.id": "10OFF",
    "profile.id": "01GDDKASAP8TKDDA2GRZDSVP4H",
    "profile_id": "01GDDKASAP8TKDDA2GRZDSVP4H",
    "metric_id": "Vatr8j",
    "campaign_id": "01GMRWDSA0ARTAKE1SFX8JGXAY",
    "flow_id": "XVTP5Q",
    "flow_message_id": "01GMRWDSA0ARTAKE1SFX8JGXAY",
    "id": "Y6nRLr",
    "name": "Newsletter",
    "title": "Shirt",
    "sku": "SKU-1",
    "integration.name": "Shopify",
    "integration.category": "Ecommerce",
    "send_channel": "email",
}
_DATETIME = "2025-01-01T00:00:00Z"
# Preferred order when several fields could illustrate the filter.
_PREFERRED = ("email", "messages.channel", "status", "name", "id", "ids", "metric_id")


def render_value(value: Any, value_type: str, fmt: str | None) -> str:
    """Render one filter argument: strings quoted, datetimes and numbers bare."""
    if value_type == "boolean":
        return "true" if value else "false"
    if fmt == "date-time" or value_type in ("number", "integer"):
        return str(value)
    return json.dumps(value)


def _sample(field: str, spec: dict[str, Any]) -> tuple[Any, str, str | None]:
    value_spec = spec.get("value", {})
    value_type = value_spec.get("type", "string")
    fmt = value_spec.get("format")
    if value_spec.get("enum"):
        return value_spec["enum"][0], value_type, fmt
    if fmt == "date-time":
        return _DATETIME, value_type, fmt
    if value_type == "boolean":
        return True, value_type, fmt
    if value_type in ("number", "integer"):
        return 10, value_type, fmt
    return _SAMPLES.get(field, "example"), value_type, fmt


def example_filter(filters: dict[str, Any]) -> str:
    """Return one valid filter expression for an endpoint's `x-klaviyo-filters`."""
    names = sorted(filters, key=lambda f: (_PREFERRED.index(f) if f in _PREFERRED else 99, f))
    field = names[0]
    spec = filters[field]
    value, value_type, fmt = _sample(field, spec)
    operators = spec.get("operators", {})
    single = operators.get("single", [])
    many = operators.get("list", [])
    if single:
        op = "equals" if "equals" in single else single[0]
        return f"{op}({field},{render_value(value, value_type, fmt)})"
    op = "any" if "any" in many else many[0]
    return f"{op}({field},[{render_value(value, value_type, fmt)}])"


def describe_filters(filters: dict[str, Any]) -> str:
    """Return a one-line summary of which fields and operators an endpoint's filter accepts."""
    parts = []
    for field, spec in filters.items():
        operators = spec.get("operators", {})
        ops = sorted(set(operators.get("single", [])) | set(operators.get("list", [])))
        parts.append(f"{field} ({', '.join(ops)})")
    return "Allowed fields (operators): " + "; ".join(parts) + "."
