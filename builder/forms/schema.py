"""Render an HTML form from a JSON Schema (the editor's step inputs, Run now's trigger fields).

`builder.forms.reading` reads the posted form back; `builder.forms.widgets` decides each
field's widget for both. HTML is built with f-strings and `escape` rather than templates: the
largest action forms have hundreds of fields, and must render in a few milliseconds
(benchmarks/bench_editor.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from jsonschema import Draft202012Validator

from builder.engine.schemas import json_type, kinds
from builder.forms.conditions import render_condition
from builder.forms.widgets import (
    MISSING,
    Chip,
    concrete,
    enum_of,
    field_id,
    is_reference,
    label_of,
    simple,
    text_of,
    token,
    widget_of,
)

_DATETIME_UTC = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z$")
_TEXTAREA_NAMES = re.compile(r"(html|body|content|message|definition|text|description)")
_INPUT_TYPES = {"email": "email", "uri": "url", "date": "date"}

# --- rendering ------------------------------------------------------------------------------


def _attrs(**values: Any) -> str:
    out = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        out.append(f" {name}" if value is True else f' {name}="{escape(str(value))}"')
    return "".join(out)


class FormRenderer:
    """Render the form of one schema; `chips(text)` says what the references in a text mean.

    `prefix` starts every control's name, `id_prefix` every id, `pointer` every field's
    `data-pointer` (so the validator's problems, `/input/list_id`, find their field).
    `mapping` adds an Insert data button to every field.
    """

    def __init__(
        self,
        *,
        prefix: str = "in",
        id_prefix: str = "f",
        pointer: str = "/input",
        mapping: bool = True,
        chips: Callable[[str], list[Chip]] | None = None,
    ) -> None:
        self.prefix = prefix
        self.id_prefix = id_prefix
        self.pointer = pointer
        self.mapping = mapping
        self.chips = chips

    # The whole form ---------------------------------------------------------------------------

    def form(self, schema: Mapping[str, Any], value: Any) -> SafeString:
        """Return the fields of an object schema filled with `value`: required ones first,
        then the others under "More options"."""
        value = value if isinstance(value, dict) else {}
        schema = dict(schema)
        properties = schema.get("properties") or {}
        if not properties:  # a free-form input: name–value rows, or JSON when not all text
            return mark_safe(self._field("", schema, value or MISSING, "Fields", False, 0))  # noqa: S308
        required = set(schema.get("required") or ())
        groups = _alternatives(schema)
        in_groups = {name for group in groups for name in group}
        head: list[str] = []
        if groups:
            head.append(self._alternative_choice(groups, value, properties))
        first = [name for name in properties if name in required or name in in_groups]
        rest = [name for name in properties if name not in first]
        for name in first:
            group = next((i for i, g in enumerate(groups) if name in g), None)
            html = self._property(name, properties[name], value, name in required, 0)
            head.append(html if group is None else f'<div data-alternative="{group}">{html}</div>')
        if rest:
            filled = any(name in value for name in rest)
            head.append(
                f'<details class="more-options"{" open" if filled else ""}>'
                f"<summary>More options <small>({len(rest)})</small></summary>"
                + "".join(self._property(name, properties[name], value, False, 0) for name in rest)
                + "</details>"
            )
        return mark_safe("".join(head))  # noqa: S308 - every value is escaped above

    def _alternative_choice(self, groups: list[list[str]], value: dict, properties: dict) -> str:
        chosen = next(
            (i for i, group in enumerate(groups) if all(name in value for name in group)), 0
        )
        name = f"ui-{self.id_prefix}-alt"
        options = "".join(
            f'<label class="radio"><input type="radio" name="{escape(name)}" value="{i}"'
            f"{' checked' if i == chosen else ''} data-alternative-choice>"
            f" by {escape(' and '.join(label_of(n, properties.get(n)).lower() for n in group))}"
            "</label>"
            for i, group in enumerate(groups)
        )
        return f'<fieldset class="alternatives"><legend>Choose how</legend>{options}</fieldset>'

    def _property(self, name: str, schema: Any, parent: dict, required: bool, depth: int) -> str:
        segment = token(name)
        value = parent.get(name, MISSING) if isinstance(parent, dict) else MISSING
        return self._field(segment, schema, value, label_of(name, schema), required, depth)

    # One field --------------------------------------------------------------------------------

    def _field(
        self, path: str, schema: Any, value: Any, label: str, required: bool, depth: int
    ) -> str:
        widget = widget_of(schema, depth)
        one = simple(schema) or {}
        if is_reference(value) and widget not in ("text", "file"):
            return self._mapped(path, schema, value, label, required, widget)
        if widget == "object":
            return self._object(path, one, value, label, required, depth)
        if widget == "items":
            return self._items(path, one, value, label, required, depth)
        if widget == "rows":
            return self._rows(path, one, value, label, required, depth)
        if widget == "checkset":
            return self._checkset(path, one, value, label, required)
        if widget == "pairs":
            if value is MISSING or (
                isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
            ):
                return self._pairs(path, one, value, label, required)
            widget = "json"
        if widget == "choice":
            return self._choice(path, schema, value, label, required, depth)
        if widget == "condition":
            name, pointer, ident = self._names(path)
            group = None if value is MISSING else value
            return render_condition(group, prefix=name, ident=ident, pointer=pointer, legend=label)
        if widget == "json":
            return self._json(path, schema, value, label, required)
        return self._scalar(path, widget, one, value, label, required)

    def _names(self, path: str) -> tuple[str, str, str]:
        name = f"{self.prefix}/{path}" if path else self.prefix
        pointer = f"{self.pointer}/{path}" if path else self.pointer
        return name, pointer, field_id(self.id_prefix, pointer)

    def _wrap(
        self,
        pointer: str,
        ident: str,
        widget: str,
        label: str,
        required: bool,
        schema: dict,
        control: str,
        *,
        extra: str = "",
        fieldset: bool = False,
    ) -> str:
        mark = ' <abbr class="req" title="required">*</abbr>' if required else ""
        description = schema.get("description") if isinstance(schema, dict) else None
        help_html = f'<p class="help">{escape(description)}</p>' if description else ""
        insert = ""
        if self.mapping:
            insert = (
                f'<button type="button" class="btn btn-small btn-insert" '
                f'data-insert-for="{ident}">Insert data</button>'
            )
        problem = '<p class="field-problem" role="alert" hidden></p>'
        if fieldset:
            return (
                f'<fieldset class="field field-{widget}" data-pointer="{escape(pointer)}" '
                f'id="{ident}"><legend>{escape(label)}{mark}</legend>'
                f'<div class="field-tools">{insert}</div>{help_html}{control}{extra}{problem}'
                "</fieldset>"
            )
        return (
            f'<div class="field field-{widget}" data-pointer="{escape(pointer)}">'
            f'<label for="{ident}">{escape(label)}{mark}</label>'
            f'<div class="control">{control}{insert}</div>{extra}{help_html}{problem}</div>'
        )

    def _chips(self, value: Any) -> str:
        if self.chips is None or not isinstance(value, str) or "{{" not in value:
            return ""
        found = self.chips(value)
        if not found:
            return ""
        return '<p class="chips">' + "".join(_chip(chip) for chip in found) + "</p>"

    def _mapped(
        self, path: str, schema: Any, value: str, label: str, required: bool, widget: str
    ) -> str:
        name, pointer, ident = self._names(path)
        control = (
            f'<input type="hidden"{_attrs(id=ident, name=name, value=value)}>'
            f"{self._chips(value) or _chip(Chip(value, 'data'))}"
            f'<button type="button" class="btn btn-small" data-unmap="{ident}">'
            "Remove mapping</button>"
        )
        return self._wrap(pointer, ident, "mapped", label, required, simple(schema) or {}, control)

    def _placeholder(self, schema: dict) -> str | None:
        examples = schema.get("examples")
        if isinstance(examples, list) and examples and not isinstance(examples[0], dict | list):
            return f"e.g. {text_of(examples[0])}"
        if schema.get("default") is not None:
            return f"Default: {text_of(schema['default'])}"
        return None

    def _scalar(
        self, path: str, widget: str, schema: dict, value: Any, label: str, required: bool
    ) -> str:
        name, pointer, ident = self._names(path)
        text = text_of(value)
        if widget == "enum":
            control = self._select(name, ident, enum_of(schema) or [], value, schema)
        elif widget == "boolean":
            control = self._select(name, ident, [True, False], value, schema)
        elif widget == "file":
            control = self._file(name, ident, text)
        elif widget in ("integer", "number"):
            control = (
                "<input"
                + _attrs(
                    type="number",
                    id=ident,
                    name=name,
                    value=text,
                    min=schema.get("minimum"),
                    max=schema.get("maximum"),
                    step="1" if widget == "integer" else "any",
                    placeholder=self._placeholder(schema),
                    inputmode="numeric" if widget == "integer" else "decimal",
                )
                + ">"
            )
        else:
            control = self._text_input(name, ident, path, schema, text)
        return self._wrap(
            pointer, ident, widget, label, required, schema, control, extra=self._chips(value)
        )

    def _text_input(self, name: str, ident: str, path: str, schema: dict, text: str) -> str:
        placeholder = self._placeholder(schema)
        fmt = schema.get("format")
        if _TEXTAREA_NAMES.search(path.rsplit("/", 1)[-1]) and "{{" not in text and fmt is None:
            return (
                "<textarea"
                + _attrs(id=ident, name=name, rows=3, placeholder=placeholder)
                + f">{escape(text)}</textarea>"
            )
        kind = "text"
        if "{{" not in text:
            if fmt == "date-time" and (not text or _DATETIME_UTC.match(text)):
                kind, text = "datetime-local", text[:-1] if text else ""
            elif fmt in _INPUT_TYPES:
                kind = _INPUT_TYPES[fmt]
        return (
            "<input"
            + _attrs(
                type=kind,
                id=ident,
                name=name,
                value=text,
                step="1" if kind == "datetime-local" else None,
                placeholder=placeholder,
                maxlength=schema.get("maxLength") if schema.get("maxLength", 0) < 100_000 else None,
                autocomplete="off",
                data_format=fmt,
            )
            + ">"
        )

    def _select(self, name: str, ident: str, options: list, value: Any, schema: dict) -> str:
        default = schema.get("default")
        blank = "—" if default is None else f"— default: {text_of(default)} —"
        rows = [f'<option value="">{escape(blank)}</option>']
        chosen = text_of(value) if value is not MISSING else None
        if value is not MISSING and value not in options and not is_reference(value):
            options = [*options, value]  # keep an unknown value visible; the validator names it
        for option in options:
            text = text_of(option)
            shown = (
                {True: "Yes", False: "No"}.get(option, text) if isinstance(option, bool) else text
            )
            selected = " selected" if text == chosen else ""
            rows.append(f'<option value="{escape(text)}"{selected}>{escape(shown)}</option>')
        return f'<select id="{ident}" name="{escape(name)}">{"".join(rows)}</select>'

    def _file(self, name: str, ident: str, text: str) -> str:
        current = ""
        if text:
            size = len(text) * 3 // 4
            current = f'<small class="muted">A file of about {size:,} bytes is attached.</small>'
        return (
            "<input" + _attrs(type="file", id=ident, name=f"{name}/~file", accept="image/*") + ">"
            + "<input" + _attrs(type="hidden", name=name, value=text) + ">"
            + current
        )  # fmt: skip

    def _json(self, path: str, schema: Any, value: Any, label: str, required: bool) -> str:
        name, pointer, ident = self._names(path)
        text = "" if value is MISSING else json.dumps(value, indent=2, ensure_ascii=False)
        rows = min(12, max(3, text.count("\n") + 1))
        control = (
            "<textarea"
            + _attrs(
                id=ident,
                name=f"{name}/~json",
                rows=rows,
                class_="json-box",
                spellcheck="false",
                placeholder="JSON",
            )
            + f">{escape(text)}</textarea>"
        )
        return self._wrap(pointer, ident, "json", label, required, simple(schema) or {}, control)

    def _object(
        self, path: str, schema: dict, value: Any, label: str, required: bool, depth: int
    ) -> str:
        name, pointer, ident = self._names(path)
        value = value if isinstance(value, dict) else {}
        needed = set(schema.get("required") or ())
        properties = schema.get("properties") or {}
        order = [n for n in properties if n in needed] + [n for n in properties if n not in needed]
        inner = "".join(
            self._field(
                f"{path}/{token(n)}" if path else token(n),
                properties[n],
                value.get(n, MISSING),
                label_of(n, properties[n]),
                n in needed,
                depth + 1,
            )
            for n in order
        )
        inner += _map_slot(name)
        return self._wrap(pointer, ident, "object", label, required, schema, inner, fieldset=True)

    def _rows(
        self, path: str, schema: dict, value: Any, label: str, required: bool, depth: int
    ) -> str:
        name, pointer, ident = self._names(path)
        items = schema.get("items") or {}
        values = value if isinstance(value, list) else []
        rows = "".join(
            self._row(path, items, index, item, label, depth) for index, item in enumerate(values)
        )
        blank = self._row(path, items, len(values), MISSING, label, depth)
        template = self._row(path, items, "__i__", MISSING, label, depth)
        control = _rows_control(name, rows + blank, len(values) + 1, template, "Add row")
        return self._wrap(pointer, ident, "rows", label, required, schema, control, fieldset=True)

    def _row(self, path: str, items: Any, index: Any, value: Any, label: str, depth: int) -> str:
        item_path = f"{path}/{index}" if path else str(index)
        name, pointer, ident = self._names(item_path)
        widget = widget_of(items, depth + 1)
        one = simple(items) or {}
        text = text_of(value)
        if widget == "enum":
            control = self._select(name, ident, enum_of(one) or [], value, one)
        elif widget == "boolean":
            control = self._select(name, ident, [True, False], value, one)
        elif widget in ("integer", "number") and not is_reference(value):
            control = "<input" + _attrs(
                type="number", id=ident, name=name, value=text, step="1" if widget == "integer"
                else "any", min=one.get("minimum"), max=one.get("maximum"),
            ) + ">"  # fmt: skip
        else:
            control = self._text_input(name, ident, item_path, one, text)
        number = index + 1 if isinstance(index, int) else ""
        return (
            f'<li class="row" data-pointer="{escape(pointer)}">'
            f'<label class="visually-hidden" for="{ident}">{escape(label)} {number}</label>'
            f"{control}{self._chips(value)}"
            '<button type="button" class="btn btn-small" data-remove-row>Remove</button></li>'
        )

    def _checkset(self, path: str, schema: dict, value: Any, label: str, required: bool) -> str:
        name, pointer, ident = self._names(path)
        options = enum_of(simple(schema.get("items") or {}) or {}) or []
        chosen = [item for item in value if item in options] if isinstance(value, list) else []
        # The chosen ones first, in their order, so the form posts them back in that order.
        ordered = chosen + [option for option in options if option not in chosen]
        boxes = "".join(
            '<label class="check"><input'
            + _attrs(
                type="checkbox",
                name=f"{name}/~set",
                value=text_of(option),
                checked=option in chosen,
            )
            + f"> {escape(text_of(option))}</label>"
            for i, option in enumerate(ordered)
        )
        control = f'<div class="checkset">{boxes}</div>' + _map_slot(name)
        return self._wrap(
            pointer, ident, "checkset", label, required, schema, control, fieldset=True
        )

    def _items(
        self, path: str, schema: dict, value: Any, label: str, required: bool, depth: int
    ) -> str:
        name, pointer, ident = self._names(path)
        items = schema.get("items") or {}
        values = value if isinstance(value, list) else []
        single = label[:-1] if label.endswith("s") else label

        def item(index: Any, data: Any) -> str:
            item_path = f"{path}/{index}" if path else str(index)
            number = index + 1 if isinstance(index, int) else ""
            html = self._field(item_path, items, data, f"{single} {number}", False, depth + 1)
            return (
                f'<li class="row row-item">{html}<button type="button" class="btn btn-small" '
                "data-remove-row>Remove</button></li>"
            )

        rows = "".join(item(index, data) for index, data in enumerate(values))
        if not values:
            rows += item(0, MISSING)
        control = _rows_control(
            name, rows, max(1, len(values)), item("__i__", MISSING), f"Add {single.lower()}"
        )
        return self._wrap(pointer, ident, "items", label, required, schema, control, fieldset=True)

    def _pairs(self, path: str, schema: dict, value: Any, label: str, required: bool) -> str:
        name, pointer, ident = self._names(path)
        pairs = list(value.items()) if isinstance(value, dict) else []

        def pair(index: Any, key: str, text: str) -> str:
            number = index + 1 if isinstance(index, int) else ""
            key_id = f"{ident}-k{index}"
            value_id = f"{ident}-v{index}"
            return (
                f'<li class="row row-pair">'
                f'<label class="visually-hidden" for="{key_id}">{escape(label)} name {number}'
                f'</label><input type="text" id="{key_id}" name="{escape(name)}/~k/{index}" '
                f'value="{escape(key)}" placeholder="name">'
                f'<label class="visually-hidden" for="{value_id}">{escape(label)} value {number}'
                f'</label><input type="text" id="{value_id}" name="{escape(name)}/~v/{index}" '
                f'value="{escape(text)}" placeholder="value">{self._chips(text)}'
                '<button type="button" class="btn btn-small" data-remove-row>Remove</button></li>'
            )

        rows = "".join(pair(i, k, v) for i, (k, v) in enumerate(pairs))
        rows += pair(len(pairs), "", "")
        control = _rows_control(name, rows, len(pairs) + 1, pair("__i__", "", ""), "Add field")
        return self._wrap(pointer, ident, "pairs", label, required, schema, control, fieldset=True)

    def _choice(
        self, path: str, schema: Any, value: Any, label: str, required: bool, depth: int
    ) -> str:
        name, pointer, ident = self._names(path)
        options = concrete(schema)
        chosen = _matching_branch(options, value)
        select = "".join(
            f'<option value="{i}"{" selected" if i == chosen else ""}>'
            f"{escape(_branch_label(option, i))}</option>"
            for i, option in enumerate(options)
        )
        panels = "".join(
            f'<div class="branch" data-branch="{i}"{"" if i == chosen else " hidden"}>'
            + self._field(
                f"{path}/~{i}" if path else f"~{i}",
                option,
                value if i == chosen else MISSING,
                _branch_label(option, i),
                False,
                depth + 1,
            )
            + "</div>"
            for i, option in enumerate(options)
        )
        control = (
            f'<label class="visually-hidden" for="{ident}-kind">{escape(label)}: kind</label>'
            f'<select id="{ident}-kind" name="{escape(name)}/~branch" data-branch-choice>{select}'
            f"</select>{panels}{_map_slot(name)}"
        )
        one = schema if isinstance(schema, dict) else {}
        return self._wrap(pointer, ident, "choice", label, required, one, control, fieldset=True)


def _rows_control(name: str, rows: str, following: int, template: str, add: str) -> str:
    """Return a list of rows, the <template> the page's script adds more from, an add button,
    and the slot that holds a reference when the whole list is mapped."""
    return (
        f'<ol class="rows" data-next="{following}">{rows}</ol>'
        f"<template>{template}</template>"
        f'<button type="button" class="btn btn-small" data-add-row>{escape(add)}</button>'
        + _map_slot(name)
    )


def _map_slot(name: str) -> str:
    """Return the hidden input that holds a reference when Insert data maps a whole field."""
    return f'<input type="hidden" name="{escape(name)}" value="" disabled data-map-slot>'


def _chip(chip: Chip) -> str:
    title = f' title="Sample: {escape(chip.sample)}"' if chip.sample else ""
    return (
        f'<span class="chip"{title}><span class="chip-source">{escape(chip.label)}</span> '
        f'<span class="chip-type">{escape(chip.type)}</span></span>'
    )


def _alternatives(schema: Mapping[str, Any]) -> list[list[str]]:
    """Return the groups of fields an object needs one of (`anyOf` of `required` lists)."""
    options = schema.get("anyOf") or schema.get("oneOf") or []
    groups = []
    for option in options:
        if not isinstance(option, dict) or set(option) != {"required"}:
            return []
        groups.append([name for name in option["required"] if name in schema.get("properties", {})])
    return [group for group in groups if group] if len(groups) > 1 else []


def _branch_label(branch: dict, index: int) -> str:
    if isinstance(branch.get("title"), str):
        return branch["title"]
    for name, prop in (branch.get("properties") or {}).items():
        if isinstance(prop, dict):
            fixed = enum_of(prop)
            if fixed and len(fixed) == 1 and name in (branch.get("required") or ()):
                return f"{label_of(name)}: {text_of(fixed[0])}"
    found = kinds(branch) or {"any"}
    words = {"string": "Text", "integer": "Whole number", "number": "Number", "boolean": "Yes/no"}
    kind = next(iter(sorted(found)))
    if kind == "object":
        names = list(branch.get("properties") or {})[:3]
        return "Object" + (f" ({', '.join(names)})" if names else "")
    if kind == "array":
        return "List"
    return words.get(kind, f"Option {index + 1}")


def _matching_branch(options: list[dict], value: Any) -> int:
    if value is MISSING:
        return 0
    kind = json_type(value)
    fitting = [
        i
        for i, option in enumerate(options)
        if (kinds(option) is None or kind in (kinds(option) or set()))
        or (kind == "integer" and "number" in (kinds(option) or set()))
    ]
    for i in fitting:
        if Draft202012Validator(options[i]).is_valid(value):
            return i
    return fitting[0] if fitting else 0
