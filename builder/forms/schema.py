"""Render an HTML form from a JSON Schema, and read the posted form back into a value.

The editor shows every action's input this way, and Run now the trigger's fields. Both halves
decide the widget from the schema alone (plus markers the form posts, such as `~json`), so what
one renders the other reads: a round trip stores exactly the value the form was filled with.

Each control's name is a JSON pointer below a prefix (`in/list_id`, `in/profile_ids/0`); the
segments starting with `~` are the form's own (`~json` a JSON box, `~k`/`~v` key–value rows,
`~branch` the chosen alternative, `~file` an upload, `~set` a group of checkboxes). A value that
is exactly one reference (`{{ steps.find.data.data[0].id }}`) is kept as that text in any field:
the validator checks it against the field's type.

HTML is built with f-strings and `escape` rather than templates: the largest action forms have
hundreds of fields, and must render in a few milliseconds (benchmarks/bench_editor.py).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from jsonschema import Draft202012Validator

from builder.engine.references import TemplateSyntaxError, parse_template
from builder.engine.schemas import branches, json_type, kinds, without_null
from builder.forms.conditions import read_condition, render_condition
from builder.strictjson import JsonRefused, loads

MAX_DEPTH = 4
#: A property whose form would have more fields than this is edited as JSON instead.
MAX_FIELDS = 60
#: Arrays of choices with at most this many options are a group of checkboxes.
MAX_CHECKBOXES = 60
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
_DATETIME_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?$")
_DATETIME_UTC = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z$")
_INTEGER = re.compile(r"^-?\d{1,30}$")
_NUMBER = re.compile(r"^-?\d{1,30}(\.\d{1,30})?([eE][-+]?\d{1,3})?$")
_TEXTAREA_NAMES = re.compile(r"(html|body|content|message|definition|text|description)")
_INPUT_TYPES = {"email": "email", "uri": "url", "date": "date"}
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
    if schema and isinstance(schema.get("title"), str) and schema["title"]:
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
    return prefix + re.sub(r"[^A-Za-z0-9_-]", "_", pointer.replace("/", "-"))


def _token(name: str) -> str:
    return str(name).replace("~", "~0").replace("/", "~1")


def _untoken(segment: str) -> str:
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


def _concrete(schema: Any) -> list[dict]:
    """Return the schema's non-null alternatives, null taken out of each."""
    return _memo("concrete", schema, 0, lambda: [without_null(b) for b in branches(schema)])


def _simple(schema: Any) -> dict | None:
    """Return the one alternative of a schema that has one (a nullable field has one)."""
    options = _concrete(schema)
    return options[0] if len(options) == 1 else None


def _enum(schema: dict) -> list | None:
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
    one = _simple(schema)
    if one is not None and one.get("x-widget") == "condition":
        return "condition"  # a condition group (builtin.stop_if): the run-if builder
    if one is None:
        options = _concrete(schema)
        if not options:
            return "json"
        if len({frozenset(kinds(option) or {"any"}) for option in options}) == 1 and all(
            (kinds(option) or set()) <= {"string"} for option in options
        ):
            return "text"  # alternatives of text (formats) read as text
        return "choice" if depth < MAX_DEPTH else "json"
    if one.get("contentEncoding") == "base64":
        return "file"
    if _enum(one) is not None:
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
            options = _enum(_simple(items) or {}) or []
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
        for option in _concrete(node):
            properties = option.get("properties") or {}
            total += len(properties) or 1
            stack.extend((child, depth + 1) for child in properties.values())
            if isinstance(option.get("items"), dict):
                stack.append((option["items"], depth + 1))
    return total


# --- rendering ------------------------------------------------------------------------------


def _attrs(**values: Any) -> str:
    out = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        name = name.rstrip("_").replace("_", "-")
        out.append(f" {name}" if value is True else f' {name}="{escape(str(value))}"')
    return "".join(out)


