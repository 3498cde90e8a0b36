"""What form widget a JSON Schema gets, and what the form's renderer and reader share.

`builder.forms.schema` renders a schema as a form and `builder.forms.reading` reads the posted
form back; both decide the widget here (`widget_of`), from the schema alone, so what one
writes the other reads. Each control's name is a JSON pointer below a prefix (`in/list_id`,
`in/profile_ids/0`); segments starting with `~` are the form's own (`~json` a JSON box,
`~k`/`~v` key–value rows, `~branch` the chosen alternative, `~file` an upload, `~set` a group
of checkboxes). A value that is exactly one reference (`{{ steps.find.data.data[0].id }}`) is
kept as that text in any field: the validator checks it against the field's type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from builder.engine.references import TemplateSyntaxError, parse_template
from builder.engine.schemas import branches, kinds, without_null

MAX_DEPTH = 4
#: A property whose form would have more fields than this is edited as JSON instead.
MAX_FIELDS = 60
#: Arrays of choices with at most this many options are a group of checkboxes.
MAX_CHECKBOXES = 60
_ACRONYMS = {"id": "ID", "ids": "IDs", "url": "URL", "uri": "URI", "sms": "SMS", "api": "API"}

MISSING: Any = object()


@dataclass(frozen=True)
class FieldError:
    """A posted value that cannot be read (not a number, not JSON); `pointer` names the field."""

    pointer: str
    message: str


@dataclass(frozen=True)
class Chip:
    """What a reference in a field stands for: its source, its type and a sample value."""

    label: str
    type: str
    sample: str = ""


def label_of(name: str, schema: Mapping[str, Any] | None = None) -> str:
    """Return a field's label: its schema title, or its name in words ("list_id" → "List ID")."""
    if isinstance(schema, Mapping) and isinstance(schema.get("title"), str) and schema["title"]:
        return schema["title"]
    words = [_ACRONYMS.get(word, word) for word in re.split(r"[_\s]+", str(name)) if word]
    if not words:
        return str(name)
    first = words[0]
    return " ".join([first[:1].upper() + first[1:], *words[1:]])


def is_reference(value: Any) -> bool:
    """Tell whether `value` is text holding exactly one reference and nothing else."""
    if not isinstance(value, str) or "{{" not in value:
        return False
    stripped = value.strip()
    if not (stripped.startswith("{{") and stripped.endswith("}}")):
        return False
    try:
        return parse_template(stripped).is_single_reference
    except TemplateSyntaxError:
        return False


def field_id(prefix: str, pointer: str) -> str:
    """Return an HTML id for the field at `pointer` (unique within the page for a prefix)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", prefix + pointer.replace("/", "-"))


def token(name: str) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


def untoken(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


# --- what widget a schema gets --------------------------------------------------------------


_MEMO: dict[tuple[str, int, int], tuple[Any, Any]] = {}


def _memo(kind: str, schema: Any, depth: int, compute: Callable[[], Any]) -> Any:
    """Remember `compute()` for this very schema object (the catalog's schemas live as long as
    the process). The entry holds the schema, so its id cannot be reused while it is there."""
    key = (kind, id(schema), depth)
    entry = _MEMO.get(key)
    if entry is not None and entry[0] is schema:
        return entry[1]
    if len(_MEMO) > 100_000:
        _MEMO.clear()
    result = compute()
    _MEMO[key] = (schema, result)
    return result


def concrete(schema: Any) -> list[dict]:
    """Return the schema's non-null alternatives, null taken out of each."""
    return _memo("concrete", schema, 0, lambda: [without_null(b) for b in branches(schema)])


def simple(schema: Any) -> dict | None:
    """Return the one alternative of a schema that has one (a nullable field has one)."""
    options = concrete(schema)
    return options[0] if len(options) == 1 else None


def enum_of(schema: dict) -> list | None:
    values = schema.get("enum")
    if "const" in schema:
        values = [schema["const"]]
    if isinstance(values, list):
        values = [value for value in values if value is not None]
        return values or None
    return None


def widget_of(schema: Any, depth: int = 0) -> str:
    """Return the widget for a schema: text, number, integer, boolean, enum, file, rows,
    checkset, items, object, pairs, choice or json."""
    return _memo("widget", schema, depth, lambda: _widget_of(schema, depth))


def _widget_of(schema: Any, depth: int) -> str:
    one = simple(schema)
    if one is not None and one.get("x-widget") == "condition":
        return "condition"  # a condition group (builtin.stop_if): the run-if builder
    if one is None:
        options = concrete(schema)
        if not options:
            return "json"
        if len({frozenset(kinds(option) or {"any"}) for option in options}) == 1 and all(
            (kinds(option) or set()) <= {"string"} for option in options
        ):
            return "text"  # alternatives of text (formats) read as text
        return "choice" if depth < MAX_DEPTH else "json"
    if one.get("contentEncoding") == "base64":
        return "file"
    if enum_of(one) is not None:
        return "enum"
    found = kinds(one)
    if found is None or len(found) != 1:
        return "text" if found == {"string", "number"} else "json"
    kind = next(iter(found))
    if kind in ("string", "integer", "number", "boolean"):
        return {"string": "text"}.get(kind, kind)
    if depth >= MAX_DEPTH or _size(one) > MAX_FIELDS:
        return "json"
    if kind == "array":
        items = one.get("items")
        item_widget = widget_of(items, depth + 1) if isinstance(items, dict) else "json"
        if item_widget in ("text", "number", "integer", "boolean"):
            return "rows"
        if item_widget == "enum":
            options = enum_of(simple(items) or {}) or []
            return "checkset" if len(options) <= MAX_CHECKBOXES else "rows"
        if item_widget == "object":
            return "items"
        return "json"
    if one.get("properties"):
        return "object"
    return "pairs" if _string_values(one) else "json"


def _string_values(schema: dict) -> bool:
    extra = schema.get("additionalProperties", True)
    if extra is True or extra == {}:
        return True
    return isinstance(extra, dict) and (kinds(without_null(extra)) or set()) <= {"string"}


def _size(schema: dict) -> int:
    """Return about how many fields a form for the schema would have (capped above MAX_FIELDS)."""
    return _memo("size", schema, 0, lambda: _count_fields(schema))


def _count_fields(schema: dict) -> int:
    total = 0
    stack: list[tuple[Any, int]] = [(schema, 0)]
    while stack and total <= MAX_FIELDS:
        node, depth = stack.pop()
        if not isinstance(node, dict) or depth > MAX_DEPTH:
            total += 1
            continue
        for option in concrete(node):
            properties = option.get("properties") or {}
            total += len(properties) or 1
            stack.extend((child, depth + 1) for child in properties.values())
            if isinstance(option.get("items"), dict):
                stack.append((option["items"], depth + 1))
    return total


def text_of(value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
