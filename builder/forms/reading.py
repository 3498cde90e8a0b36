"""Read a posted form back into the value it holds, guided by the schema it was rendered from
(`builder.forms.schema`): a round trip stores exactly the value the form was filled with.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

from builder.forms.conditions import read_condition
from builder.forms.widgets import (
    MISSING,
    FieldError,
    concrete,
    enum_of,
    is_reference,
    simple,
    text_of,
    token,
    widget_of,
)
from builder.strictjson import JsonRefused, loads

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_DATETIME_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")
_INTEGER = re.compile(r"^-?\d{1,30}$")
_NUMBER = re.compile(r"^-?\d{1,30}(\.\d{1,30})?([eE][-+]?\d{1,3})?$")

# --- reading the posted form back ------------------------------------------------------------


class _Node:
    __slots__ = ("children", "files", "values")

    def __init__(self) -> None:
        self.values: list[str] = []
        self.files: list[Any] = []
        self.children: dict[str, _Node] = {}

    def child(self, segment: str) -> _Node | None:
        return self.children.get(segment)

    @property
    def value(self) -> str | None:
        return self.values[-1] if self.values else None


def _tree(data: Mapping[str, Any], files: Mapping[str, Any] | None, prefix: str) -> _Node:
    root = _Node()
    start = prefix + "/"
    sources: list[tuple[Any, bool]] = [(data, False)]
    if files is not None:
        sources.append((files, True))
    for source, is_file in sources:
        for key in source:
            if key != prefix and not key.startswith(start):
                continue
            node = root
            for segment in key[len(start) :].split("/") if key != prefix else []:
                node = node.children.setdefault(segment, _Node())
            getter = getattr(source, "getlist", None)
            found = getter(key) if getter else [source[key]]
            if is_file:
                node.files.extend(found)
            else:
                node.values.extend(str(item) for item in found)
    return root


def read_form(
    schema: Mapping[str, Any],
    data: Mapping[str, Any],
    files: Mapping[str, Any] | None = None,
    *,
    prefix: str = "in",
    pointer: str = "/input",
) -> tuple[dict[str, Any], list[FieldError]]:
    """Return the object the posted form holds for `schema`, and the fields that could not be
    read. Empty fields are left out; the validator says which required ones are missing."""
    reader = _Reader(data, prefix, pointer)
    schema = dict(schema)
    root = _tree(data, files, prefix)
    if schema.get("properties"):
        value = reader.object(schema, root, pointer)
    else:
        value = reader.field(schema, root, pointer, 0)
    return (value if isinstance(value, dict) else {}), reader.errors


class _Reader:
    def __init__(self, data: Mapping[str, Any], prefix: str, pointer: str) -> None:
        self.data = data
        self.prefix = prefix
        self.base = pointer
        self.errors: list[FieldError] = []

    def fail(self, pointer: str, message: str) -> Any:
        self.errors.append(FieldError(pointer, message))
        return MISSING

    def field(self, schema: Any, node: _Node | None, pointer: str, depth: int) -> Any:
        if node is None:
            return MISSING
        widget = widget_of(schema, depth)
        own = node.value
        if own and is_reference(own) and widget not in ("text", "file"):
            return own.strip()
        if node.child("~json") is not None:
            return self.json(node.children["~json"].value, pointer)
        one = simple(schema) or {}
        if node.child("~k") is not None:
            return self.pairs(node)
        if node.child("~branch") is not None:
            return self.choice(schema, node, pointer, depth)
        if widget == "condition":
            name = self.prefix + pointer[len(self.base) :]
            group, found = read_condition(self.data, name, pointer)
            self.errors.extend(FieldError(e.pointer, e.message) for e in found)
            return MISSING if group is None else group
        if widget == "object":
            return self.object(one, node, pointer, depth)
        if widget in ("rows", "items"):
            return self.list(one, node, pointer, depth)
        if widget == "checkset":
            options = enum_of(simple(one.get("items") or {}) or {}) or []
            by_text = {text_of(option): option for option in options}
            chosen = node.child("~set")
            picked = [by_text.get(text, text) for text in (chosen.values if chosen else [])]
            return picked or MISSING
        if widget == "file":
            upload = node.child("~file")
            if upload is not None and upload.files:
                return self.upload(upload.files[-1], pointer)
        return self.scalar(widget, one, own, pointer)

    def object(self, schema: dict, node: _Node, pointer: str, depth: int = -1) -> Any:
        out = {}
        for name, sub in (schema.get("properties") or {}).items():
            segment = token(name)
            value = self.field(sub, node.child(segment), f"{pointer}/{segment}", depth + 1)
            if value is not MISSING:
                out[name] = value
        return out if out or depth < 0 else MISSING

    def list(self, schema: dict, node: _Node, pointer: str, depth: int) -> Any:
        items = schema.get("items") or {}
        indexes = sorted(
            int(segment) for segment in node.children if segment.isdigit() and len(segment) < 7
        )
        out = []
        for index in indexes:
            value = self.field(items, node.children[str(index)], f"{pointer}/{index}", depth + 1)
            if value is not MISSING:
                out.append(value)
        return out or MISSING

    def pairs(self, node: _Node) -> Any:
        keys = node.children["~k"].children
        values = node.child("~v")
        out = {}
        for index in sorted(keys, key=lambda s: (len(s), s)):
            key = (keys[index].value or "").strip()
            if key:
                found = values.child(index) if values is not None else None
                out[key] = (found.value if found is not None else "") or ""
        return out or MISSING

    def choice(self, schema: Any, node: _Node, pointer: str, depth: int) -> Any:
        options = concrete(schema)
        chosen = node.children["~branch"].value or "0"
        index = int(chosen) if chosen.isdigit() and int(chosen) < len(options) else 0
        return self.field(options[index], node.child(f"~{index}"), pointer, depth + 1)

    def json(self, text: str | None, pointer: str) -> Any:
        if text is None or not text.strip():
            return MISSING
        try:
            return loads(text)
        except (JsonRefused, ValueError) as error:
            return self.fail(pointer, f"Fix the JSON here: {error}.")

    def upload(self, upload: Any, pointer: str) -> Any:
        if upload.size > MAX_UPLOAD_BYTES:
            return self.fail(pointer, "The file is larger than 5 MB; choose a smaller image.")
        return base64.b64encode(upload.read()).decode("ascii")

    def scalar(self, widget: str, schema: dict, text: str | None, pointer: str) -> Any:
        if text is None or text == "":
            return MISSING
        if widget == "text" or widget == "file":
            if schema.get("format") == "date-time" and _DATETIME_LOCAL.match(text):
                return text + (":00Z" if len(text) == 16 else "Z")
            return text
        if is_reference(text):
            return text.strip()
        if widget == "boolean":
            if text in ("true", "false"):
                return text == "true"
            return self.fail(pointer, "Choose Yes or No.")
        if widget == "enum":
            for option in enum_of(schema) or []:
                if text_of(option) == text:
                    return option
            return text
        stripped = text.strip()
        if _INTEGER.match(stripped):
            return int(stripped)
        if widget == "number" and _NUMBER.match(stripped):
            return float(stripped)
        word = "a whole number" if widget == "integer" else "a number"
        return self.fail(pointer, f"Enter {word} here (or map data with Insert data).")