def _text(value: Any) -> str:
    if value is None or value is MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


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
        if not properties:
            if widget_of(schema) == "pairs":
                return mark_safe(self._pairs("", schema, value, "Fields", required=False))  # noqa: S308
            return mark_safe(self._field("", schema, value or MISSING, "Input", False, 0))  # noqa: S308
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
        token = _token(name)
        value = parent.get(name, MISSING) if isinstance(parent, dict) else MISSING
        return self._field(token, schema, value, label_of(name, schema), required, depth)

    # One field --------------------------------------------------------------------------------

    def _field(
        self, path: str, schema: Any, value: Any, label: str, required: bool, depth: int
    ) -> str:
        widget = widget_of(schema, depth)
        one = _simple(schema) or {}
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
        return self._wrap(pointer, ident, "mapped", label, required, _simple(schema) or {}, control)

    def _placeholder(self, schema: dict) -> str | None:
        examples = schema.get("examples")
        if isinstance(examples, list) and examples and not isinstance(examples[0], dict | list):
            return f"e.g. {_text(examples[0])}"
        if schema.get("default") is not None:
            return f"Default: {_text(schema['default'])}"
        return None

    def _scalar(
        self, path: str, widget: str, schema: dict, value: Any, label: str, required: bool
    ) -> str:
        name, pointer, ident = self._names(path)
        text = _text(value)
        if widget == "enum":
            control = self._select(name, ident, _enum(schema) or [], value, schema)
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
        blank = "—" if default is None else f"— default: {_text(default)} —"
        rows = [f'<option value="">{escape(blank)}</option>']
        chosen = _text(value) if value is not MISSING else None
        if value is not MISSING and value not in options and not is_reference(value):
            options = [*options, value]  # keep an unknown value visible; the validator names it
        for option in options:
            text = _text(option)
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
        return self._wrap(pointer, ident, "json", label, required, _simple(schema) or {}, control)

    def _object(
        self, path: str, schema: dict, value: Any, label: str, required: bool, depth: int
    ) -> str:
        _, pointer, ident = self._names(path)
        value = value if isinstance(value, dict) else {}
        needed = set(schema.get("required") or ())
        properties = schema.get("properties") or {}
        order = [n for n in properties if n in needed] + [n for n in properties if n not in needed]
        inner = "".join(
            self._field(
                f"{path}/{_token(n)}" if path else _token(n),
                properties[n],
                value.get(n, MISSING),
                label_of(n, properties[n]),
                n in needed,
                depth + 1,
            )
            for n in order
        )
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
        one = _simple(items) or {}
        text = _text(value)
        if widget == "enum":
            control = self._select(name, ident, _enum(one) or [], value, one)
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
        options = _enum(_simple(schema.get("items") or {}) or {}) or []
        chosen = [item for item in value if item in options] if isinstance(value, list) else []
        # The chosen ones first, in their order, so the form posts them back in that order.
        ordered = chosen + [option for option in options if option not in chosen]
        boxes = "".join(
            '<label class="check"><input'
            + _attrs(
                type="checkbox",
                id=ident if i == 0 else None,
                name=f"{name}/~set",
                value=_text(option),
                checked=option in chosen,
            )
            + f"> {escape(_text(option))}</label>"
            for i, option in enumerate(ordered)
        )
        control = (
            f'<div class="checkset">{boxes}</div>'
            f'<input type="hidden" name="{escape(name)}" value="" disabled data-map-slot>'
        )
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
            first = ' id="' + ident + '"' if index == 0 else ""
            return (
                f'<li class="row row-pair"><span{first}></span>'
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
        options = _concrete(schema)
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
            f'<label class="visually-hidden" for="{ident}">{escape(label)}: kind</label>'
            f'<select id="{ident}" name="{escape(name)}/~branch" data-branch-choice>{select}'
            f"</select>{panels}"
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
        f'<input type="hidden" name="{escape(name)}" value="" disabled data-map-slot>'
    )


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
            fixed = _enum(prop)
            if fixed and len(fixed) == 1 and name in (branch.get("required") or ()):
                return f"{label_of(name)}: {_text(fixed[0])}"
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
        one = _simple(schema) or {}
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
            options = _enum(_simple(one.get("items") or {}) or {}) or []
            by_text = {_text(option): option for option in options}
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
            token = _token(name)
            value = self.field(sub, node.child(token), f"{pointer}/{token}", depth + 1)
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
        options = _concrete(schema)
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
            for option in _enum(schema) or []:
                if _text(option) == text:
                    return option
            return text
        stripped = text.strip()
        if _INTEGER.match(stripped):
            return int(stripped)
        if widget == "number" and _NUMBER.match(stripped):
            return float(stripped)
        word = "a whole number" if widget == "integer" else "a number"
        return self.fail(pointer, f"Enter {word} here (or map data with Insert data).")
