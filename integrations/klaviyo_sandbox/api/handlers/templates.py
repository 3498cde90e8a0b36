"""Templates: render with a context, clone, and hide the non-reusable copies campaigns use.

Rendering substitutes Django/Klaviyo-style variables — `{{ first_name }}`,
`{{ person.first_name|default:'friend' }}`, `{{ event.items.0.name }}` — from the `context`
(https://developers.klaviyo.com/en/reference/render_template). Nothing else of the template
language is evaluated, so rendering can never run code.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from integrations.klaviyo_sandbox.api import store
from integrations.klaviyo_sandbox.api.context import Call, Reply
from integrations.klaviyo_sandbox.api.jsonapi import single
from integrations.klaviyo_sandbox.api.listing import collection
from integrations.klaviyo_sandbox.models import SandboxResource

_VARIABLE = re.compile(
    r"\{\{\s*([A-Za-z_$][\w$.]*)\s*(?:\|\s*default\s*:\s*(['\"])(.*?)\2\s*)?\}\}"
)
RENDERED = ("html", "text", "amp")


def lookup(context: dict[str, Any], path: str) -> Any:
    """Return the context value at a dotted path (`person.first_name`, `items.0.name`)."""
    value: Any = context
    parts = path.split(".")
    if parts[0] == "person" and "person" not in context:
        parts = parts[1:]  # `person.first_name` falls back to a flat `first_name`
    for part in parts:
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and (index := _index(part)) is not None:
            value = value[index] if index < len(value) else None
        else:
            return None
    return value


def _index(part: str) -> int | None:
    # isdecimal, not isdigit: int() refuses "²"; a short one, since int() refuses 4300 digits.
    return int(part) if part.isdecimal() and len(part) <= 18 else None


def render(text: str | None, context: dict[str, Any]) -> str | None:
    """Substitute every `{{ variable }}` in `text`; unknown variables use their default or ''."""
    if text is None:
        return None

    def substitute(match: re.Match[str]) -> str:
        value = lookup(context, match.group(1))
        if value in (None, ""):
            return match.group(3) or ""
        return str(value)

    return _VARIABLE.sub(substitute, text)


def render_template(call: Call) -> Reply:
    """Answer POST /api/template-render: the template with html/text/amp rendered; 201."""
    template = store.require(call.account, "template", call.data["id"], pointer="/data/id")
    context = call.attributes.get("context") or {}
    rendered = SandboxResource(
        account=call.account,
        type="template",
        resource_id=template.resource_id,
        attributes=copy.deepcopy(template.attributes),
        created=template.created,
        updated=template.updated,
    )
    for name in RENDERED:
        if name in rendered.attributes:
            rendered.attributes[name] = render(rendered.attributes[name], context)
    return single(call, rendered, call.op["status"])


def copy_template(
    template: SandboxResource, *, name: str | None, reusable: bool = True
) -> SandboxResource:
    """Store a copy of a template (a campaign's copy is not reusable: not listed)."""
    attrs = copy.deepcopy(template.attributes)
    attrs["name"] = name or f"{attrs.get('name', '')} (Clone)"
    internal = {} if reusable else {"reusable": False}
    return store.create(template.account, "template", attrs, internal=internal)


def clone_template(call: Call) -> Reply:
    """Answer POST /api/template-clone: a copy named `name` (or "<name> (Clone)"); 201."""
    template = store.require(call.account, "template", call.data["id"], pointer="/data/id")
    clone = copy_template(template, name=call.attributes.get("name"))
    return single(call, clone, call.op["status"])


def get_templates(call: Call) -> Reply:
    """Answer GET /api/templates: reusable templates only, like Klaviyo's template library."""
    templates = store.of_type(call.account, "template")
    return collection(call, [t for t in templates if t.internal.get("reusable", True)])
